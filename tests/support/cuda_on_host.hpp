// Just enough of CUDA to run kernels/ kernels that use no shared memory, barriers or shuffles on the
// host, one thread after another: __global__ and __device__ vanish, the built-in indices are
// globals that run_grid sets, and atomicAdd is a plain add (threads do not overlap). Include it
// before the kernel header.
#pragma once

#define __global__
#define __device__

namespace cuda_on_host {

struct thread_index {
    unsigned x;
};

}  // namespace cuda_on_host

inline cuda_on_host::thread_index blockIdx, blockDim, threadIdx, gridDim;

inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p;
    *p += v;
    return old;
}

namespace cuda_on_host {

// Every thread of a grid of `blocks` x `threads`, in turn.
template <class Kernel>
void run_grid(unsigned blocks, unsigned threads, Kernel&& kernel) {
    gridDim.x = blocks;
    blockDim.x = threads;
    for (blockIdx.x = 0; blockIdx.x < blocks; ++blockIdx.x)
        for (threadIdx.x = 0; threadIdx.x < threads; ++threadIdx.x) kernel();
}

}  // namespace cuda_on_host
