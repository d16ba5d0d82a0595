// The kernels of the device synapse draws (synapse_draws.cu): grid-stride loops over rows or
// synapses that call the host's own samplers (connectivity.hpp) and synapse_value (synapses.hpp)
// on the same Philox words. No shared memory, barriers or shuffles, so a host test can run their
// threads one by one (tests/test_synapse_draw_kernels.cpp).
#pragma once

#include <cstdint>

#include "ifsim/connectivity.hpp"
#include "ifsim/random.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim::cuda {

// Row r of a fixed-degree rule: its k picks from `pool` candidates as keys, the i-th at
// keys[i rows + r]; by_target rows (fixed_indegree) pick sources, so the row is the key's low word.
// Picks interleaved by row: a warp's threads hold neighbouring rows, so each step of their
// "already picked?" scans reads one coalesced line rather than 32 rows a row's length apart (the
// sort that follows makes the order of the keys irrelevant).
__global__ inline void fixed_degree_kernel(philox_key key, std::uint64_t rows, std::uint64_t pool, bool no_self,
                                    std::uint64_t k, bool multapses, bool by_target, std::uint64_t* keys) {
    for (std::uint64_t r = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; r < rows;
         r += std::uint64_t(gridDim.x) * blockDim.x) {
        std::uint64_t* out = keys + r;  // pick i at out[i * rows]
        std::uint64_t made = 0;
        const auto pack = [&](std::uint32_t c) { return by_target ? (std::uint64_t(c) << 32 | r) : (r << 32 | c); };
        row_words w{key, r};
        sample_row(
            w, pool, no_self ? r : pool, k, multapses,
            [&](std::uint32_t c) {  // Floyd's "already picked?": a scan of the row so far
                const std::uint64_t x = pack(c);
                for (std::uint64_t i = 0; i < made; ++i)
                    if (out[i * rows] == x) return true;
                return false;
            },
            [&](std::uint32_t c) { out[made++ * rows] = pack(c); });
    }
}

// Synapse s of fixed_total (with multapses): its pair from row s.
__global__ inline void fixed_total_kernel(philox_key key, std::uint64_t n, std::uint64_t num_sources, std::uint64_t num_targets,
                                   bool no_self, std::uint64_t* keys) {
    for (std::uint64_t s = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; s < n;
         s += std::uint64_t(gridDim.x) * blockDim.x) {
        row_words w{key, s};
        std::uint32_t i = 0, j = 0;
        draw_pair(w, num_sources, num_targets, no_self, i, j);
        keys[s] = std::uint64_t(i) << 32 | j;
    }
}

// pairwise_bernoulli, pass 1: the length of each row (counts[S] = 0 for the scan's total).
__global__ inline void bernoulli_count_kernel(philox_key key, std::uint64_t num_sources, std::uint64_t num_targets,
                                       bool no_self, double log1p_neg_p, std::uint64_t* counts) {
    for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i <= num_sources;
         i += std::uint64_t(gridDim.x) * blockDim.x) {
        std::uint64_t n = 0;
        if (i < num_sources) {
            row_words w{key, i};
            bernoulli_row(w, num_targets, no_self ? i : num_targets, log1p_neg_p, [&](std::uint32_t) { ++n; });
        }
        counts[i] = n;
    }
}

// pairwise_bernoulli, pass 2: the same rows, written at their offsets.
__global__ inline void bernoulli_fill_kernel(philox_key key, std::uint64_t num_sources, std::uint64_t num_targets, bool no_self,
                                      double log1p_neg_p, const std::uint64_t* offsets, std::uint32_t* targets) {
    for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < num_sources;
         i += std::uint64_t(gridDim.x) * blockDim.x) {
        std::uint32_t* out = targets + offsets[i];
        row_words w{key, i};
        bernoulli_row(w, num_targets, no_self ? i : num_targets, log1p_neg_p, [&](std::uint32_t j) { *out++ = j; });
    }
}

// Sorted keys -> CSR: targets are the low words; row r starts at the first key of source >= r.
__global__ inline void split_keys_kernel(const std::uint64_t* keys, std::uint64_t n, std::uint64_t num_sources,
                                  std::uint32_t* targets, std::uint64_t* row_offsets) {
    for (std::uint64_t s = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; s < n;
         s += std::uint64_t(gridDim.x) * blockDim.x) {
        targets[s] = std::uint32_t(keys[s]);
        const std::uint64_t source = keys[s] >> 32;
        const std::uint64_t first = s == 0 ? 0 : (keys[s - 1] >> 32) + 1;  // rows that start here
        for (std::uint64_t r = first; r <= source; ++r) row_offsets[r] = s;
        if (s == n - 1)
            for (std::uint64_t r = source + 1; r <= num_sources; ++r) row_offsets[r] = n;
    }
}

__global__ inline void draw_values_kernel(synapse_distribution d, philox_key key, std::uint64_t n, double* out) {
    for (std::uint64_t s = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; s < n;
         s += std::uint64_t(gridDim.x) * blockDim.x)
        out[s] = synapse_value(d, philox4x32_10(make_counter(s, 0), key));
}

}  // namespace ifsim::cuda
