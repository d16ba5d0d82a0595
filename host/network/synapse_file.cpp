// Reading synapse files (synapse_file.hpp): a block-buffered CSV parser on std::from_chars, an HDF5
// reader that reads each dataset whole, and the row checks both formats share.
#include "ifsim/synapse_file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "../recording/hdf5_util.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {

namespace {

namespace fs = std::filesystem;

// Column indices follow `column_names`.
enum column : std::size_t { source, target, weight, delay, num_columns };
constexpr std::array<const char*, num_columns> column_names{"source", "target", "weight", "delay"};

// Shortest text that reads back as v ("0.2", "-1e-05", "inf").
std::string number(double v) {
    std::array<char, 32> text{};
    const auto end = std::to_chars(text.data(), text.data() + text.size(), v).ptr;
    return std::string(text.data(), end);
}

enum class format { csv, hdf5 };

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
}

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
        if (w < 0 && limits_.weights_non_negative)
            fail(at, "weight = " + number(w) + " is negative; conductances must be >= 0 nS");
        if (w == 0) return;
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
};

// --- CSV ----------------------------------------------------------------------------------------

// The lines of a text file, read in large blocks: next() gives each line without its "\n" or
// "\r\n", as a view into the block that stays valid until the next call.
class line_reader {
public:
    line_reader(const fs::path& file, std::size_t block_bytes)
        : file_(file), in_(std::fopen(file.c_str(), "rb")), buffer_(block_bytes) {
        if (!in_) throw config_error(file.string() + ": cannot open: " + std::strerror(errno));
        std::error_code ec;
        size_ = fs::file_size(file, ec);
        if (ec) size_ = 0;
    }

    bool next(std::string_view& line) {
        for (;;) {
            const char* begin = buffer_.data() + begin_;
            const std::size_t available = end_ - begin_;
            const void* newline = std::memchr(begin, '\n', available);
            if (newline == nullptr && !eof_) {
                refill();
                continue;
            }
            if (newline == nullptr && available == 0) return false;
            // The last line may lack its "\n".
            const std::size_t length = newline ? std::size_t(static_cast<const char*>(newline) - begin) : available;
            begin_ += newline ? length + 1 : length;
            consumed_ += newline ? length + 1 : length;
            line = std::string_view(begin, length);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            // A byte-order mark, as spreadsheet programs write, is not part of the first name.
            if (line_number_ == 0 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
            ++line_number_;
            return true;
        }
    }

    std::uint64_t line_number() const { return line_number_; }  // of the last line next() gave
    std::uint64_t consumed() const { return consumed_; }        // bytes up to the end of that line
    std::uint64_t file_size() const { return size_; }           // 0 if unknown

private:
    // Moves the unread tail to the front and reads after it; a line longer than the buffer grows it.
    void refill() {
        const std::size_t tail = end_ - begin_;
        std::memmove(buffer_.data(), buffer_.data() + begin_, tail);
        begin_ = 0;
        end_ = tail;
        if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
        const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, in_.get());
        end_ += got;
        if (got < buffer_.size() - tail) {
            if (std::ferror(in_.get()))
                throw config_error(file_.string() + ": cannot read: " + std::strerror(errno));
            eof_ = true;
        }
    }

    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    const fs::path& file_;
    std::unique_ptr<std::FILE, closer> in_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0, end_ = 0;  // the unread bytes of buffer_
    bool eof_ = false;
    std::uint64_t line_number_ = 0, consumed_ = 0, size_ = 0;
};

constexpr std::size_t full_read_block = std::size_t{16} << 20;  // fread calls stay a small cost
constexpr std::size_t header_block = std::size_t{64} << 10;     // enough for any sane header

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool blank_or_comment(std::string_view line) {
    for (const char c : line) {
        if (c == ' ' || c == '\t') continue;
        return c == '#';
    }
    return true;
}

struct csv_header {
    std::vector<column> order;  // the columns, in file order
    synapse_columns present;
    std::string names;          // as the header names them, "source,target,weight", for messages
};

// Reads up to and including the header line.
csv_header read_header(line_reader& lines, const fs::path& file) {
    std::string_view line;
    do {
        if (!lines.next(line))
            throw config_error(file.string() +
                               ": no header; the first line that is not blank or a comment (#) must name the "
                               "columns: source and target, and optionally weight and delay");
    } while (blank_or_comment(line));

    const std::uint64_t at = lines.line_number();
    const auto fail = [&](const std::string& what) {
        throw config_error(file.string() + ":" + std::to_string(at) + ": " + what);
    };
    csv_header h;
    std::array<bool, num_columns> seen{};
    for (std::size_t from = 0; from <= line.size();) {
        const std::size_t comma = std::min(line.find(',', from), line.size());
        const std::string_view name = trim(line.substr(from, comma - from));
        from = comma + 1;
        const auto it = std::find(column_names.begin(), column_names.end(), name);
        if (name.empty())
            fail("an empty column name in the header '" + std::string(line) +
                 "'; the columns are source, target, weight and delay, separated by commas");
        if (it == column_names.end())
            fail("unknown column '" + std::string(name) +
                 "'; the columns are source, target, weight and delay (source and target required)");
        const column c = column(it - column_names.begin());
        if (seen[c]) fail("column '" + std::string(name) + "' appears twice in the header");
        seen[c] = true;
        h.order.push_back(c);
        if (!h.names.empty()) h.names += ',';
        h.names += name;
    }
    for (const column c : {column::source, column::target})
        if (!seen[c])
            throw config_error(file.string() + ": no column '" + column_names[c] +
                               "'; the header must name source and target, and may name weight and delay");
    h.present.weight = seen[column::weight];
    h.present.delay = seen[column::delay];
    return h;
}

// The failure paths of the field parsers, kept out of the loop.
[[noreturn]] void bad_index(const row_checks& checks, column c, std::string_view field, std::errc ec,
                            std::uint64_t at) {
    if (ec == std::errc::result_out_of_range) checks.not_a_neuron(c, std::string(field), at);
    if (field.empty())
        checks.fail(at, std::string(column_names[c]) + " is empty; expected a neuron index, a whole number >= 0");
    checks.fail(at, std::string(column_names[c]) + " = '" + std::string(field) +
                        "' is not a neuron index; expected a whole number >= 0 (digits only)");
}

[[noreturn]] void bad_real(const row_checks& checks, column c, std::string_view field, std::errc ec,
                           std::uint64_t at) {
    const std::string name = column_names[c];
    const std::string example = c == column::delay ? "1.5 or 2e-1 (ms)" : "0.5, -2 or 1.5e-3";
    if (field.empty()) checks.fail(at, name + " is empty; expected a number such as " + example);
    if (ec == std::errc::result_out_of_range)
        checks.fail(at, name + " = '" + std::string(field) + "' is out of the range of a double (magnitude 0 or 2.2e-308 to 1.8e308)");
    checks.fail(at, name + " = '" + std::string(field) + "' is not a number; expected a decimal number such as " +
                        example);
}

inline std::uint64_t parse_index(std::string_view field, column c, const row_checks& checks, std::uint64_t at) {
    std::uint64_t v = 0;
    const char* end = field.data() + field.size();
    const auto [ptr, ec] = std::from_chars(field.data(), end, v);
    if (ec != std::errc() || ptr != end || field.empty()) bad_index(checks, c, field, ec, at);
    return v;
}

inline double parse_real(std::string_view field, column c, const row_checks& checks, std::uint64_t at) {
    double v = 0;
    const char* end = field.data() + field.size();
    const auto [ptr, ec] = std::from_chars(field.data(), end, v);
    if (ec != std::errc() || ptr != end || field.empty()) bad_real(checks, c, field, ec, at);
    return v;
}

synapse_columns csv_columns(const fs::path& file) {
    line_reader lines(file, header_block);
    return read_header(lines, file).present;
}

synapse_table read_csv(const fs::path& file, const synapse_file_limits& limits) {
    line_reader lines(file, full_read_block);
    const csv_header header = read_header(lines, file);
    row_checks checks(file, limits, format::csv);
    synapse_table t;
    const std::size_t n = header.order.size();
    // Reserve once, from the bytes per row of the first rows, rather than double ~27 times.
    constexpr std::size_t sample_rows = std::size_t{1} << 16;
    const std::uint64_t header_bytes = lines.consumed();

    std::string_view line;
    while (lines.next(line)) {
        if (blank_or_comment(line)) continue;
        const std::uint64_t at = lines.line_number();
        std::array<std::uint64_t, 2> index{};
        std::array<double, num_columns> real{};  // weight and delay at their column's place
        const char* p = line.data();
        const char* const end = p + line.size();
        for (std::size_t k = 0; k < n; ++k) {
            const bool last = k + 1 == n;
            // Fields are a few bytes: a plain loop beats a call to memchr.
            const char* comma = p;
            while (comma != end && *comma != ',') ++comma;
            if ((comma == end) != last) {
                const auto fields = 1 + std::count(line.begin(), line.end(), ',');
                checks.fail(at, std::to_string(fields) + " fields, but the header names " + std::to_string(n) +
                                    " (" + header.names + ")");
            }
            const char* field_end = last ? end : comma;
            const std::string_view field = trim(std::string_view(p, std::size_t(field_end - p)));
            const column c = header.order[k];
            if (c == column::source || c == column::target)
                index[c] = parse_index(field, c, checks, at);
            else
                real[c] = parse_real(field, c, checks, at);
            if (!last) p = comma + 1;
        }
        checks.source(index[column::source], at);
        checks.target(index[column::target], at);
        t.source.push_back(index[column::source]);
        t.target.push_back(index[column::target]);
        if (header.present.weight) {
            checks.weight(real[column::weight], at);
            t.weight.push_back(real[column::weight]);
        }
        if (header.present.delay) {
            checks.delay(real[column::delay], at);
            t.delay_ms.push_back(real[column::delay]);
        }
        if (t.source.size() == sample_rows && lines.file_size() > lines.consumed()) {
            const double bytes_per_row = double(lines.consumed() - header_bytes) / double(sample_rows);
            const auto rows = std::size_t(1.05 * double(lines.file_size() - header_bytes) / bytes_per_row) + 16;
            t.source.reserve(rows);
            t.target.reserve(rows);
            if (header.present.weight) t.weight.reserve(rows);
            if (header.present.delay) t.delay_ms.reserve(rows);
        }
    }
    return t;
}

// --- HDF5 ---------------------------------------------------------------------------------------

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
// Hold h5::lock() while one lives.
struct h5_synapses {
    h5::handle file;
    std::array<h5::handle, num_columns> datasets;  // by column; empty where the file has none
    hsize_t rows = 0;
};

h5_synapses open_h5(const fs::path& file) {
    h5_synapses s;
    s.file = h5::handle(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!s.file) {
        try {
            h5::fail("open the file", file);
        } catch (const runtime_failure& e) {
            throw config_error(file.string() + ": cannot be read as an HDF5 file (" + e.what() + ")");
        }
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

void read_reals(hid_t dataset, std::vector<double>& out, hsize_t n, const fs::path& file) {
    out.resize(n);
    if (n > 0)
        h5::check(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                  "read a dataset", file);
}

synapse_columns h5_columns(const fs::path& file) {
    const auto guard = h5::lock();
    const h5_synapses s = open_h5(file);
    return {static_cast<bool>(s.datasets[column::weight]), static_cast<bool>(s.datasets[column::delay])};
}

synapse_table read_h5(const fs::path& file, const synapse_file_limits& limits) {
    synapse_table t;
    std::array<bool, 2> is_signed{};
    {
        const auto guard = h5::lock();  // declared first: released after the handles close
        const h5_synapses s = open_h5(file);
        for (const column c : {column::source, column::target})
            is_signed[c] = read_indices(s.datasets[c].get(), c == column::source ? t.source : t.target, s.rows, file);
        if (s.datasets[column::weight]) read_reals(s.datasets[column::weight].get(), t.weight, s.rows, file);
        if (s.datasets[column::delay]) read_reals(s.datasets[column::delay].get(), t.delay_ms, s.rows, file);
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
    return t;
}

}  // namespace

synapse_columns synapse_file_columns(const fs::path& file) {
    const format f = format_of(file);
    require_file(file);
    return f == format::csv ? csv_columns(file) : h5_columns(file);
}

synapse_table read_synapse_file(const fs::path& file, const synapse_file_limits& limits) {
    const format f = format_of(file);
    require_file(file);
    return f == format::csv ? read_csv(file, limits) : read_h5(file, limits);
}

}  // namespace ifsim
