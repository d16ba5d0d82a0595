// Memory: what a run needs at the least, estimated before anything is drawn, and what this
// machine has (run and check compare them before a run starts; docs/config.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// What a run needs at least, before anything is drawn: per synapse at the build's peak its target
// and delay, and, unless the weight is a constant (stored once), its weight in fixed point and in
// double while the fixed-point format is chosen; per neuron its state (V, the refractory count, w
// with adaptation, the OU current), the run's spike statistics, every value drawn per neuron
// (in double while the population is set up; the bias current kept), its parameters and
// coefficients where they vary and an exp channel's state; apart, per synapse channel onto it a
// ring slot per step of the longest delay; per state record its samples of two blocks of
// default_block_steps (one computed, one written; one where the run is one block) and its writer's
// chunk buffer and cached chunk (report_chunk_shape); for a synapse file, its rows as read and each
// synapse's row. Projection k has synapses[k] synapses where given, else expected_synapses, or for
// from_file synapse_file_rows_estimate (synapse_file.hpp: a CSV file's size over its first rows'
// length).
// The run's spike statistics per neuron (simulation.cpp's isi_accumulator): the last spike time,
// the intervals' running mean and sum of squared deviations (double), and their count (32 bits).
inline constexpr double spike_statistics_bytes_per_neuron = 3 * 8 + 4;

// One named part of what a run needs: "population 'E' synaptic ring buffer", "projection 0 synapses".
struct memory_part {
    std::string name;
    std::size_t bytes;
};

// The total of `parts` and the largest of them (null where there are none).
struct parts_sum {
    double bytes = 0.0;
    const memory_part* largest = nullptr;
};
inline parts_sum sum_parts(const std::vector<memory_part>& parts) {
    parts_sum sum;
    for (const memory_part& p : parts) {
        sum.bytes += double(p.bytes);
        if (!sum.largest || p.bytes > sum.largest->bytes) sum.largest = &p;
    }
    return sum;
}

// What to change where a run does not fit, by its largest part (host memory or device memory).
inline std::string rings_advice(double ring_slots) {
    char slots[32];
    std::snprintf(slots, sizeof slots, "%.0f", ring_slots);
    return std::string("Every synaptic ring holds the network's longest delay (") + slots +
           " slots of one step): shorten it, or reduce the population sizes";
}
inline constexpr const char* records_advice = "Record fewer neurons or less often";
inline constexpr const char* connections_advice = "Reduce the connection counts or the population sizes";
inline constexpr const char* populations_advice = "Reduce the population sizes";

struct memory_estimate {
    double synapses = 0.0;  // in all projections, as counted above
    double bytes = 0.0;
    double largest = 0.0;      // bytes of the largest part
    std::string largest_part;  // "population 'E'" or "projection 3 (L4E -> L23E)"
    std::string advice;        // what to change for the largest part: "Reduce the population sizes"
};
// `file_delay_steps`: the longest delay the synapse files list, in steps, where they were read
// (synapse_counts); unknown before, when the rings are counted for the rules' delays alone.
memory_estimate estimate_memory(const run_spec& spec, std::span<const double> synapses = {},
                                double file_delay_steps = 1.0);

// Whether a run that needs m fits in `available` bytes, a tenth of them left for what the estimate
// leaves out; true where the available memory is unknown (0).
bool fits_in_memory(const memory_estimate& m, std::uint64_t available);
// What follows a need that does not fit (fits_in_memory) in every such message: ", but 22.4 GiB of
// memory are available, a tenth of which is kept for what the estimate leaves out".
std::string but_available(std::uint64_t available);
// Throws runtime_failure naming the need, what is available and the largest part with its advice
// where m does not fit `available` (fits_in_memory); `why` follows the need ("" or ", with ...").
void require_memory(const memory_estimate& m, std::uint64_t available, const std::string& why = "");
// Bytes this process can still get: the least of MemAvailable, its memory cgroup's limit less use
// (a Slurm job, a container) and ulimit -v less what is mapped; 0 when none is known.
std::uint64_t available_memory();
// The memory cgroup's room: limit less use, the inactive page cache not counted as use, the least
// over the group and its parents (v2; v1's hierarchical limit); none without a limit. `cgroup` is
// /proc/self/cgroup's text, `root` the folder that holds sys/fs/cgroup ("/"; another in tests).
std::optional<std::uint64_t> cgroup_memory_room(const std::string& cgroup, const std::filesystem::path& root);
// "1.25 GiB", "372 KiB", "40 B": three digits in the largest binary unit below the value.
std::string format_bytes(double bytes);

}  // namespace ifsim
