// The CPU backend's delivery: an interval's spikes through their projections' rows (CSR by
// source) into the ring buffers of their targets' channels, in fixed point, on every thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ifsim/network.hpp"

namespace ifsim::cpu {

// A channel's ring buffer of fixed-point arrivals: those of step t for neuron j are at
// data[(t % slots) * n + j].
struct ring_view {
    std::int64_t* data;
    std::uint64_t slots, n;
};

// One projection's spikes of an interval: neuron[k] fired in step[k], k < num (a population's
// spikes, neuron64, or a generator's, neuron32), for the ring of its target's channel.
struct delivery_batch {
    const built_projection* proj;
    ring_view ring;
    const std::uint64_t* step;
    const std::uint64_t* neuron64;
    const std::uint32_t* neuron32;
    std::size_t num;
};

// Spike k of the interval, from neuron i in step t, adds each synapse's weight to the slot of
// step t + delay of its target. Each thread owns a range of every ring's targets and takes, from
// every row (sorted by target), the synapses in its range: plain adds, no two threads on one
// slot. All projections in one parallel region: one fork and join per interval, however many
// projections (the microcircuit has 64, and intervals of one step). Integer sums, so neither the
// thread count nor the order changes a bit. No add can overflow (the channel's format holds
// every synapse onto a neuron at once); the slot's range is checked again when it is read.
// Returns the synaptic events delivered.
std::uint64_t deliver(const std::vector<delivery_batch>& batches);

}  // namespace ifsim::cpu
