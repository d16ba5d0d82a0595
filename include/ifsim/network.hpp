// A network ready to run: every projection's connectivity (CSR by source), its synapses' weights
// in fixed point and delays in steps, and the synaptic channels of each target population
// (synapses.hpp). Built once, on the host, from the stateless RNG: identical for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "ifsim/connectivity.hpp"
#include "ifsim/fixed_point.hpp"
#include "ifsim/spec.hpp"

namespace ifsim {

// One kind of synaptic effect on one target population: all projections into it with the same
// synapse kind, tau_syn and E_rev share its state and its ring buffer.
struct synapse_channel {
    synapse_kind kind = synapse_kind::delta;
    double tau_syn_ms = 0.0;     // exp kinds
    double E_rev_mV = 0.0;       // exp_conductance
    fixed_point_format format;   // of the weights and the ring-buffer sums [mV, pA or nS per quantum]
};

struct built_projection {
    std::size_t source = 0, target = 0;  // population indices
    std::size_t channel = 0;             // index into network::channels[target]
    csr conn;
    std::vector<std::int32_t> weight;    // per synapse, in the channel's quanta
    std::vector<std::uint16_t> delay;    // per synapse [steps]; empty when all equal constant_delay
    std::uint16_t constant_delay = 1;    // [steps]

    std::uint16_t delay_of(std::uint64_t synapse) const { return delay.empty() ? constant_delay : delay[synapse]; }
};

struct network {
    std::vector<std::vector<synapse_channel>> channels;  // per population (empty without input)
    std::vector<built_projection> projections;
    std::uint32_t min_delay_steps = 0;  // 0 without projections
    std::uint32_t max_delay_steps = 0;
    std::uint64_t synapses = 0;
    double build_seconds = 0.0;

    bool empty() const { return projections.empty(); }
    // Bytes the stored synapses take: target (4) + weight (4) + delay (2 where heterogeneous).
    double bytes_per_synapse() const;
};

// Throws config_error for a delay above 65535 steps, a fixed-point format that cannot hold a
// channel's worst case, or what connect() rejects.
network build_network(const run_spec& spec);

}  // namespace ifsim
