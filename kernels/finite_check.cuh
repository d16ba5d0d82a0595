// The NaN/inf check of a block: the lowest index whose membrane potential is not finite, or
// UINT64_MAX when all are (the CPU backend reports the same neuron: the first in index order).
#pragma once

#include <cstdint>

namespace ifsim::cuda {

// *d_first_bad must be all ones before the launch.
template <class Real>
__global__ void find_non_finite_kernel(const Real* d_V, std::uint64_t n, unsigned long long* d_first_bad) {
    const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
    for (std::uint64_t i = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
        if (!isfinite(d_V[i])) atomicMin(d_first_bad, (unsigned long long)i);
}

}  // namespace ifsim::cuda
