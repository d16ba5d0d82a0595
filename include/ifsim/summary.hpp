// summary.json of a run (layout: docs/output.md) and the SHA-256 used for the config digest.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifsim {

struct population_summary {
    std::string name;
    std::uint64_t neurons = 0;  // neurons in the population
    std::uint64_t spikes = 0;   // spikes recorded over the whole run
    double mean_rate_Hz = 0;    // spikes / (neurons * simulated time) [Hz]
    // Mean over neurons of the coefficient of variation of their inter-spike intervals [1];
    // NaN (written as null) when no neuron has enough spikes for one.
    double mean_cv = std::numeric_limits<double>::quiet_NaN();
    std::uint64_t neurons_with_cv = 0;  // neurons that entered mean_cv
};

struct projection_summary {
    std::string source, target;  // population or generator names
    std::uint64_t synapses = 0;
    std::string file, file_sha256;  // from_file: the synapse file (absolute) and its SHA-256; else empty
};

struct run_summary {
    std::string status;   // "completed" | "interrupted" | "failed"
    std::string message;  // why, when not completed; empty otherwise
    std::string backend, device, precision, ifsim_version, config_file, config_digest;
    std::uint64_t seed = 0;
    std::uint64_t steps = 0;        // steps simulated
    std::uint64_t steps_total = 0;  // steps the config asked for
    std::uint64_t neurons = 0;
    std::uint64_t spikes = 0;
    double dt_ms = 0;               // time step [ms]
    double simulated_ms = 0;        // steps * dt [ms]
    double wall_s = 0;              // wall-clock time of the step loop [s]
    double neuron_steps_per_s = 0;  // neurons * steps / wall_s
    double real_time_factor = 0;    // wall time / simulated time (< 1: faster than real time)
    // Bytes the step loop had to read and write at the least (memory_traffic.hpp): the numerator
    // of the hardware floor, least_bytes_moved / copy bandwidth.
    double least_bytes_moved = 0;
    // Networks only (zero otherwise):
    std::uint64_t synapses = 0;
    double bytes_per_synapse = 0;   // as stored
    double network_build_s = 0;     // before the step loop, not in wall_s [s]
    std::uint64_t synaptic_events = 0;
    double synaptic_events_per_s = 0;  // synaptic_events / wall_s
    std::vector<population_summary> populations;
    std::vector<projection_summary> projections;  // one per [[projection]], in config order
    std::vector<std::string> files;  // output files, relative to the output folder
};

// Writes `summary` as pretty-printed JSON (2-space indent, keys in declaration order). Non-finite
// numbers are written as null; strings are escaped, and invalid UTF-8 becomes U+FFFD, so the file
// is always valid JSON. Written to "<path>.part" and renamed, so readers never see half a file.
// Throws ifsim::runtime_failure on I/O errors.
void write_summary_json(const std::filesystem::path& path, const run_summary& summary);

// The same text write_summary_json writes.
std::string summary_json(const run_summary& summary);

// Reading back a summary.json that write_summary_json wrote (stats, a run replacing an earlier
// run's files), in its layout or saved again in another: not a full JSON parser, top-level keys
// only. The text of `key`'s value, a string with its quotes ("\"9d0e...\"") or a number
// ("3000"); nothing where it is absent.
std::optional<std::string> summary_value(std::string_view json, std::string_view key);
// `key`'s list of strings, up to an element with an escape (none that it writes); nothing where
// `key` is absent or no list.
std::optional<std::vector<std::string>> summary_strings(std::string_view json, std::string_view key);

// SHA-256 (FIPS 180-4), fed in pieces: hex() once at the end, as 64 lowercase hex digits.
class sha256 {
public:
    void update(std::string_view data);
    std::string hex();

private:
    std::array<std::uint32_t, 8> h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> block_{};  // a block's bytes so far
    std::size_t pending_ = 0;
    std::uint64_t length_ = 0;  // bytes fed
};

// The SHA-256 of `data`; of a file's bytes, read a mebibyte at a time (runtime_failure if it
// cannot be read).
std::string sha256_hex(std::string_view data);
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace ifsim
