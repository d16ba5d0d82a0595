// Synapse lists from files (the from_file connection rule): one synapse per row, columns source,
// target and optionally weight and delay. Two formats, chosen by the extension:
//   .csv          a header line naming the columns (any order), then one row per line; blank lines
//                 and lines starting with '#' are skipped; "\r\n", spaces around fields and double
//                 quotes around a field (R's write.csv) are fine; a column name may carry its
//                 unit, "weight [pA]", "delay [ms]"
//   .h5 / .hdf5   1-D datasets source, target (integers), weight, delay (numbers) at the file
//                 root, all of one length; other objects are ignored; weight and delay may carry a
//                 string attribute `units`
// A unit a file names must be the projection's: the synapse kind's for weight, ms for delay (the
// file is refused, not rescaled).
// Indices are 0-based and local to the source and target populations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ifsim {

struct synapse_columns {
    bool weight = false, delay = false;  // which optional columns the file has
};

struct synapse_table {
    std::vector<std::uint64_t> source, target;  // 0-based indices local to the populations, in file order
    std::vector<double> weight;    // empty when the file has no weight column (units: the synapse kind's, mV / pA / nS)
    std::vector<double> delay_ms;  // empty when the file has no delay column
};

struct synapse_file_limits {
    std::uint64_t num_sources = 0, num_targets = 0;
    bool weights_non_negative = false;  // conductances
    double dt_ms = 0;  // > 0: each delay at most max_delay_steps steps of it (synapses.hpp)
    // The synapse kind's weight unit (weight_unit_of); a file that names another is refused. Empty:
    // any unit the file names is taken as it stands.
    std::string weight_unit;
};

// The format from the extension: .csv -> CSV; .h5 or .hdf5 -> HDF5. Reads only the header / dataset
// names and shapes (cheap; config validation calls it). Throws config_error.
synapse_columns synapse_file_columns(const std::filesystem::path& file);

// The rows of the file, cheaply, for a memory estimate before it is read: HDF5 datasets' length;
// a CSV file's rows if its first 65,536 are all of it, else its size over their mean length, 5 %
// added. Rows are not checked. Throws config_error.
std::uint64_t synapse_file_rows_estimate(const std::filesystem::path& file);

// The whole file, every row checked: source < num_sources, target < num_targets, weights finite,
// within max_abs_weight (synapses.hpp) and of one sign (the first nonzero weight sets it; >= 0
// with weights_non_negative), delays finite, > 0 and at most max_delay_steps of dt_ms. Throws config_error naming the file and the
// row (CSV: "<file>:<line>:", 1-based line of the file; HDF5: "<file>: row <i>:", 0-based).
synapse_table read_synapse_file(const std::filesystem::path& file, const synapse_file_limits& limits);

}  // namespace ifsim
