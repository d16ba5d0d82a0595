// `ifsim compare` on every example: CPU and CUDA must agree bit for bit in float (DESIGN.md
// principle 2). Skips, with the reason, where no CUDA device is usable.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "support/simulate.hpp"

namespace {

namespace fs = std::filesystem;

TEST(compare, every_example_is_identical_on_cpu_and_cuda) {
    if (const std::string why = ifsim::test::cuda_unavailable(); !why.empty()) GTEST_SKIP() << why;
    int compared = 0;
    for (const auto& entry : fs::directory_iterator(std::string(IFSIM_SOURCE_DIR) + "/examples")) {
        if (entry.path().extension() != ".toml") continue;
        const std::string cmd = std::string(IFSIM_BINARY) + " compare " + entry.path().string() +
                                " --set simulation.duration=200ms 2>&1";
        FILE* pipe = popen(cmd.c_str(), "r");
        ASSERT_NE(pipe, nullptr);
        std::string out;
        std::array<char, 512> buf{};
        while (fgets(buf.data(), int(buf.size()), pipe)) out += buf.data();
        const int status = pclose(pipe);
        EXPECT_EQ(WEXITSTATUS(status), 0) << entry.path() << ": " << out;
        EXPECT_EQ(out.rfind("identical", 0), 0u) << entry.path() << ": " << out;
        ++compared;
    }
    EXPECT_GE(compared, 7);
}

}  // namespace
