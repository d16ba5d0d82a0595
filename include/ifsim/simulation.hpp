// The run: a backend advanced block by block, spikes and state streamed to SONATA files, a summary
// written at the end — also when the run stops early (SIGINT, an error), so nothing is lost.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/spec.hpp"
#include "ifsim/summary.hpp"

namespace ifsim {

struct run_progress {
    std::uint64_t steps_done = 0;
    std::uint64_t steps_total = 0;
    double simulated_ms = 0;
    double wall_s = 0;
};

struct run_options {
    std::filesystem::path out_dir;
    std::uint32_t block_steps = default_block_steps;  // steps per backend call, between two writes
    std::function<void(const run_progress&)> on_progress;  // after every block
    const std::atomic<bool>* stop = nullptr;               // set (e.g. by SIGINT) to stop early
};

// A backend's numerical error with the population and block it was found in: the backends check
// after each block of steps and name the neuron by its global id.
numerical_error located(const numerical_error& e, const run_spec& spec, std::uint64_t first_step, std::uint32_t steps);

// Number of steps the spec asks for.
std::uint64_t total_steps(const simulation_spec& sim);

// The values state record `r` writes in a whole run; recorded_state_bytes: all the state records'
// files on disk, at least (report_bytes_on_disk: whole chunks, and the mapping).
double recorded_values(const state_record& r, const simulation_spec& sim);
double recorded_state_bytes(const run_spec& spec);

// Creates out_dir if needed, locks it (recording.hpp: runtime_failure if another ifsim writes
// there) and checks that the files of a run of `spec` can be written there (the folder is
// writable, no folder in the way of a file's name, nor a file of those names that no ifsim run
// wrote); config_error otherwise; runtime_failure where its file system lacks the space for the
// state records. Hold the lock until the run's files are closed.
[[nodiscard]] output_folder_lock prepare_output_dir(const std::filesystem::path& dir, const run_spec& spec);

// The files an earlier run wrote to `dir`, as its summary.json lists them (plain names); none
// without one.
std::vector<std::string> earlier_run_files(const std::filesystem::path& dir);

// Runs `spec` on `engine`, writing spikes.h5, <report>.h5, config.resolved.toml and summary.json to
// options.out_dir, after removing an earlier run's files there (earlier_run_files; other files
// stay). Returns the summary (status "completed" or "interrupted"). An exception during
// the run closes the files, writes summary.json with status "failed" and is rethrown. A stop
// before any of that throws stopped_before_start.
run_summary run_simulation(const run_spec& spec, backend& engine, const run_options& options);

// A stop (run_options::stop) that came before run_simulation removed anything: nothing of the run
// was written, and an earlier run in the folder is as it was.
struct stopped_before_start : std::runtime_error {
    stopped_before_start() : std::runtime_error("stopped by signal before the run started; nothing was written") {}
};

}  // namespace ifsim
