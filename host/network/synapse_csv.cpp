// The CSV synapse reader (synapse_file.hpp): a block-buffered line reader and std::from_chars, every
// row checked as it is parsed.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ifsim/units.hpp"
#include "synapse_rows.hpp"

namespace ifsim::synapse_file_detail {

namespace {

// Far beyond any row or header, so that a file without line ends is refused, not read whole. The
// same for every line, whatever the block it is read in (check's and run's readers differ).
constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

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
            const std::size_t length = newline ? std::size_t(static_cast<const char*>(newline) - begin) : available;
            if (length > max_line_bytes)
                throw config_error(file_.string() + ":" + std::to_string(line_number_ + 1) + ": a line of more than " +
                                   std::to_string(max_line_bytes >> 20) +
                                   " MiB; a synapse list has one short line per synapse (is it a CSV file?)");
            if (newline == nullptr && !eof_) {
                refill();
                continue;
            }
            if (newline == nullptr && available == 0) return false;
            // The last line may lack its "\n".
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
    // Moves the unread tail to the front and reads after it; a line longer than the buffer grows it
    // (next() refuses one beyond max_line_bytes first).
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
constexpr std::uint64_t sample_rows = std::uint64_t{1} << 16;    // rows that tell the mean row length

// The rows of the whole file, when its first `rows` rows ran from header_bytes to lines.consumed():
// exact where they were all of it, else the rest of the file at their mean length, 5 % to spare.
std::uint64_t rows_in_file(const line_reader& lines, std::uint64_t header_bytes, std::uint64_t rows) {
    if (rows == 0 || lines.file_size() <= lines.consumed()) return rows;
    const double bytes_per_row = double(lines.consumed() - header_bytes) / double(rows);
    return std::uint64_t(1.05 * double(lines.file_size() - header_bytes) / bytes_per_row) + 16;
}

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

// A field without the double quotes R's write.csv (names) and Python's csv.QUOTE_ALL (every field)
// put around it; commas never occur inside one here.
std::string_view unquoted(std::string_view field) {
    return field.size() >= 2 && field.front() == '"' && field.back() == '"' ? field.substr(1, field.size() - 2) : field;
}

struct csv_header {
    std::vector<column> order;  // the columns, in file order
    synapse_columns present;
    std::string names;          // as the header names them, "source,target,weight", for messages
    std::array<std::string, num_columns> unit;  // "weight [pA]": "pA"; empty where none is named
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
        std::string_view name = trim(unquoted(trim(line.substr(from, comma - from))));
        from = comma + 1;
        // "weight [pA]": the column and its unit.
        std::string_view unit;
        if (const std::size_t open = name.find('['); open != std::string_view::npos) {
            if (name.back() != ']')
                fail("column '" + printable(name) + "': a unit goes in brackets at the end, as 'weight [pA]'");
            unit = trim(name.substr(open + 1, name.size() - open - 2));
            name = trim(name.substr(0, open));
        }
        const auto it = std::find(column_names.begin(), column_names.end(), name);
        if (name.empty())
            fail("an empty column name in the header '" + std::string(line) +
                 "'; the columns are source, target, weight and delay, separated by commas (R's write.csv "
                 "writes row names first: give it row.names = FALSE)");
        if (it == column_names.end())
            fail("unknown column '" + printable(name) +
                 "'; the columns are source, target, weight and delay (source and target required)");
        const column c = column(it - column_names.begin());
        if (seen[c]) fail("column '" + std::string(name) + "' appears twice in the header");
        seen[c] = true;
        h.unit[c] = std::string(unit);
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
    if (ec == std::errc::result_out_of_range) checks.not_a_neuron(c, printable(field), at);
    if (field.empty())
        checks.fail(at, std::string(column_names[c]) + " is empty; expected a neuron index, a whole number >= 0");
    checks.fail(at, std::string(column_names[c]) + " = '" + printable(field) +
                        "' is not a neuron index; expected a whole number >= 0 (digits only)");
}

[[noreturn]] void bad_real(const row_checks& checks, column c, std::string_view field, std::errc ec,
                           std::uint64_t at) {
    const std::string name = column_names[c];
    const std::string example = c == column::delay ? "1.5 or 2e-1 (ms)" : "0.5, -2 or 1.5e-3";
    if (field.empty()) checks.fail(at, name + " is empty; expected a number such as " + example);
    if (ec == std::errc::result_out_of_range)
        checks.fail(at, name + " = '" + printable(field) + "' is out of the range of a double (magnitude 0 or 2.2e-308 to 1.8e308)");
    checks.fail(at, name + " = '" + printable(field) + "' is not a number; expected a decimal number such as " +
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

}  // namespace

synapse_columns csv_columns(const fs::path& file) {
    line_reader lines(file, header_block);
    return read_header(lines, file).present;
}

std::uint64_t csv_rows_estimate(const fs::path& file) {
    line_reader lines(file, header_block);
    read_header(lines, file);
    const std::uint64_t header_bytes = lines.consumed();
    std::uint64_t rows = 0;
    std::string_view line;
    while (rows < sample_rows && lines.next(line))
        if (!blank_or_comment(line)) ++rows;
    return rows_in_file(lines, header_bytes, rows);
}

synapse_table read_csv(const fs::path& file, const synapse_file_limits& limits) {
    line_reader lines(file, full_read_block);
    const csv_header header = read_header(lines, file);
    for (std::size_t c = 0; c < num_columns; ++c) check_unit(file, column(c), header.unit[c], limits);
    row_checks checks(file, limits, format::csv);
    synapse_table t;
    const std::size_t n = header.order.size();
    // Reserve once, from the bytes per row of the first rows, rather than double ~27 times.
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
            const std::string_view field = trim(unquoted(trim(std::string_view(p, std::size_t(field_end - p)))));
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
            const std::uint64_t rows = rows_in_file(lines, header_bytes, sample_rows);
            t.source.reserve(rows);
            t.target.reserve(rows);
            if (header.present.weight) t.weight.reserve(rows);
            if (header.present.delay) t.delay_ms.reserve(rows);
        }
    }
    checks.all_rows();
    return t;
}

}  // namespace ifsim::synapse_file_detail
