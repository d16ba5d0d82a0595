// The device side of tests/test_random.cpp's CuRandEqualsHostPhilox: the raw words cuRAND returns
// for given (key, subsequence, block), through the very curand_block the update kernel draws with.
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "launch.cuh"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "neuron_update.cuh"

namespace ifsim {
namespace {

__global__ void curand_blocks_kernel(philox_key key, const std::uint64_t* ids, const std::uint64_t* blocks,
                                     philox_block* out, std::uint64_t n) {
    for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
         i += std::uint64_t(gridDim.x) * blockDim.x)
        out[i] = cuda::curand_block(key, ids[i], blocks[i]);
}

}  // namespace

std::vector<philox_block> curand_philox_blocks(philox_key key, const std::vector<std::uint64_t>& ids,
                                               const std::vector<std::uint64_t>& blocks) {
    if (ids.size() != blocks.size()) throw runtime_failure("curand_philox_blocks: ids and blocks differ in length");
    const cuda_status status = query_cuda();
    if (!status.usable) throw runtime_failure("no usable CUDA device: " + status.reason);
    IFSIM_CUDA_CHECK(cudaSetDevice(0), "selecting device 0");
    const std::uint64_t n = ids.size();
    std::vector<philox_block> host(n);
    if (n == 0) return host;
    const cuda::device_buffer<std::uint64_t> d_ids(ids, "the probe's subsequences");
    const cuda::device_buffer<std::uint64_t> d_blocks(blocks, "the probe's blocks");
    const cuda::device_buffer<philox_block> d_out(n, "the probe's output");
    IFSIM_LAUNCH(curand_blocks_kernel, cuda::grid_stride_shape(n, 1024), nullptr, key, d_ids.data(),
                 d_blocks.data(), d_out.data(), n);
    IFSIM_CUDA_CHECK(cudaMemcpy(host.data(), d_out.data(), n * sizeof(philox_block), cudaMemcpyDeviceToHost),
                     "downloading the probe's output");
    return host;
}

}  // namespace ifsim
