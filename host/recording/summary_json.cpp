// summary.json writer: a small, strict JSON emitter for run_summary (see ifsim/summary.hpp).
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/summary.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace ifsim {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    return n;
}

void put_string(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t n = utf8_length(s, i);
            if (n == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    out += '"';
}

void put_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[32];
    // Shortest text that reads back to the same double.
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, result.ptr);
}

void put_number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, result.ptr);
}

// Writes members of one object with `indent` spaces, separating with ",\n".
class object_writer {
public:
    object_writer(std::string& out, int indent) : out_(out), indent_(indent) { out_ += "{"; }

    template <class T>
    void member(std::string_view key, const T& value) {
        start(key);
        put(value);
    }

    std::string& raw(std::string_view key) {
        start(key);
        return out_;
    }

    void end() {
        if (!first_) {
            out_ += '\n';
            out_.append(std::size_t(indent_ - 2), ' ');
        }
        out_ += '}';
    }

private:
    void start(std::string_view key) {
        out_ += first_ ? "\n" : ",\n";
        first_ = false;
        out_.append(std::size_t(indent_), ' ');
        put_string(out_, key);
        out_ += ": ";
    }
    void put(const std::string& v) { put_string(out_, v); }
    void put(double v) { put_number(out_, v); }
    void put(std::uint64_t v) { put_number(out_, v); }

    std::string& out_;
    int indent_;
    bool first_ = true;
};

// A top-level member's array: one item per line, indented under its key ("[]" when empty).
template <class T, class Put>
void put_array(std::string& out, const std::vector<T>& items, Put put) {
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i == 0 ? "\n    " : ",\n    ";
        put(out, items[i]);
    }
    out += items.empty() ? "]" : "\n  ]";
}

}  // namespace

std::string summary_json(const run_summary& s) {
    std::string out;
    object_writer run(out, 2);
    run.member("status", s.status);
    run.member("message", s.message);
    run.member("ifsim_version", s.ifsim_version);
    run.member("backend", s.backend);
    run.member("device", s.device);
    run.member("precision", s.precision);
    run.member("config_file", s.config_file);
    run.member("config_digest", s.config_digest);
    run.member("seed", s.seed);
    run.member("dt_ms", s.dt_ms);
    run.member("steps", s.steps);
    run.member("steps_total", s.steps_total);
    run.member("simulated_ms", s.simulated_ms);
    run.member("wall_s", s.wall_s);
    run.member("neurons", s.neurons);
    run.member("spikes", s.spikes);
    run.member("neuron_steps_per_s", s.neuron_steps_per_s);
    run.member("real_time_factor", s.real_time_factor);
    run.member("least_bytes_moved", s.least_bytes_moved);
    if (s.synapses > 0) {
        run.member("synapses", s.synapses);
        run.member("bytes_per_synapse", s.bytes_per_synapse);
        run.member("network_build_s", s.network_build_s);
        run.member("synaptic_events", s.synaptic_events);
        run.member("synaptic_events_per_s", s.synaptic_events_per_s);
    }

    put_array(run.raw("populations"), s.populations, [](std::string& out, const population_summary& p) {
        object_writer pop(out, 6);
        pop.member("name", p.name);
        pop.member("neurons", p.neurons);
        pop.member("spikes", p.spikes);
        pop.member("mean_rate_Hz", p.mean_rate_Hz);
        pop.member("mean_cv", p.mean_cv);
        pop.member("neurons_with_cv", p.neurons_with_cv);
        pop.end();
    });
    if (!s.projections.empty())
        put_array(run.raw("projections"), s.projections, [](std::string& out, const projection_summary& p) {
            object_writer projection(out, 6);
            projection.member("source", p.source);
            projection.member("target", p.target);
            projection.member("synapses", p.synapses);
            if (!p.file.empty()) {
                projection.member("file", p.file);
                projection.member("file_sha256", p.file_sha256);
            }
            projection.end();
        });
    put_array(run.raw("files"), s.files, [](std::string& out, const std::string& f) { put_string(out, f); });
    run.end();
    out += '\n';
    return out;
}

void write_summary_json(const std::filesystem::path& path, const run_summary& summary) {
    write_file_atomically(path, summary_json(summary));
}

namespace {

// The end of the string whose opening quote is at `at`: its closing quote, past escaped ones.
std::size_t string_end(std::string_view json, std::size_t at) {
    for (std::size_t k = at + 1; k < json.size(); ++k) {
        if (json[k] == '\\') ++k;
        else if (json[k] == '"') return k;
    }
    return std::string_view::npos;
}

constexpr std::string_view blanks = " \t\r\n";

// Where a top-level key's value starts: past `"key":` in the outermost object, outside strings,
// whatever the layout (summary_json's, or the file saved again compactly or indented otherwise).
std::size_t value_start(std::string_view json, std::string_view key) {
    int depth = 0;
    for (std::size_t k = 0; k < json.size(); ++k) {
        const char c = json[k];
        if (c == '"') {
            const std::size_t end = string_end(json, k);
            if (end == std::string_view::npos) return end;
            if (depth == 1 && json.substr(k + 1, end - k - 1) == key) {
                const std::size_t colon = json.find_first_not_of(blanks, end + 1);
                if (colon != std::string_view::npos && json[colon] == ':') return json.find_first_not_of(blanks, colon + 1);
            }
            k = end;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return std::string_view::npos;
}

}  // namespace

std::optional<std::string> summary_value(std::string_view json, std::string_view key) {
    const std::size_t from = value_start(json, key);
    if (from == std::string_view::npos) return std::nullopt;
    const std::size_t to = from < json.size() && json[from] == '"' ? string_end(json, from) + 1
                                                                     : json.find_first_of(",}\t\r\n ", from);
    return std::string(json.substr(from, to < from ? std::string_view::npos : to - from));
}

std::optional<std::vector<std::string>> summary_strings(std::string_view json, std::string_view key) {
    std::size_t at = value_start(json, key);
    if (at == std::string_view::npos || json.substr(at, 1) != "[") return std::nullopt;
    std::vector<std::string> out;
    for (++at; (at = json.find_first_not_of(" \t\r\n,", at)) != std::string_view::npos && json[at] == '"';) {
        const std::size_t end = string_end(json, at);
        if (end == std::string_view::npos) break;
        const std::string_view text = json.substr(at + 1, end - at - 1);
        if (text.find('\\') != std::string_view::npos) break;  // an escape: no name summary_json writes
        out.emplace_back(text);
        at = end + 1;
    }
    return out;
}

}  // namespace ifsim
