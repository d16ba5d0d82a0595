// The ifsim subcommands. Each returns the process exit code: 0 success, 2 bad input, 1 failure.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ifsim/errors.hpp"
#include "ifsim/spec.hpp"

namespace ifsim {
class backend;
struct network_stats;
struct cuda_status;
struct run_spec;
}  // namespace ifsim

namespace ifsim::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
inline constexpr int exit_interrupted = 130;  // as a shell reports SIGINT

// What every command that reads a config takes: the file, --set overrides, and --seed and
// --threads, which are simulation.seed and simulation.threads by a shorter name.
struct config_args {
    std::filesystem::path config;
    std::vector<std::string> overrides;
    std::optional<std::uint64_t> seed;
    std::optional<unsigned> threads;

    // The overrides, --seed and --threads among them; a config_error where --set sets either too
    // (one would silently win).
    std::vector<std::string> all_overrides() const;
};

struct run_args : config_args {
    std::filesystem::path out_dir;  // empty: out/<config stem>
    std::string backend = "auto";   // auto | cpu | cuda
    bool quiet = false;
};

int run(const run_args& args);

// body's exit code; a config_error it throws is exit 2 ("ifsim: error: ..."), any other
// exception exit 1 ("ifsim <command> failed: ...").
int reporting_errors(std::string_view command, const std::function<int()>& body);
// A command's exit code once what it wrote to stdout is flushed: exit_failure, said on stderr,
// if stdout could not take it (a full disk under `ifsim theory > table.csv`), else `code`.
int stdout_written(int code);
// An exception's message for the user: std::bad_alloc says what ran out, and where to look.
std::string failure_text(const std::exception& e);

// What `run` and `bench` share (cmd_run.cpp).
// Set by SIGINT (Ctrl-C), SIGTERM (kill, timeout, Slurm, Docker) or SIGHUP (a closed terminal)
// once stop_on_signals was called (one ignored when ifsim started stays ignored: nohup): the run
// ends after the current block, its files closed and valid. SIGPIPE is ignored from then on, so a
// closed pipe on stderr (`ifsim run ... | head`) fails a write instead of killing the run (SIGXFSZ,
// a file past `ulimit -f`, is ignored by every command: main).
extern std::atomic<bool> stop_requested;
void stop_on_signals();
// cpu, cuda, or auto: CUDA when a device is usable and the CUDA backend can run the config
// (cuda_cannot_run), else the CPU (saying why on stderr unless quiet).
// A config_error of the setup (a parameter drawn out of range, a synapse file's row) names the
// config (naming_the_config).
std::unique_ptr<backend> choose_backend(const run_spec& spec, const std::string& choice, bool quiet);

// What setup(), run once the config has been validated, returns; a config_error it throws
// (realised values out of range, a synapse file's row) again, prefixed with the config's path so
// that it names the file as validation errors do.
template <class Setup>
auto naming_the_config(const run_spec& spec, Setup&& setup) {
    try {
        return setup();
    } catch (const config_error& e) {
        if (spec.source_path.empty()) throw;
        throw config_error(spec.source_path + ": " + e.what());
    }
}
// A projection without synapses (p = 0, an empty file), a generator without projections or one
// listing spikes after the run's end is legal but rarely meant, and an OU current faster than 5 dt
// is integrated poorly: said on stderr before the run, --quiet or not.
void warn_about_inputs(const run_spec& spec, const network_stats& net);
// The CPU backend given more threads than this process has CPUs: said likewise, naming where the
// number came from (--threads, simulation.threads or OMP_NUM_THREADS).
void warn_about_threads(const run_spec& spec, const backend& engine, const config_args& args);

struct bench_args : config_args {
    std::string backend = "auto";
    unsigned runs = 3;
    bool csv = false;
};
// Runs a config `runs` times (outputs to a temporary folder, removed) and prints per run and as
// the median: network build time, wall time, real-time factor, neuron-steps/s, synaptic events/s.
int bench(const bench_args& args);
// Version, build options and CUDA devices; with `bandwidth`, also the measured copy bandwidths that
// `ifsim bench` divides a run's least bytes moved by.
int info(bool bandwidth);
// The CUDA devices as this build sees them: query_cuda(), or why there are none in a build
// without CUDA (cmd_info.cpp).
cuda_status probe_cuda();
// Runs CPU and CUDA in float and prints "identical" or the first population, neuron, step and
// variable that differ (exit 1). Needs the CUDA library and a device.
int compare(const config_args& args, std::uint32_t block);
// Validates a config as `run` does and prints what it would run (steps, populations, projections
// and their synapse counts, records, memory) without running it; with `build`, also builds the
// network on the CPU. Exit 2 for a bad config.
int check(const config_args& args, bool build);
// The predicted rate of every neuron (theory_table.hpp) as CSV, to csv_out or stdout; on stderr
// why a population has no rows.
int theory(const config_args& args, const std::filesystem::path& csv_out);
struct stats_args {
    double from_ms = 0.0, to_ms = std::numeric_limits<double>::infinity();  // within the recorded window
    double fano_window_ms = 0.0;  // 0: the default, 100 ms (or dt where that is longer)
    bool csv = false;
};
// The spike statistics of the run in `dir` per recorded population (rate, mean ISI CV per neuron,
// lag-1 serial correlation of the pooled ISIs, Fano factor of counts) beside the theory's rate and
// CV where ifsim has them; from its spike file and resolved config.
int stats(const std::filesystem::path& dir, const stats_args& args);
// Builds the network on the CPU as a run does and writes, per projection k, out_dir/projection_k.<format>
// (h5 or csv: source, target, weight, delay, as the from_file rule reads them) and out_dir/from_files.toml,
// the config with those files as its projections (the same synapses, so the same run).
int synapses(const config_args& args, const std::filesystem::path& out_dir, const std::string& format);

}  // namespace ifsim::cli
