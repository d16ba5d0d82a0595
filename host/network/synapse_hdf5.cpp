// The HDF5 synapse reader (synapse_file.hpp): 1-D datasets at the root, each read whole, then every
// row checked.
#include <string>
#include <vector>

#include "../recording/hdf5_util.hpp"
#include "ifsim/memory.hpp"
#include "synapse_rows.hpp"

namespace ifsim::synapse_file_detail {

namespace {

const char* class_name(H5T_class_t c) {
    switch (c) {
        case H5T_INTEGER: return "integers";
        case H5T_FLOAT: return "floating-point numbers";
        case H5T_STRING: return "strings";
        case H5T_COMPOUND: return "compound values";
        case H5T_ENUM: return "enum values";
        case H5T_ARRAY: return "arrays";
        case H5T_VLEN: return "variable-length sequences";
        default: return "values that are not numbers";
    }
}

// The file and its datasets, checked as far as the metadata goes (cheap: no data is read).
// Hold an h5::reading_lock while one lives.
struct h5_synapses {
    h5::handle file;
    std::array<h5::handle, num_columns> datasets;  // by column; empty where the file has none
    hsize_t rows = 0;
};

h5_synapses inspect_h5(const fs::path& file) {
    h5_synapses s;
    s.file = h5::handle(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!s.file) {
        const std::string why = h5::failure("open the file", file);
        const bool locked = why.find("Resource temporarily unavailable") != std::string::npos ||
                            why.find("unable to lock file") != std::string::npos;
        throw config_error(file.string() + ": cannot be read as an HDF5 file (" + why + ")" +
                           (locked ? "; another program has it open for writing (HDF5 locks such a file): close it "
                                     "there first"
                                   : ""));
    }
    const std::string required = "; the file must have 1-D datasets source and target at its root, and may have "
                                 "weight and delay";
    std::array<hsize_t, num_columns> lengths{};
    for (std::size_t c = 0; c < num_columns; ++c) {
        const std::string name = column_names[c];
        const std::string what = "open dataset '" + name + "'";
        const htri_t exists = H5Lexists(s.file.get(), name.c_str(), H5P_DEFAULT);
        h5::check(exists, what, file);
        if (exists == 0) {
            if (c == column::source || c == column::target)
                throw config_error(file.string() + ": no dataset '" + name + "'" + required);
            continue;
        }
        h5::handle object(H5Oopen(s.file.get(), name.c_str(), H5P_DEFAULT));
        if (!object || H5Iget_type(object.get()) != H5I_DATASET)
            throw config_error(file.string() + ": '" + name + "' is not a dataset" + required);
        h5::handle space(h5::check_id(H5Dget_space(object.get()), what, file));
        const int rank = H5Sget_simple_extent_ndims(space.get());
        h5::check(rank, what, file);
        if (rank != 1)
            throw config_error(file.string() + ": dataset '" + name + "' has " + std::to_string(rank) +
                               " dimensions; it must be 1-D, one value per synapse");
        h5::check(H5Sget_simple_extent_dims(space.get(), &lengths[c], nullptr), what, file);
        h5::handle type(h5::check_id(H5Dget_type(object.get()), what, file));
        const H5T_class_t cls = H5Tget_class(type.get());
        const bool index = c == column::source || c == column::target;
        if (cls != H5T_INTEGER && (index || cls != H5T_FLOAT))
            throw config_error(file.string() + ": dataset '" + name + "' holds " + class_name(cls) + "; " +
                               (index ? "source and target must hold integers"
                                      : "weight and delay must hold numbers (integer or floating point)"));
        s.datasets[c] = std::move(object);
    }
    s.rows = lengths[column::source];
    bool same = true;
    std::string listed;
    for (std::size_t c = 0; c < num_columns; ++c) {
        if (!s.datasets[c]) continue;
        same = same && lengths[c] == s.rows;
        if (!listed.empty()) listed += ", ";
        listed += std::string(column_names[c]) + " " + std::to_string(lengths[c]);
    }
    if (!same)
        throw config_error(file.string() + ": datasets of different lengths (" + listed +
                           "); each must hold one value per synapse");
    return s;
}

// inspect_h5, where HDF5 failing to read the metadata is the file's problem (exit 2, the
// projection named), as data that does not read is.
h5_synapses open_h5(const fs::path& file) {
    try {
        return inspect_h5(file);
    } catch (const runtime_failure& e) {
        throw config_error(file.string() + ": its metadata cannot be read (a damaged file?: " + e.what() + ")");
    }
}

// Signed indices are read as int64 into the same 8-byte words (HDF5 would clip negative values
// to 0 when converting to uint64); the caller checks the top bit. Returns whether it was signed.
bool read_indices(hid_t dataset, std::vector<std::uint64_t>& out, hsize_t n, const fs::path& file) {
    const std::string what = "read a dataset";
    h5::handle type(h5::check_id(H5Dget_type(dataset), what, file));
    const H5T_sign_t sign = H5Tget_sign(type.get());
    h5::check(sign == H5T_SGN_ERROR ? -1 : 0, what, file);
    out.resize(n);
    if (n > 0)
        h5::check(H5Dread(dataset, sign == H5T_SGN_2 ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL,
                          H5P_DEFAULT, out.data()),
                  what, file);
    return sign == H5T_SGN_2;
}

// Dataset `column`'s attribute `units`: one string, variable or fixed length (NUL- or
// space-padded); empty where it has none. config_error for anything else.
std::string units_attribute(hid_t dataset, column c, const fs::path& file) {
    const std::string what = std::string("read the attribute 'units' of '") + column_names[c] + "'";
    const htri_t exists = H5Aexists(dataset, "units");
    h5::check(exists, what, file);
    if (exists == 0) return {};
    const auto refuse = [&](const std::string& why) {
        throw config_error(file.string() + ": " + column_names[c] + "'s attribute 'units' " + why +
                           "; expected one string, as \"pA\"");
    };
    h5::handle attr(h5::check_id(H5Aopen(dataset, "units", H5P_DEFAULT), what, file));
    h5::handle space(h5::check_id(H5Aget_space(attr.get()), what, file));
    if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) return {};
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n != 1) refuse("holds " + std::to_string(n) + " values");
    h5::handle type(h5::check_id(H5Aget_type(attr.get()), what, file));
    if (H5Tget_class(type.get()) != H5T_STRING) refuse("is not a string");
    std::string value;
    if (H5Tis_variable_str(type.get()) > 0) {
        h5::handle mem(h5::check_id(H5Tcopy(H5T_C_S1), what, file));
        h5::check(H5Tset_size(mem.get(), H5T_VARIABLE), what, file);
        h5::check(H5Tset_cset(mem.get(), H5Tget_cset(type.get())), what, file);
        char* text = nullptr;
        h5::check(H5Aread(attr.get(), mem.get(), &text), what, file);
        value = text ? text : "";
        H5free_memory(text);
    } else {
        value.assign(H5Tget_size(type.get()), '\0');
        h5::check(H5Aread(attr.get(), type.get(), value.data()), what, file);
    }
    value = value.substr(0, value.find('\0'));
    // Fortran's space padding; and spaces around the unit, as a CSV header's "weight [ mV ]"
    const std::size_t first = value.find_first_not_of(' '), last = value.find_last_not_of(' ');
    return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
}

// The file is read whole: refused by name where that cannot fit. A file of a few KiB may declare
// 2^40 rows (chunks never written), and check, which reads it to check every row, ran out of
// memory with no file named.
void require_memory_to_read(const h5_synapses& s, const fs::path& file) {
    std::size_t bytes_per_row = 2 * sizeof(std::uint64_t);
    for (const column c : {column::weight, column::delay})
        if (s.datasets[c]) bytes_per_row += sizeof(double);
    memory_estimate need;
    need.bytes = double(s.rows) * double(bytes_per_row);
    const std::uint64_t available = available_memory();
    if (fits_in_memory(need, available)) return;
    throw runtime_failure(file.string() + ": its " + std::to_string(s.rows) + " rows need about " +
                          format_bytes(need.bytes) + " to be read" + but_available(available));
}

void read_reals(hid_t dataset, std::vector<double>& out, hsize_t n, const fs::path& file) {
    out.resize(n);
    if (n > 0)
        h5::check(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                  "read a dataset", file);
}

}  // namespace

synapse_columns h5_columns(const fs::path& file) {
    const h5::reading_lock guard(file);
    const h5_synapses s = open_h5(file);
    return {static_cast<bool>(s.datasets[column::weight]), static_cast<bool>(s.datasets[column::delay])};
}

std::uint64_t h5_rows(const fs::path& file) {
    const h5::reading_lock guard(file);
    return open_h5(file).rows;
}

synapse_table read_h5(const fs::path& file, const synapse_file_limits& limits) {
    synapse_table t;
    std::array<bool, 2> is_signed{};
    {
        const h5::reading_lock guard(file);  // declared first: released after the handles close
        const h5_synapses s = open_h5(file);
        // Units first: a file in another unit is refused before gigabytes of it are read.
        for (std::size_t c = 0; c < num_columns; ++c)
            if (s.datasets[c]) check_unit(file, column(c), units_attribute(s.datasets[c].get(), column(c), file), limits);
        require_memory_to_read(s, file);
        // A dataset that opens but does not read (a damaged compressed chunk, a filter this HDF5
        // lacks) is the input's problem, not the run's: config_error, which names the projection
        // (exit 2, as for a missing file).
        try {
            for (const column c : {column::source, column::target})
                is_signed[c] = read_indices(s.datasets[c].get(), c == column::source ? t.source : t.target, s.rows, file);
            if (s.datasets[column::weight]) read_reals(s.datasets[column::weight].get(), t.weight, s.rows, file);
            if (s.datasets[column::delay]) read_reals(s.datasets[column::delay].get(), t.delay_ms, s.rows, file);
        } catch (const runtime_failure& e) {
            throw config_error(file.string() + ": its data cannot be read (a damaged or incomplete file, a "
                               "compression filter this HDF5 lacks, or an I/O error: " + e.what() + ")");
        }
    }
    row_checks checks(file, limits, format::hdf5);
    const auto check_sign = [&](column c, std::uint64_t v, std::uint64_t i) {
        if (is_signed[c] && (v >> 63) != 0)
            checks.fail(i, std::string(column_names[c]) + " = " + std::to_string(std::int64_t(v)) +
                               " is negative; neuron indices are >= 0");
    };
    for (std::size_t i = 0; i < t.source.size(); ++i) {
        check_sign(column::source, t.source[i], i);
        checks.source(t.source[i], i);
        check_sign(column::target, t.target[i], i);
        checks.target(t.target[i], i);
        if (!t.weight.empty()) checks.weight(t.weight[i], i);
        if (!t.delay_ms.empty()) checks.delay(t.delay_ms[i], i);
    }
    checks.all_rows();
    return t;
}

}  // namespace ifsim::synapse_file_detail
