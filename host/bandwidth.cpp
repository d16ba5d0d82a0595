// The host's copy bandwidth, the denominator of the CPU's hardware floor (memory_traffic.hpp).
#include <algorithm>
#include <chrono>

#include "ifsim/errors.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/uninitialized_vector.hpp"

namespace ifsim {

double host_copy_bandwidth(std::size_t bytes) {
    const std::size_t n = bytes / sizeof(double);
    if (n == 0) throw runtime_failure("host_copy_bandwidth: the copy size must be at least 8 bytes");
    // Filled in parallel, so that each thread first touches the pages it then copies.
    uninitialized_vector<double> a(n), b(n);
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] = 1.0;
    double best_s = 0.0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
        for (std::size_t i = 0; i < n; ++i) b[i] = a[i];
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (rep == 0 || s < best_s) best_s = s;
        std::swap(a, b);
    }
    if (!(best_s > 0.0)) throw runtime_failure("host_copy_bandwidth: the copy took no measurable time");
    return 2.0 * double(n * sizeof(double)) / best_s;  // read + written
}

}  // namespace ifsim
