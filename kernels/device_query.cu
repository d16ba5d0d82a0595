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

// "" where device 0 (`dev`) can run this build's kernels, else why not.
std::string kernel_image_problem(const cuda_device& dev) {
    const std::string which =
        "device 0 (" + dev.name + ", sm_" + std::to_string(dev.major) + std::to_string(dev.minor) + ")";
    cudaFuncAttributes attributes{};
    cudaError_t err = cudaSetDevice(0);
    if (err == cudaSuccess) err = cudaFuncGetAttributes(&attributes, image_probe);
    if (err == cudaSuccess) return {};
    cudaGetLastError();
    const std::string what = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    if (err != cudaErrorNoKernelImageForDevice && err != cudaErrorInvalidDeviceFunction)
        return which + " cannot run kernels now (" + what + ")";  // taken (exclusive mode), out of memory, ...
    return which + " cannot load this build's kernels (" + what + "), built for CMAKE_CUDA_ARCHITECTURES = " +
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
        const std::string what = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
        // Without any driver the runtime still says "insufficient driver", which reads as one to
        // upgrade: say there is none.
        status.reason = status.driver_version == 0 ? "no NVIDIA driver is installed; the CUDA runtime says " + what : what;
        cudaGetLastError();  // clear the sticky error so later queries start clean
        return status;
    }
    if (count == 0) {
        status.reason = "no CUDA device found";
        return status;
    }
    // Free memory needs the device current, which opens a context on it (some hundred MiB): asked
    // of device 0 only, the one ifsim runs on, not of a shared node's other GPUs. The caller's
    // device is restored after.
    int previous = 0;
    const bool had_device = cudaGetDevice(&previous) == cudaSuccess;
    for (int d = 0; d < count; ++d) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) {
            cudaGetLastError();  // not left for the first launch's check to find
            continue;
        }
        cuda_device dev;
        dev.ordinal = d;
        dev.name = prop.name;
        dev.major = prop.major;
        dev.minor = prop.minor;
        dev.multiprocessors = prop.multiProcessorCount;
        dev.total_memory = prop.totalGlobalMem;
        if (d == 0 && (cudaSetDevice(d) != cudaSuccess || cudaMemGetInfo(&dev.free_memory, &dev.total_memory) != cudaSuccess))
            cudaGetLastError();
        status.devices.push_back(dev);
    }
    status.usable = !status.devices.empty();
    if (!status.usable) status.reason = "no device answered a property query";
    if (status.usable)
        status.reason = status.devices[0].ordinal == 0 ? kernel_image_problem(status.devices[0])
                                                       : "device 0 did not answer a property query";
    status.usable = status.usable && status.reason.empty();
    if (had_device) cudaSetDevice(previous);
    return status;
}

}  // namespace ifsim
