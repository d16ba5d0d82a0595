// Device discovery for `ifsim info` and `--backend auto`. Only queries: no allocation, no launch,
// so it is safe on machines where the runtime reports no usable driver.
#include <cuda_runtime.h>

#include <string>

#include "ifsim/cuda_info.hpp"

namespace ifsim {

cuda_status query_cuda() {
    cuda_status status;
    cudaRuntimeGetVersion(&status.runtime_version);
    cudaDriverGetVersion(&status.driver_version);
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        status.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
        cudaGetLastError();  // clear the sticky error so later queries start clean
        return status;
    }
    if (count == 0) {
        status.reason = "no CUDA device found";
        return status;
    }
    // Free memory is per device and needs it current: the caller's device is restored after.
    int previous = 0;
    const bool had_device = cudaGetDevice(&previous) == cudaSuccess;
    for (int d = 0; d < count; ++d) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) continue;
        cuda_device dev;
        dev.name = prop.name;
        dev.major = prop.major;
        dev.minor = prop.minor;
        dev.multiprocessors = prop.multiProcessorCount;
        dev.total_memory = prop.totalGlobalMem;
        if (cudaSetDevice(d) == cudaSuccess) cudaMemGetInfo(&dev.free_memory, &dev.total_memory);
        status.devices.push_back(dev);
    }
    if (had_device) cudaSetDevice(previous);
    status.usable = !status.devices.empty();
    if (!status.usable) status.reason = "no device answered a property query";
    return status;
}

}  // namespace ifsim
