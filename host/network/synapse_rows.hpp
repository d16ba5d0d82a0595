// Private to host/network: what the synapse-file readers share (synapse_file.hpp): the columns, the
// checks every row passes, and the two formats' readers (synapse_csv.cpp, synapse_hdf5.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include "ifsim/errors.hpp"
#include "ifsim/synapse_file.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim::synapse_file_detail {

namespace fs = std::filesystem;

// Column indices follow `column_names`.
enum column : std::size_t { source, target, weight, delay, num_columns };
constexpr std::array<const char*, num_columns> column_names{"source", "target", "weight", "delay"};

enum class format { csv, hdf5 };

// Shortest text that reads back as v ("0.2", "-1e-05", "inf").
std::string number(double v);

// --- the checks every row passes ----------------------------------------------------------------

// `at` is where the row sits: the CSV line (1-based) or the HDF5 row (0-based). The passing path is
// a comparison or two per value; building a message happens only on failure.
class row_checks {
public:
    row_checks(const fs::path& file, const synapse_file_limits& limits, format f)
        : file_(file), limits_(limits), csv_(f == format::csv) {}

    void source(std::uint64_t v, std::uint64_t at) const {
        if (v >= limits_.num_sources) not_a_neuron(column::source, std::to_string(v), at);
    }
    void target(std::uint64_t v, std::uint64_t at) const {
        if (v >= limits_.num_targets) not_a_neuron(column::target, std::to_string(v), at);
    }
    void weight(double w, std::uint64_t at) {
        if (!std::isfinite(w)) fail(at, "weight = " + number(w) + " is not a finite number");
        if (std::fabs(w) > max_abs_weight)
            fail(at, "weight = " + number(w) + " is beyond any synapse; a weight's magnitude must be at most " +
                         number(max_abs_weight) + " in the synapse's unit (mV, pA or nS)");
        if (w < 0 && limits_.weights_non_negative)
            fail(at, "weight = " + number(w) + " is negative; conductances must be >= 0 nS");
        if (w == 0) return;
        largest_ = std::max(largest_, std::fabs(w));
        if (sign_ == 0) {
            sign_ = w;
            sign_at_ = at;
        } else if ((w < 0) != (sign_ < 0)) {
            // One projection feeds one synaptic channel, whose sign is fixed.
            fail(at, "weight = " + number(w) + " has the other sign than weight = " + number(sign_) + " on " +
                         (csv_ ? "line " : "row ") + std::to_string(sign_at_) +
                         "; all weights of a file must have the sign of its first nonzero weight");
        }
    }
    void delay(double d, std::uint64_t at) const {
        if (!(std::isfinite(d) && d > 0))
            fail(at, "delay = " + number(d) + " is not allowed; a delay must be finite and > 0 ms");
        if (limits_.dt_ms > 0 && d < limits_.dt_ms * (1.0 - 1e-9))  // as a config's delay (NEST too)
            fail(at, "delay = " + number(d) + " ms is shorter than one step of dt = " + number(limits_.dt_ms) +
                         " ms; delays are whole steps of it");
        if (limits_.dt_ms > 0 && delay_steps(d, limits_.dt_ms) > max_delay_steps)
            fail(at, "delay = " + number(d) + " ms is " + number(delay_steps(d, limits_.dt_ms)) + " steps of dt = " +
                         number(limits_.dt_ms) + " ms; at most " + number(max_delay_steps) + " steps are allowed");
    }

    // After the last row: what holds of the file as a whole. The largest |weight| sets the
    // fixed-point quantum (fixed_point.hpp), which must stay a normal double.
    void all_rows() const {
        if (largest_ > 0 && largest_ < min_largest_abs_weight)
            throw config_error(file_.string() + ": the largest |weight| is " + number(largest_) +
                               "; a projection's largest weight must be 0 or at least " +
                               number(min_largest_abs_weight) + " in its unit (mV, pA or nS)");
    }

    // Also for an index too large for 64 bits, given as text.
    [[noreturn]] void not_a_neuron(column c, const std::string& text, std::uint64_t at) const {
        const std::uint64_t n = c == column::source ? limits_.num_sources : limits_.num_targets;
        const std::string population = std::string("the ") + column_names[c] + " population";
        fail(at, std::string(column_names[c]) + " = " + text + " is not a neuron of " + population +
                     (n == 0 ? ", which is empty" : " (0.." + std::to_string(n - 1) + ")"));
    }

    [[noreturn]] void fail(std::uint64_t at, const std::string& what) const {
        throw config_error(file_.string() + (csv_ ? ":" : ": row ") + std::to_string(at) + ": " + what);
    }

private:
    const fs::path& file_;
    const synapse_file_limits& limits_;
    bool csv_;
    double sign_ = 0;           // the first nonzero weight, 0 before it
    std::uint64_t sign_at_ = 0;  // where it is
    double largest_ = 0;        // the largest |weight| so far
};

// A column's unit as the file names it (CSV "weight [pA]", HDF5 attribute `units`; empty: none):
// the synapse kind's for weight, ms for delay, none for the indices. Not rescaled: a file in
// another unit than its projection's would otherwise build another network without a word.
inline void check_unit(const fs::path& file, column c, const std::string& unit, const synapse_file_limits& limits) {
    if (unit.empty() || (c == column::weight && limits.weight_unit.empty())) return;
    const std::string want = c == column::delay ? "ms" : c == column::weight ? limits.weight_unit : "";
    if (unit == want) return;
    throw config_error(file.string() + ": " + column_names[c] + " is in " + unit + ", the file says; " +
                       (want.empty() ? std::string("neuron indices have no unit")
                                     : "this projection takes its " + std::string(column_names[c]) + " in " + want +
                                           ": convert the values, or check that the file is the one meant"));
}

synapse_columns csv_columns(const fs::path& file);
std::uint64_t csv_rows_estimate(const fs::path& file);
synapse_table read_csv(const fs::path& file, const synapse_file_limits& limits);
synapse_columns h5_columns(const fs::path& file);
std::uint64_t h5_rows(const fs::path& file);
synapse_table read_h5(const fs::path& file, const synapse_file_limits& limits);

}  // namespace ifsim::synapse_file_detail
