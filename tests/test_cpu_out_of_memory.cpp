// The CPU backend when memory runs out inside its OpenMP team: the exception reaches the caller
// (who closes the files and exits 1) instead of std::terminate. A child process with its address
// space capped runs a population that spikes every step until its spike lists cannot grow.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

[[noreturn]] void spike_until_memory_runs_out() {
    // 1e6 LIF neurons driven far above threshold with t_ref = 0: each spikes every step, 24 bytes
    // a spike, so a block of 1000 steps would need 24 GB of spike lists.
    run_spec s = one_population(model_kind::lif, 1000000, 100.0, 0.1, precision::single);
    set_param(s, "t_ref", 0.0);
    s.populations[0].input.I_e = distribution::constant(1e6);
    auto engine = make_cpu_backend(s);
    block_output out;
    out.spikes.resize(1);
    engine->advance(0, 1, out);  // the OpenMP team starts, its stacks mapped
    // From here on 1 GiB more address space than the process has mapped.
    long mapped_kib = 0;
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "VmSize: %ld kB", &mapped_kib) == 1) break;
        std::fclose(f);
    }
    if (mapped_kib <= 0) std::_Exit(3);
    const rlim_t limit = rlim_t(mapped_kib) * 1024 + (rlim_t{1} << 30);
    const rlimit cap{limit, limit};
    if (setrlimit(RLIMIT_AS, &cap) != 0) std::_Exit(3);
    try {
        engine->advance(1, 1000, out);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "caught std::bad_alloc\n");
        std::_Exit(0);
    }
    std::_Exit(2);  // the spikes fitted after all: the test proves nothing
}

TEST(CpuBackend, OutOfMemoryInsideTheTeamReachesTheCaller) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(spike_until_memory_runs_out(), ::testing::ExitedWithCode(0), "caught std::bad_alloc");
}

}  // namespace
}  // namespace ifsim::test
