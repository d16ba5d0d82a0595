// Spike compaction (DESIGN.md principle 7): the spiking lanes of a warp find each other with a
// ballot, reserve a contiguous range with one atomicAdd per warp, and each writes its spike at its
// rank. Spikes land in a per-population pool that holds the steps of a launch back to back:
//
//   pool [0, capacity):  | step 0 of the chunk | step 1 | step 2 | ...
//   d_counts[k]          spikes of step k (the atomic counter the warps add to)
//   d_base[k]            where step k's region starts = d_base[k-1] + d_counts[k-1]
//
// Steps run as consecutive kernels on one stream, so when step k starts, step k-1's count is final
// and its region's end is step k's start: no step needs a fixed-size region, and the pool is
// shared by however many steps the chunk has. Within a step the order is that of the atomics, not
// of the neurons; spike_pipeline.cuh sorts each step by neuron on the device.
//
// A spike whose slot would lie at or beyond `capacity` is not written (a guard: spike_pipeline
// sizes chunks so that this cannot happen, and checks the counts).
#pragma once

#include <cstdint>

namespace ifsim::cuda {

template <class Real>
struct spike_sink {
    std::uint32_t* d_counts;   // spikes per step of the chunk, zeroed before the chunk
    std::uint64_t* d_base;     // start of each step's region in the pool
    std::uint32_t* d_neuron;   // pool: neuron index within the population
    Real* d_offset;            // pool: spike time inside the step as a fraction of dt
    std::uint64_t capacity;    // pool entries
};

// Start of step k's region. Every thread computes it (two cached loads); the one thread told to
// (the first of the population's blocks) also stores it for step k + 1 to read.
template <class Real>
__device__ std::uint64_t region_start(const spike_sink<Real>& sink, std::uint32_t k, bool stores) {
    const std::uint64_t base = k == 0 ? 0 : sink.d_base[k - 1] + sink.d_counts[k - 1];
    if (stores) sink.d_base[k] = base;
    return base;
}

// Called by all 32 lanes of a warp together (the caller's loop is warp-uniform); lanes without a
// spike pass spiked = false.
template <class Real>
__device__ void append_spike(const spike_sink<Real>& sink, std::uint32_t k, std::uint64_t base, bool spiked,
                             std::uint32_t neuron, Real offset) {
    constexpr unsigned all_lanes = 0xffffffffu;
    const unsigned mask = __ballot_sync(all_lanes, spiked);
    if (mask == 0) return;
    const unsigned lane = threadIdx.x & 31u;
    const int leader = __ffs(int(mask)) - 1;  // lowest spiking lane
    std::uint32_t warp_first = 0;
    if (int(lane) == leader) warp_first = atomicAdd(&sink.d_counts[k], std::uint32_t(__popc(mask)));
    warp_first = __shfl_sync(all_lanes, warp_first, leader);
    if (!spiked) return;
    const unsigned rank = unsigned(__popc(mask & ((1u << lane) - 1u)));  // spiking lanes below this one
    const std::uint64_t slot = base + warp_first + rank;
    if (slot < sink.capacity) {
        sink.d_neuron[slot] = neuron;
        sink.d_offset[slot] = offset;
    }
}

}  // namespace ifsim::cuda
