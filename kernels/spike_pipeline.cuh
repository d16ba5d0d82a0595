// Spike recording of one population, drained asynchronously (DESIGN.md principle 7).
//
// A block of steps runs as chunks of `chunk` steps. Per chunk, on the compute stream: the update
// kernels append spikes to one pool through the warp compaction (compaction.cuh), a segmented
// radix sort puts each step's spikes in neuron order (the CPU backend's order) into one of two
// sorted slots, and the per-step counts go to pinned memory; an event marks the chunk done. The
// host then copies the sorted spikes of that chunk on the copy stream into pinned memory and turns
// them into a spike_list, while the compute stream already runs the next two chunks. Nothing waits
// per step; the host waits per chunk only for work queued two chunks earlier.
//
//   compute: | kernels j | sort j -> slot j%2 | counts j | kernels j+1 | sort j+1 -> slot (j+1)%2 | ...
//   copy:                                     | slot j%2 -> pinned |     (host appends chunk j)
//
// The sort of chunk j+2 reuses slot j%2, so it waits for the copy of chunk j (an event). A chunk
// never overflows the pool: chunk * n <= capacity, and a neuron spikes at most once per step.
#pragma once

#include <cuda_runtime.h>

#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <string>

#include "compaction.cuh"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "launch.cuh"
#include "stream_event.cuh"
#include "ifsim/backend.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::cuda {

// end[k] = base[k] + counts[k]: the sort's segment ends.
__global__ inline void segment_ends_kernel(const std::uint64_t* d_base, const std::uint32_t* d_counts,
                                           std::uint64_t* d_end, std::uint32_t steps) {
    const std::uint32_t k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k < steps) d_end[k] = d_base[k] + d_counts[k];
}

template <class Real>
class spike_pipeline {
public:
    // Bytes per pool entry on the device: the pool, the two sorted slots, and the sort's scratch,
    // which holds a third copy (CUB's double-buffer form needs none, but could leave the sorted
    // spikes in the pool, which the next chunk's kernels overwrite before they are copied).
    static constexpr std::size_t device_bytes_per_entry = 4 * (sizeof(std::uint32_t) + sizeof(Real));
    // CUB's segmented sort counts items in int.
    static constexpr std::uint64_t max_capacity = std::numeric_limits<int>::max();

    spike_pipeline(std::uint64_t n, std::uint64_t capacity, const std::string& of)
        : n_(n), capacity_(capacity), of_(of), key_bits_(std::max(1, int(std::bit_width(std::max<std::uint64_t>(n, 2) - 1)))) {
        if (capacity_ < n_ || capacity_ > max_capacity)
            throw runtime_failure("internal error: spike buffer of " + std::to_string(capacity_) + " entries" + of_ +
                                  " for " + std::to_string(n_) + " neurons");
        d_neuron_ = device_buffer<std::uint32_t>(capacity_, "the spike buffer" + of_);
        d_offset_ = device_buffer<Real>(capacity_, "the spike buffer" + of_);
        for (auto& s : slots_) {
            s.d_neuron = device_buffer<std::uint32_t>(capacity_, "the sorted spike buffer" + of_);
            s.d_offset = device_buffer<Real>(capacity_, "the sorted spike buffer" + of_);
        }
    }

    // Most steps one chunk may hold.
    std::uint64_t max_chunk() const { return capacity_ / std::max<std::uint64_t>(n_, 1); }

    // Counters and sort scratch for chunks of up to `steps` steps.
    void reserve(std::uint32_t steps) {
        if (steps <= reserved_) return;
        d_counts_ = device_buffer<std::uint32_t>(steps, "the spike counters" + of_);
        d_base_ = device_buffer<std::uint64_t>(steps, "the spike counters" + of_);
        d_end_ = device_buffer<std::uint64_t>(steps, "the spike counters" + of_);
        for (auto& s : slots_) s.h_counts.reserve(steps, "the spike counters" + of_);
        std::size_t bytes = 0;
        IFSIM_CUDA_CHECK(sort(nullptr, bytes, steps, nullptr), "sizing the spike sort" + of_);
        d_sort_temp_ = device_buffer<unsigned char>(std::max<std::size_t>(bytes, 1), "the spike sort" + of_);
        reserved_ = steps;
    }
    // What reserve(steps) allocates on the device besides the sort's scratch (device_bytes_per_entry
    // counts that), roughly.
    static std::size_t reserve_bytes(std::uint32_t steps) { return std::size_t(steps) * 20; }

    // Where the update kernels append, and delivery reads, a chunk's spikes (the same buffers for
    // every chunk until the next reserve).
    spike_sink<Real> sink() const { return {d_counts_.data(), d_base_.data(), d_neuron_.data(), d_offset_.data(), capacity_}; }

    // Before chunk j's kernels: its counters cleared.
    void begin_chunk(std::uint32_t steps, cudaStream_t compute) {
        if (steps > reserved_) throw runtime_failure("internal error: spike chunk longer than reserved" + of_);
        IFSIM_CUDA_CHECK(cudaMemsetAsync(d_counts_.data(), 0, steps * sizeof(std::uint32_t), compute),
                         "clearing the spike counters" + of_);
    }

    // After chunk j's kernels: sort into slot j % 2, copy the counts, mark the chunk done.
    void end_chunk(std::uint64_t j, std::uint64_t first_step, std::uint32_t steps, cudaStream_t compute) {
        slot& s = slots_[j % 2];
        s.first_step = first_step;
        s.steps = steps;
        IFSIM_CUDA_CHECK(cudaStreamWaitEvent(compute, s.copied.get()), "ordering the spike sort" + of_);
        IFSIM_LAUNCH(segment_ends_kernel, (launch_shape{(steps + 127) / 128, 128}), compute,
                     static_cast<const std::uint64_t*>(d_base_.data()), static_cast<const std::uint32_t*>(d_counts_.data()),
                     d_end_.data(), steps);
        std::size_t bytes = d_sort_temp_.size();
        IFSIM_CUDA_CHECK(sort(d_sort_temp_.data(), bytes, steps, &s, compute), "sorting the spikes" + of_);
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(s.h_counts.data(), d_counts_.data(), steps * sizeof(std::uint32_t),
                                         cudaMemcpyDeviceToHost, compute),
                         "copying the spike counts" + of_);
        IFSIM_CUDA_CHECK(cudaEventRecord(s.computed.get(), compute), "marking a spike chunk" + of_);
    }

    // On the host, chunk j after end_chunk: waits for it, copies its spikes on `copy` and appends
    // them to `out` in step, then neuron order.
    void drain(std::uint64_t j, cudaStream_t copy, spike_list& out) {
        slot& s = slots_[j % 2];
        IFSIM_CUDA_CHECK(cudaEventSynchronize(s.computed.get()), "waiting for a spike chunk" + of_);
        std::uint64_t total = 0;
        for (std::uint32_t k = 0; k < s.steps; ++k) total += s.h_counts[k];
        if (total > capacity_)
            throw runtime_failure("internal error: " + std::to_string(total) + " spikes in a chunk of " +
                                  std::to_string(s.steps) + " steps overflowed the spike buffer" + of_);
        if (total > 0) {
            h_neuron_.reserve(total, "the spikes" + of_);
            h_offset_.reserve(total, "the spikes" + of_);
            IFSIM_CUDA_CHECK(cudaMemcpyAsync(h_neuron_.data(), s.d_neuron.data(), total * sizeof(std::uint32_t),
                                             cudaMemcpyDeviceToHost, copy),
                             "copying the spikes" + of_);
            IFSIM_CUDA_CHECK(cudaMemcpyAsync(h_offset_.data(), s.d_offset.data(), total * sizeof(Real),
                                             cudaMemcpyDeviceToHost, copy),
                             "copying the spikes" + of_);
        }
        IFSIM_CUDA_CHECK(cudaEventRecord(s.copied.get(), copy), "marking a spike copy" + of_);
        IFSIM_CUDA_CHECK(cudaEventSynchronize(s.copied.get()), "waiting for the spike copy" + of_);
        const std::size_t at = out.size();
        out.step.resize(at + total);
        out.neuron.resize(at + total);
        out.offset.resize(at + total);
        std::uint64_t i = 0;
        for (std::uint32_t k = 0; k < s.steps; ++k)
            for (const std::uint64_t end = i + s.h_counts[k]; i < end; ++i) {
                out.step[at + i] = s.first_step + k;
                out.neuron[at + i] = h_neuron_[i];
                out.offset[at + i] = double(h_offset_[i]);
            }
    }

private:
    struct slot {
        device_buffer<std::uint32_t> d_neuron;  // sorted spikes of the chunk
        device_buffer<Real> d_offset;
        pinned_buffer<std::uint32_t> h_counts;  // spikes per step of the chunk
        event_owner computed, copied;
        std::uint64_t first_step = 0;
        std::uint32_t steps = 0;
    };

    // Each step's region of the pool, sorted by neuron index (the only key bits that can be set).
    // With temp null, sizes the scratch for `steps` segments.
    cudaError_t sort(void* temp, std::size_t& bytes, std::uint32_t steps, slot* s, cudaStream_t stream = nullptr) {
        return cub::DeviceSegmentedRadixSort::SortPairs(
            temp, bytes, d_neuron_.data(), s ? s->d_neuron.data() : nullptr, d_offset_.data(),
            s ? s->d_offset.data() : nullptr, int(capacity_), int(steps), d_base_.data(), d_end_.data(), 0, key_bits_,
            stream);
    }

    std::uint64_t n_ = 0, capacity_ = 0;
    std::string of_;
    int key_bits_ = 1;
    std::uint32_t reserved_ = 0;
    device_buffer<std::uint32_t> d_neuron_;  // the pool the kernels append to
    device_buffer<Real> d_offset_;
    device_buffer<std::uint32_t> d_counts_;  // spikes per step of the current chunk
    device_buffer<std::uint64_t> d_base_;    // start of each step's region in the pool
    device_buffer<std::uint64_t> d_end_;     // end of each step's region
    device_buffer<unsigned char> d_sort_temp_;
    std::array<slot, 2> slots_;
    pinned_buffer<std::uint32_t> h_neuron_;  // the chunk being appended
    pinned_buffer<Real> h_offset_;
};

}  // namespace ifsim::cuda
