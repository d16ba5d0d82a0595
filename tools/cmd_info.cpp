// `ifsim info`: version, how this binary was built, and what CUDA reports.
#include <omp.h>

#include <iostream>

#include "commands.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/cuda_info.hpp"

namespace ifsim::cli {

cuda_status probe_cuda() {
#if IFSIM_HAVE_CUDA
    return query_cuda();
#else
    cuda_status s;
    s.reason = "this ifsim was built without CUDA (nvcc was not found at configure time)";
    return s;
#endif
}

int info() {
    std::cout << "ifsim " << build::version << "\n"
              << "build:        " << build::build_type << ", " << build::cxx_compiler
              << (build::host_fma ? ", x86-64-v3 (AVX2 + FMA)" : ", baseline ISA (fma via libm)") << "\n"
              << "cpu threads:  " << omp_get_max_threads() << " (OpenMP)\n"
              << "cuda library: " << (IFSIM_HAVE_CUDA ? "built" : "not built") << "\n";
    const cuda_status s = probe_cuda();
    if (s.runtime_version) std::cout << "cuda runtime: " << s.runtime_version << ", driver " << s.driver_version << "\n";
    if (!s.usable) std::cout << "cuda devices: none usable (" << s.reason << ")\n";
    for (std::size_t d = 0; d < s.devices.size(); ++d) {
        const auto& dev = s.devices[d];
        std::cout << "cuda device " << d << ": " << dev.name << ", sm_" << dev.major << dev.minor << ", "
                  << dev.multiprocessors << " SMs, " << dev.free_memory / (1u << 20) << " / "
                  << dev.total_memory / (1u << 20) << " MiB free\n";
    }
    return exit_ok;
}

}  // namespace ifsim::cli
