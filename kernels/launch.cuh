// The one way kernels are launched: a launch shape for grid-stride kernels, and a helper that
// checks cudaGetLastError() after every launch and, in debug builds, synchronises so that an error
// inside the kernel is reported at its launch rather than at some later call.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda_check.cuh"

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

template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), launch_shape shape, cudaStream_t stream, const char* file,
            int line, Args&&... args) {
    kernel<<<shape.grid, shape.block, 0, stream>>>(std::forward<Args>(args)...);
    check(cudaGetLastError(), std::string("launching ") + name, file, line);
#ifndef NDEBUG
    check(cudaStreamSynchronize(stream), std::string("running ") + name, file, line);
#endif
}

}  // namespace ifsim::cuda

// IFSIM_LAUNCH((kernel<A, B>), shape, stream, args...): a template kernel goes in parentheses.
#define IFSIM_LAUNCH(kernel, shape, stream, ...) \
    ::ifsim::cuda::launch(#kernel, kernel, (shape), (stream), __FILE__, __LINE__, __VA_ARGS__)
