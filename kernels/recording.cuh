// State recording: copies the recorded neurons' variable, as float, into one row of a record's
// device sample buffer at the start of a sampled step. The host drains the rows with the spikes.
#pragma once

#include <cstdint>

namespace ifsim::cuda {

// d_src null: the population lacks the variable (w without adaptation, I_noise without OU input),
// recorded as 0 like the CPU backend does.
template <class Real>
__global__ void gather_kernel(const Real* d_src, const std::uint64_t* d_neurons, std::uint64_t m, float* d_row) {
    const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
    for (std::uint64_t j = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < m; j += stride)
        d_row[j] = d_src ? float(d_src[d_neurons[j]]) : 0.0f;
}

}  // namespace ifsim::cuda
