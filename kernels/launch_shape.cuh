// Launch shapes: the block size every ifsim kernel uses and the grid of a grid-stride launch.
// Plain C++, so that host code and the kernels run on the host by the tests share them.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ifsim::cuda {

struct launch_shape {
    unsigned grid;
    unsigned block;
};

// Threads per block of every ifsim kernel: a multiple of the warp size, which the warp-uniform
// grid-stride loops of the update kernel rely on.
inline constexpr unsigned threads_per_block = 256;
static_assert(threads_per_block % 32 == 0, "blocks must hold whole warps");

// A grid-stride launch over `n` items: enough blocks to cover them, at most `max_blocks` (a few
// resident blocks per multiprocessor; more only adds scheduling work), at least one.
inline launch_shape grid_stride_shape(std::uint64_t n, unsigned max_blocks) {
    const std::uint64_t wanted = (n + threads_per_block - 1) / threads_per_block;
    const std::uint64_t grid = std::clamp<std::uint64_t>(wanted, 1, std::max(1u, max_blocks));
    return {unsigned(grid), threads_per_block};
}

}  // namespace ifsim::cuda
