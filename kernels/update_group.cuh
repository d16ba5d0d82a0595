// Update groups: populations whose update is the same kernel instance (model, precision, input
// and synapse flags) step together in one launch, each on its own range of the grid's blocks, as
// GeNN merges its groups. The microcircuit's eight populations then take one launch per step
// instead of eight; at its one-step intervals launches, not work, set the pace on a GPU.
//
// Plain C++ apart from IFSIM_HD, so the host tests check the layout (tests/test_update_group.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ifsim/platform.hpp"

namespace ifsim::cuda {

// Most populations per launch: the per-step arguments below stay a few hundred bytes.
inline constexpr unsigned max_group_members = 16;

// What changes from step to step, passed by value at each launch.
template <class Real>
struct group_step {
    std::uint64_t step;    // the step
    std::uint64_t slot;    // its ring-buffer slot, step % slots (the same for every population)
    std::uint32_t k;       // its index in the chunk
    unsigned members;      // populations in the group
    unsigned first_block[max_group_members + 1];  // member m runs blocks [first_block[m], first_block[m + 1])
    Real I_step[max_group_members];               // each member's step current [pA]
};

// A block's share of a group launch.
template <class Real>
struct block_part {
    unsigned member;  // which population
    unsigned first;   // its first block
    unsigned blocks;  // its number of blocks
    Real I_step;      // its step current [pA]
};

// The member that block b works for: the last whose first block is at most b. The loop is
// unrolled so that the arguments are indexed by constants only (no copy to local memory).
template <class Real>
IFSIM_HD block_part<Real> member_of_block(const group_step<Real>& g, unsigned b) {
    block_part<Real> part{0, 0, g.first_block[1], g.I_step[0]};
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (unsigned m = 1; m < max_group_members; ++m)
        if (m < g.members && b >= g.first_block[m])
            part = {m, g.first_block[m], g.first_block[m + 1] - g.first_block[m], g.I_step[m]};
    return part;
}

// Block ranges for members of the given sizes: each gets the blocks a launch of its own would
// have (one per `threads` neurons, at least one, at most max_blocks). Returns first_block, with
// the grid size last.
inline std::vector<unsigned> group_blocks(const std::vector<std::uint64_t>& sizes, unsigned threads,
                                          unsigned max_blocks) {
    std::vector<unsigned> first{0};
    for (const std::uint64_t n : sizes) {
        const std::uint64_t wanted = (n + threads - 1) / threads;
        first.push_back(first.back() + unsigned(std::clamp<std::uint64_t>(wanted, 1, std::max(1u, max_blocks))));
    }
    return first;
}

// Groups of at most max_group_members indices with equal keys (the kernel each population
// would launch), in order of first appearance and, within a group, of index.
template <class Key>
std::vector<std::vector<std::size_t>> group_by_key(const std::vector<Key>& keys) {
    std::vector<std::vector<std::size_t>> groups;
    std::vector<Key> group_key;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        std::size_t g = 0;
        while (g < groups.size() && !(group_key[g] == keys[i] && groups[g].size() < max_group_members)) ++g;
        if (g == groups.size()) {
            groups.emplace_back();
            group_key.push_back(keys[i]);
        }
        groups[g].push_back(i);
    }
    return groups;
}

}  // namespace ifsim::cuda
