// Networks on the GPU: the synaptic channels a population's update kernel reads (synapses.hpp's
// take_channel, as on the CPU) and the delivery kernel that adds an interval's spikes to the ring
// buffers of their targets (network.hpp, docs/networks.md).
#pragma once

#include <cstdint>

#include "ifsim/cuda_info.hpp"
#include "ifsim/fixed_point.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim::cuda {

// One channel of a target population, as the update kernel sees it; the step's slot comes with
// each launch (update_group.cuh's group_step).
template <class Real>
struct device_channel {
    synapse_kind kind;
    channel_coeffs<Real> coeffs;
    fixed_point_format format;
    std::int64_t* ring;  // slots x n fixed-point sums, the arrivals of step t at (t % slots) * n; null without a ring
    Real* x;          // exp kinds: I [pA] or g [nS] per neuron; null for delta
};

// Most channels a population may have on the GPU (kind x tau_syn x E_rev combinations).
inline constexpr unsigned max_device_channels = unsigned(cuda_max_channels);

template <class Real>
struct channel_set {
    device_channel<Real> channel[max_device_channels];
    unsigned count;
    bool has_current;               // some exp channel: the bias gets I_syn added, as on the CPU
    unsigned long long* d_overflow; // lowest neuron whose slot left its range, or all ones
};

// One projection's synapses on the device: CSR by source.
struct device_projection {
    const std::uint64_t* rows;      // num_sources + 1
    const std::uint32_t* targets;
    const std::int32_t* weights;    // fixed point, the target channel's quanta; null when all equal constant_weight
    // Per synapse [steps], in one byte or in two (the other null); both null when all equal
    // constant_delay.
    const std::uint8_t* delays8;
    const std::uint16_t* delays16;
    std::int32_t constant_weight;
    std::uint16_t constant_delay;
    std::int64_t* ring;             // the target channel's ring
    std::uint64_t slots, n_target;
    unsigned long long* d_events;   // synaptic events delivered, summed
};

// Spike of neuron i in step `now` (mod slots) through `proj`, by the 32 lanes of a warp striding
// over its row. Integer atomics: any order, the same sums.
__device__ inline void deliver_spike(const device_projection& projection, unsigned lane, std::uint32_t i,
                                     std::uint64_t now) {
    // The fields and the row's bounds read once, into registers: across the atomics below the
    // compiler may not assume that global memory it read is unchanged.
    const device_projection proj = projection;
    const std::uint64_t first = proj.rows[i], end = proj.rows[std::uint64_t(i) + 1];  // a generator may have 2^32 neurons
    if (lane == 0) atomicAdd(proj.d_events, (unsigned long long)(end - first));
    for (std::uint64_t s = first + lane; s < end; s += 32) {
        const std::uint64_t d = proj.delays8 ? proj.delays8[s] : proj.delays16 ? proj.delays16[s] : proj.constant_delay;
        const std::uint64_t r = now + d >= proj.slots ? now + d - proj.slots : now + d;
        const std::int32_t w = proj.weights ? proj.weights[s] : proj.constant_weight;
        atomicAdd(reinterpret_cast<unsigned long long*>(proj.ring + r * proj.n_target + proj.targets[s]),
                  static_cast<unsigned long long>(static_cast<long long>(w)));
    }
}

// A source population as an interval's delivery sees it: its spike pool (compaction.cuh) and
// its projections, consecutive in the kernel's projection list.
struct delivery_source {
    const std::uint32_t* neuron;  // the pool: neuron index within the population
    const std::uint64_t* base;    // start of each step's region, by step of the chunk
    const std::uint32_t* counts;  // spikes of each step of the chunk
    unsigned first_projection, num_projections;
};

// The spikes of steps k0 .. k0 + steps - 1 of the chunk (steps first_step + k) of every source
// through each of its projections: one warp per (spike, projection) pair, the pairs of source 0
// first, spike by spike. One launch per interval for the whole network, not one per projection
// (the microcircuit has 64 and intervals of one step).
__global__ inline void deliver_interval_kernel(const delivery_source* sources, unsigned num_sources,
                                               const device_projection* projections, std::uint32_t k0,
                                               std::uint32_t steps, std::uint64_t first_step) {
    const unsigned lane = threadIdx.x & 31u;
    const std::uint64_t warps = (std::uint64_t(gridDim.x) * blockDim.x) / 32;
    std::uint64_t pair = (std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const std::uint32_t last = k0 + steps - 1;
    std::uint64_t before = 0;  // pairs of the sources before this one
    for (unsigned s = 0; s < num_sources; ++s) {
        const delivery_source src = sources[s];
        const std::uint64_t from = src.base[k0], to = src.base[last] + src.counts[last];  // the interval's pool entries
        const std::uint64_t pairs = (to - from) * src.num_projections;
        for (; pair < before + pairs; pair += warps) {
            const std::uint64_t e = from + (pair - before) / src.num_projections;
            const auto p = unsigned((pair - before) % src.num_projections);
            // The step whose region holds entry e: the last k with base[k] <= e.
            std::uint32_t lo = k0, hi = last;
            while (lo < hi) {
                const std::uint32_t mid = (lo + hi + 1) / 2;
                if (src.base[mid] <= e) lo = mid; else hi = mid - 1;
            }
            const device_projection& proj = projections[src.first_projection + p];
            deliver_spike(proj, lane, src.neuron[e], (first_step + lo) % proj.slots);
        }
        before += pairs;
    }
}

// Listed spikes (a generator's): neuron d_neuron[e] in step d_step[e], e < count; one warp per spike.
__global__ inline void deliver_listed_kernel(device_projection proj, const std::uint64_t* d_step,
                                             const std::uint32_t* d_neuron, std::uint64_t count) {
    const unsigned lane = threadIdx.x & 31u;
    const std::uint64_t warps = (std::uint64_t(gridDim.x) * blockDim.x) / 32;
    for (std::uint64_t e = (std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; e < count; e += warps)
        deliver_spike(proj, lane, d_neuron[e], d_step[e] % proj.slots);
}

}  // namespace ifsim::cuda
