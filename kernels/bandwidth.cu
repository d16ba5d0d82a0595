// Device-to-device copy bandwidth: the hardware floor the GPU benchmarks compare against.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "stream_event.cuh"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {

measured_copy device_copy_bandwidth() {
    constexpr std::size_t mib = std::size_t(1) << 20;
    const cuda_status status = query_cuda();
    if (!status.usable) throw runtime_failure("no usable CUDA device: " + status.reason);
    IFSIM_CUDA_CHECK(cudaSetDevice(0), "selecting device 0");
    std::size_t free_bytes = 0, total_bytes = 0;
    IFSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes), "reading the free device memory");
    const std::size_t bytes = std::min(std::size_t(1) << 30, free_bytes / 4);
    if (bytes < 256 * mib)
        throw runtime_failure("only " + std::to_string(free_bytes / mib) +
                              " MiB of device memory is free, and the copies need 1024: two buffers of at least "
                              "256 MiB, a quarter of the free memory each, to keep the L2 cache out of the measure");
    const cuda::device_buffer<unsigned char> d_src(bytes, "the bandwidth test's source");
    const cuda::device_buffer<unsigned char> d_dst(bytes, "the bandwidth test's destination");
    IFSIM_CUDA_CHECK(cudaMemset(d_src.data(), 1, bytes), "filling the bandwidth test's source");
    const cuda::event_owner start(true), stop(true);
    // One untimed copy first: it pays for first-touch and clock ramp-up.
    IFSIM_CUDA_CHECK(cudaMemcpy(d_dst.data(), d_src.data(), bytes, cudaMemcpyDeviceToDevice), "warming up the copy");
    float best_ms = 0.0f;
    for (int rep = 0; rep < 5; ++rep) {
        IFSIM_CUDA_CHECK(cudaEventRecord(start.get()), "recording a timing event");
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(d_dst.data(), d_src.data(), bytes, cudaMemcpyDeviceToDevice),
                         "copying device to device");
        IFSIM_CUDA_CHECK(cudaEventRecord(stop.get()), "recording a timing event");
        IFSIM_CUDA_CHECK(cudaEventSynchronize(stop.get()), "waiting for the copy");
        float ms = 0.0f;
        IFSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()), "reading the copy's time");
        if (rep == 0 || ms < best_ms) best_ms = ms;
    }
    if (!(best_ms > 0.0f)) throw runtime_failure("device_copy_bandwidth: the copy took no measurable time");
    return {2.0 * double(bytes) / (double(best_ms) * 1e-3), bytes};  // read + written
}

}  // namespace ifsim
