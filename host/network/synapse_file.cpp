// Reading synapse files (synapse_file.hpp): the format from the extension, then the CSV reader
// (synapse_csv.cpp) or the HDF5 reader (synapse_hdf5.cpp).
#include "ifsim/synapse_file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <system_error>

#include "synapse_rows.hpp"

namespace ifsim {

namespace synapse_file_detail {

// Shortest text that reads back as v ("0.2", "-1e-05", "inf").
std::string number(double v) {
    std::array<char, 32> text{};
    const auto end = std::to_chars(text.data(), text.data() + text.size(), v).ptr;
    return std::string(text.data(), end);
}

}  // namespace synapse_file_detail

namespace {

using namespace synapse_file_detail;

format format_of(const fs::path& file) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == ".csv") return format::csv;
    if (ext == ".h5" || ext == ".hdf5") return format::hdf5;
    throw config_error(file.string() + ": " +
                       (ext.empty() ? std::string("no extension") : "unknown extension '" + ext + "'") +
                       "; a synapse file must be .csv (CSV) or .h5 / .hdf5 (HDF5)");
}

void require_file(const fs::path& file) {
    std::error_code ec;
    const fs::file_status st = fs::status(file, ec);
    if (st.type() == fs::file_type::not_found) throw config_error(file.string() + ": no such file");
    if (st.type() == fs::file_type::directory)
        throw config_error(file.string() + ": is a directory, not a synapse file");
    if (st.type() != fs::file_type::regular)  // a FIFO or device would be read forever
        throw config_error(file.string() + ": not a regular file; a synapse file must be one");
}

}  // namespace

synapse_columns synapse_file_columns(const fs::path& file) {
    const format f = format_of(file);
    require_file(file);
    return f == format::csv ? csv_columns(file) : h5_columns(file);
}

std::uint64_t synapse_file_rows_estimate(const fs::path& file) {
    const format f = format_of(file);
    require_file(file);
    return f == format::csv ? csv_rows_estimate(file) : h5_rows(file);
}

synapse_table read_synapse_file(const fs::path& file, const synapse_file_limits& limits) {
    const format f = format_of(file);
    require_file(file);
    return f == format::csv ? read_csv(file, limits) : read_h5(file, limits);
}

}  // namespace ifsim
