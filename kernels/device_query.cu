// Device discovery for `ifsim info` and `--backend auto`. Only queries (and device 0's context, for
// the kernel-image check): no allocation, no launch, so it is safe on machines where the runtime
// reports no usable driver.
#include <cuda_runtime.h>

#include <string>

#include "ifsim/cuda_info.hpp"

namespace ifsim {

namespace {

// Compiled like every other kernel: whether device 0 can load it says whether this build has code
// for the device's architecture, before --backend auto picks it (an sm_80 card and a build for
// sm_90 would fail at the first launch, "no kernel image is available").
__global__ void image_probe() {}

// "" where device 0 can run this build's kernels, else why not.
std::string kernel_image_problem(const cuda_device& dev) {
    cudaFuncAttributes attributes{};
    if (cudaSetDevice(0) != cudaSuccess) {
        cudaGetLastError();
        return "device 0 could not be selected";
    }
    const cudaError_t err = cudaFuncGetAttributes(&attributes, image_probe);
    if (err == cudaSuccess) return {};
    cudaGetLastError();
    return "device 0 (" + dev.name + ", sm_" + std::to_string(dev.major) + std::to_string(dev.minor) +
           ") cannot load this build's kernels (" + cudaGetErrorName(err) + "), built for CMAKE_CUDA_ARCHITECTURES = " +
           IFSIM_CUDA_ARCHITECTURES + "; rebuild with -DCMAKE_CUDA_ARCHITECTURES=" + std::to_string(dev.major) +
           std::to_string(dev.minor);
}

}  // namespace

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
    status.usable = !status.devices.empty();
    if (!status.usable) status.reason = "no device answered a property query";
    if (status.usable) status.reason = kernel_image_problem(status.devices[0]);
    status.usable = status.usable && status.reason.empty();
    if (had_device) cudaSetDevice(previous);
    return status;
}

}  // namespace ifsim
