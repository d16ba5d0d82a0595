// A network ready to run: every projection's connectivity (CSR by source), its synapses' weights
// in fixed point and delays in steps, and the synaptic channels of each target population
// (synapses.hpp). Built once, from the stateless RNG: identical for any thread count, and whether
// the random parts are drawn on the host or on a GPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ifsim/connectivity.hpp"
#include "ifsim/fixed_point.hpp"
#include "ifsim/random.hpp"
#include "ifsim/spec.hpp"
#include "ifsim/synapse_file.hpp"

namespace ifsim {

// One kind of synaptic effect on one target population: all projections into it with the same
// synapse kind, tau_syn and E_rev share its state and its ring buffer, and so does the
// population's Poisson input where it has that synapse (input_spec).
struct synapse_channel {
    synapse_kind kind = synapse_kind::delta;
    double tau_syn_ms = 0.0;     // exp kinds
    double E_rev_mV = 0.0;       // exp_conductance
    fixed_point_format format;   // of the weights and the ring-buffer sums [mV, pA or nS per quantum]
    bool takes_poisson = false;  // the population's Poisson input feeds it
    double poisson_weight = 0.0;  // [pA or nS] per Poisson input spike, where it does
    // Some projection feeds it, so it has a ring buffer; one only the Poisson input feeds has none
    // (nothing arrives: the backends read its slots as 0).
    bool has_ring = false;
};

// A channel's bytes per target neuron: a ring of `slots` fixed-point sums where projections feed
// it, and an exp channel's state of `real_bytes`.
inline std::size_t channel_bytes_per_neuron(const synapse_channel& c, std::size_t slots, std::size_t real_bytes) {
    return (c.has_ring ? slots * sizeof(std::int64_t) : 0) + (c.kind == synapse_kind::delta ? 0 : real_bytes);
}

// A generator's spikes in step order (ties by neuron): neuron[k] fires in step step[k], so its
// spike time is (step[k] + 1) dt, like a neuron's spike in that step.
struct generator_spikes {
    std::vector<std::uint64_t> step;
    std::vector<std::uint32_t> neuron;

    // The indices [lo, hi) of the spikes in steps [first, last).
    std::pair<std::size_t, std::size_t> between(std::uint64_t first, std::uint64_t last) const;
    // The most spikes one neuron makes in one step (0 without spikes): each arrives, so a
    // synapse from it can carry that many inputs in one step (the fixed-point bound).
    std::uint64_t most_in_one_step() const;
};

// A generator draws its spikes ahead, at most this many (12 bytes each); the config checks it.
inline constexpr std::uint64_t max_generator_spikes = std::uint64_t{1} << 30;
// RNG stream of Poisson generator g (g < 2^16: the config allows at most 65535 generators), above
// the weight and delay streams (synapses.hpp).
inline constexpr std::uint32_t generator_stream_base = 0x40000;

// The spikes generator `g` (the index-th) makes during the run: exact for listed times, the mean
// for a Poisson generator.
double expected_generator_spikes(const generator_spec& g, const simulation_spec& sim);
// The most bytes drawing its schedule holds at once (its spikes as drawn, their order, the
// schedule), for the memory estimate.
double generator_schedule_bytes(const generator_spec& g, const simulation_spec& sim);
// Of those, listed spikes that fall after the run's last step, and so are never sent (0 for a
// Poisson generator, which draws within the run only).
double generator_spikes_after_the_run(const generator_spec& g, const simulation_spec& sim);
// Whether some projection has `g` as its source: build_network draws the spikes of those only.
bool sends_spikes(const run_spec& spec, const generator_spec& g);
// Its spikes in step order (generators.cpp): the listed times rounded to the grid, or each
// neuron's Poisson process from (sim.seed, generator_stream_base + index), spikes that fall in
// the run only.
generator_spikes schedule(const generator_spec& g, const simulation_spec& sim, std::uint32_t index);

struct built_projection {
    std::size_t source = 0, target = 0;  // population indices; source: a generator's when from_generator
    bool from_generator = false;
    std::size_t channel = 0;             // index into network::channels[target]
    csr conn;
    // Per synapse, in the channel's quanta; empty when all equal constant_weight (Brunel's: 4 bytes
    // per synapse fewer to store and to stream per spike).
    uninitialized_vector<std::int32_t> weight;
    // Per synapse [steps]: in one byte where every delay of the projection fits one (at most 255
    // steps, as all of the microcircuit's do), else in two; both empty when all equal constant_delay.
    uninitialized_vector<std::uint8_t> delay8;
    uninitialized_vector<std::uint16_t> delay16;
    std::int32_t constant_weight = 0;    // [quanta]
    std::uint16_t constant_delay = 1;    // [steps]

    std::int32_t weight_of(std::uint64_t synapse) const { return weight.empty() ? constant_weight : weight[synapse]; }
    std::uint16_t delay_of(std::uint64_t synapse) const {
        return !delay8.empty() ? delay8[synapse] : !delay16.empty() ? delay16[synapse] : constant_delay;
    }
};

struct network {
    std::vector<std::vector<synapse_channel>> channels;  // per population (empty without input)
    std::vector<built_projection> projections;
    std::vector<generator_spikes> generators;  // per [[generator]]
    std::uint32_t min_delay_steps = 0;  // 0 without synapses
    std::uint32_t max_delay_steps = 0;
    std::uint64_t synapses = 0;
    std::vector<std::uint64_t> projection_synapses;  // per [[projection]], in config order
    double build_seconds = 0.0;

    // Nothing to deliver: no projections, or only ones without synapses (p = 0, an empty file).
    bool empty() const { return synapses == 0; }
    // Bytes the stored synapses take, per synapse: target (4), weight (4, where weights differ)
    // and delay (1 or 2, where delays differ; 1 where every delay fits a byte).
    double bytes_per_synapse() const;
};

// The channel of `target`'s `channels` that projection `pr` feeds: the one of its synapse kind,
// tau_syn and E_rev, added if new. build_network and the config's check of state records share it.
std::size_t channel_for(std::vector<synapse_channel>& channels, const projection_spec& pr);
// The population's channels: those its projections feed, in projection order, then the one its
// Poisson input feeds where that is new.
std::vector<synapse_channel> channels_onto(const run_spec& spec, const population_spec& pop);
// Whether one weight serves all of pr's synapses, drawn and stored once rather than per synapse.
bool has_one_weight(const projection_spec& pr);
// The neurons of the population or generator `name` (validated: it exists).
std::uint64_t source_size(const run_spec& spec, const std::string& name);

// The index of the population a state record samples, its neurons checked against the population's
// size (config_error otherwise: a run_spec built in code; a config's records are checked as read).
std::size_t recorded_population(const run_spec& spec, const state_record& r);
// The channel of its population that a state record of I_syn or g_syn samples (0 for the others).
std::size_t recorded_channel(const network& net, const run_spec& spec, const state_record& r);

// Where build_network draws connectivity and per-synapse values. This one draws on the host; the
// CUDA backend's draws on the device (kernels/synapse_draws.cu) where it can, the same bits: the
// same Philox words through the same IFSIM_HD code.
class synapse_source {
public:
    virtual ~synapse_source() = default;
    // connect() of connectivity.hpp (never called for from_file).
    virtual csr connect(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
                        bool same_population, std::uint64_t seed, std::uint32_t projection_index) const;
    // out[s] = synapse_value(d, philox4x32_10(make_counter(s, 0), key)) for every s < out.size().
    virtual void draw(const synapse_distribution& d, philox_key key, std::span<double> out) const;
};

// The synapses the file of from_file projection k lists, every row checked as the build checks it
// (config_error naming the projection, file and row).
synapse_table read_projection_file(const run_spec& spec, std::size_t k);
// Each projection's synapse count before anything is drawn: the mean of its rule (exact for every
// rule but pairwise_bernoulli), or a synapse file's rows, the file read whole and every row
// checked as the build will (config_error naming the projection, file and row); with
// `file_delay_steps`, also the longest delay the files list, in steps (1 where none does).
std::vector<double> synapse_counts(const run_spec& spec, double* file_delay_steps = nullptr);
// Throws config_error for a delay above 65535 steps, a fixed-point format that cannot hold a
// channel's worst case, what connect() rejects, or a synapse file that read_synapse_file rejects.
network build_network(const run_spec& spec, const synapse_source& source = synapse_source());

}  // namespace ifsim
