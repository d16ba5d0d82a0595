// The ifsim subcommands. Each returns the process exit code: 0 success, 2 bad input, 1 failure.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ifsim::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
inline constexpr int exit_interrupted = 130;  // as a shell reports SIGINT

struct run_args {
    std::filesystem::path config;
    std::filesystem::path out_dir;  // empty: out/<config stem>
    std::string backend = "auto";   // auto | cpu | cuda
    std::optional<std::uint64_t> seed;
    std::optional<unsigned> threads;
    std::vector<std::string> overrides;
    bool quiet = false;
};

int run(const run_args& args);
int info();
// Runs CPU and CUDA in float and prints "identical" or the first population, neuron, step and
// variable that differ (exit 1). Needs the CUDA library and a device.
int compare(const std::filesystem::path& config, std::vector<std::string> overrides, std::uint32_t block);
// Validates a config as `run` does and prints what it would run (steps, populations, projections
// and their synapse counts, records, memory) without running it; with `build`, also builds the
// network on the CPU. Exit 2 for a bad config.
int check(const std::filesystem::path& config, const std::vector<std::string>& overrides, bool build);
int theory(const std::filesystem::path& config, const std::vector<std::string>& overrides,
           const std::filesystem::path& csv_out);

}  // namespace ifsim::cli
