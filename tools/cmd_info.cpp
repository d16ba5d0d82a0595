// `ifsim info`: version, how this binary was built, and what CUDA reports.
#include <cstdio>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "ifsim/backend.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory_traffic.hpp"

namespace ifsim::cli {

namespace {

std::string gb_per_s(double bytes_per_s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", bytes_per_s * 1e-9);
    return buf;
}

}  // namespace

cuda_status probe_cuda() {
#if IFSIM_HAVE_CUDA
    return query_cuda();
#else
    cuda_status s;
    s.reason = "this ifsim was built without CUDA (nvcc was not found at configure time)";
    return s;
#endif
}

int info(bool bandwidth) {
    return reporting_errors("info", [&] {
        std::cout << "ifsim " << build::version << "\n"
                  << "build:        " << build::build_type << ", " << build::cxx_compiler
                  << ", " << build::host_isa << "\n"
                  << "cpu threads:  " << run_threads() << " (OpenMP)\n"
                  << "cuda library: " << (IFSIM_HAVE_CUDA ? "built" : "not built") << "\n";
        if (bandwidth)
            std::cout << "cpu copy bandwidth: " << gb_per_s(host_copy_bandwidth(host_copy_bytes)) << " GB/s ("
                      << run_threads() << " threads, " << (host_copy_bytes >> 20)
                      << " MiB arrays)\n";
        const cuda_status s = probe_cuda();
        if (s.runtime_version)
            std::cout << "cuda runtime: " << s.runtime_version << ", driver " << s.driver_version << "\n";
        if (!s.usable) std::cout << "cuda devices: none usable (" << s.reason << ")\n";
        for (const cuda_device& dev : s.devices) {
            std::cout << "cuda device " << dev.ordinal << ": " << dev.name << ", sm_" << dev.major << dev.minor << ", "
                      << dev.multiprocessors << " SMs, ";
            if (dev.ordinal == 0)
                std::cout << dev.free_memory / (1u << 20) << " / " << dev.total_memory / (1u << 20) << " MiB free\n";
            else  // its free memory not asked: that would open a context on it
                std::cout << dev.total_memory / (1u << 20) << " MiB\n";
        }
#if IFSIM_HAVE_CUDA
        if (bandwidth && s.usable) {
            try {
                const measured_copy b = device_copy_bandwidth();
                std::cout << "cuda device 0 copy bandwidth: " << gb_per_s(b.bytes_per_s) << " GB/s ("
                          << (b.copy_bytes >> 20) << " MiB copies)\n";
            } catch (const runtime_failure& e) {  // too little free memory: the rest still stands
                std::cout << "cuda device 0 copy bandwidth: not measured (" << e.what() << ")\n";
            }
        }
#endif
        return exit_ok;
    });
}

}  // namespace ifsim::cli
