// The one way kernels are launched (their shapes: launch_shape.cuh): a helper that checks
// cudaGetLastError() after every launch and, in debug builds, synchronises so that an error inside
// the kernel is reported at its launch rather than at some later call. Compiled by a host compiler
// for the tests (IFSIM_CUDA_ON_HOST: tests/emulated/), the launch is queued on the emulated
// device's stream instead.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <utility>

#include "cuda_check.cuh"
#include "launch_shape.cuh"

namespace ifsim::cuda {

template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), launch_shape shape, cudaStream_t stream, const char* file,
            int line, Args&&... args) {
#ifdef IFSIM_CUDA_ON_HOST
    ::cuda_on_host::launch(shape.grid, shape.block, stream, name, kernel, std::forward<Args>(args)...);
#else
    kernel<<<shape.grid, shape.block, 0, stream>>>(std::forward<Args>(args)...);
#endif
    check(cudaGetLastError(), std::string("launching ") + name, file, line);
#ifndef NDEBUG
    check(cudaStreamSynchronize(stream), std::string("running ") + name, file, line);
#endif
}

}  // namespace ifsim::cuda

// IFSIM_LAUNCH((kernel<A, B>), shape, stream, args...): a template kernel goes in parentheses.
#define IFSIM_LAUNCH(kernel, shape, stream, ...) \
    ::ifsim::cuda::launch(#kernel, kernel, (shape), (stream), __FILE__, __LINE__, __VA_ARGS__)
