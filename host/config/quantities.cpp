// Reading typed values out of TOML nodes, with messages that name the file, line, key path, value
// and what is accepted: quantities with units, per-neuron distributions, integers, strings.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <tuple>

#include "config_detail.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {

std::string toml_escaped(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    std::array<char, 8> hex{};
                    std::snprintf(hex.data(), hex.size(), "\\u%04X", unsigned(u));
                    out += hex.data();
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string printable(std::string_view s) {
    constexpr std::size_t max_len = 60;
    std::size_t cut = s.size();
    if (s.size() > max_len) {
        cut = max_len;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    }
    std::string out = toml_escaped(s.substr(0, cut));
    if (cut < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

std::string non_ascii_hint(std::string_view s) {
    const auto at = std::find_if(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (at == s.end()) return "";
    // The code point of the UTF-8 sequence there (a stray byte stands for itself).
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(at[k]); };
    const std::size_t left = std::size_t(s.end() - at);
    std::uint32_t cp = byte(0);
    if ((cp & 0xE0) == 0xC0 && left >= 2) cp = ((cp & 0x1F) << 6) | (byte(1) & 0x3F);
    else if ((cp & 0xF0) == 0xE0 && left >= 3) cp = ((cp & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    else if ((cp & 0xF8) == 0xF0 && left >= 4)
        cp = ((cp & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    const bool space = cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    const bool dash = cp == 0x2212 || (cp >= 0x2010 && cp <= 0x2015) || cp == 0xFE63 || cp == 0xFF0D;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", unsigned(cp));
    return std::string("; it holds ") + code +
           (space  ? ", a space that is not ASCII's: write a plain space"
            : dash ? ", a dash or minus sign that is not ASCII's: write '-'"
                   : ", beyond ASCII: numbers and units are written in ASCII (or u for micro)");
}

}  // namespace ifsim

namespace ifsim::config_detail {

namespace {

bool within(std::string_view inner, std::string_view outer) {
    return inner.starts_with(outer) &&
           (inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[');
}

std::string quote(std::string_view s) { return "\"" + printable(s) + "\""; }

std::string a_dimension(dimension d) {
    const std::string_view n = dimension_name(d);
    const bool vowel = !n.empty() && std::string_view("aeiou").find(n[0]) != std::string_view::npos;
    return std::string(vowel ? "an " : "a ") + std::string(n);
}

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        default: return "a date/time";
    }
}

}  // namespace


void context::fail(const toml::node* at, std::string_view path, const std::string& message) const {
    const std::pair<std::string, std::string>* via = nullptr;
    bool inside = false;
    for (const auto& o : overridden) {
        if (within(path, o.first)) via = &o, inside = true;
        else if (within(o.first, path) && !inside) via = &o;
    }
    std::string out = source;
    if (!inside && at != nullptr && at->source().begin.line > 0)
        out.append(":").append(std::to_string(at->source().begin.line)).append(":").append(
            std::to_string(at->source().begin.column));
    out += ": " + message;
    if (via != nullptr) out += " (set by --set " + via->second + ")";
    throw config_error(out);
}

std::string render(const toml::node& n) {
    constexpr std::size_t max_len = 80;
    std::string out;
    switch (n.type()) {
        case toml::node_type::string: return quote(n.as_string()->get());
        case toml::node_type::integer: return std::to_string(n.as_integer()->get());
        case toml::node_type::floating_point: {
            // 5.0 stays "5.0" so that a float is told apart from the integer 5.
            std::string text = format_number(n.as_floating_point()->get());
            if (text.find_first_of(".eni") == std::string::npos) text.append(".0", 2);
            return text;
        }
        case toml::node_type::boolean: return std::string(n.as_boolean()->get() ? "true" : "false");
        case toml::node_type::array: {
            out = "[";
            const auto& a = *n.as_array();
            for (std::size_t i = 0; i < a.size() && out.size() < max_len; ++i)
                out += (i ? ", " : "") + render(a[i]);
            out += out.size() >= max_len ? ", ...]" : "]";
            break;
        }
        case toml::node_type::table: {
            out = "{ ";
            bool first = true;
            for (auto&& [k, v] : *n.as_table()) {
                if (out.size() >= max_len) {
                    out += ", ...";
                    break;
                }
                out += (first ? "" : ", ") + std::string(k.str()) + " = " + render(v);
                first = false;
            }
            out += " }";
            break;
        }
        default: {
            std::ostringstream s;
            n.visit([&](const auto& v) { s << v; });
            out = s.str();
        }
    }
    return out;
}

std::string says(std::string_view path, const toml::node& n) {
    return std::string(path) + " = " + render(n) + ": ";
}

std::string child_path(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string element_path(std::string_view path, std::size_t index) {
    return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string join(std::span<const std::string_view> words) {
    std::string out;
    for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
    return out;
}

std::string default_record_name(std::string_view population, std::string_view state, const toml::node* projection) {
    std::string name = std::string(population) + "_" + std::string(state);
    // append, not "_" + ...: gcc 12's false -Wrestrict
    if (projection && projection->is_integer()) name.append("_").append(std::to_string(projection->as_integer()->get()));
    if (projection && projection->is_string()) {  // "input.poisson", or a projection's name
        const std::string& p = projection->as_string()->get();
        name.append("_").append(p == "input.poisson" ? "poisson" : p);
    }
    return name;
}

void check_keys(const context& ctx, const toml::table& t, std::string_view path,
                std::span<const std::string_view> allowed) {
    for (auto&& [k, v] : t) {
        bool known = false;
        for (auto a : allowed) known = known || a == k.str();
        if (known) continue;
        std::string msg = "unknown key '" + child_path(path, printable(k.str())) + "'";
        msg += did_you_mean(path, k.str(), allowed);
        msg += " (" + (path.empty() ? std::string("the top level") : std::string(path)) +
               " accepts: " + join(allowed) + ")";
        ctx.fail(&v, child_path(path, k.str()), msg);
    }
}

const toml::table* optional_table(const context& ctx, const toml::table& parent,
                                  std::string_view path, std::string_view key) {
    const toml::node* n = parent.get(key);
    if (n == nullptr) return nullptr;
    const std::string p = child_path(path, key);
    if (!n->is_table()) {
        // The header form under [[population]] is [population.input.noise]: no element index.
        std::string header;
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i] == '[') i = p.find(']', i);
            else header += p[i];
        }
        ctx.fail(n, p, says(p, *n) + "expected a table (" + std::string(key) + " = { ... }, or a [" + header + "] section)");
    }
    return n->as_table();
}

void check_at_most_max_steps(const context& ctx, const toml::node& n, std::string_view path, double ms, double dt_ms) {
    if (ms / dt_ms <= max_steps) return;
    ctx.fail(&n, path,
             says(path, n) + "is " + format_number(ms / dt_ms) + " steps of dt = \"" + format_quantity(dt_ms, dimension::time) +
                 "\"; a time that becomes a step must be at most 2^40 = 1099511627776 steps (" +
                 format_quantity(max_steps * dt_ms, dimension::time) + "), the longest run");
}

double read_quantity(const context& ctx, const toml::node& n, std::string_view path, dimension d) {
    const std::string unit(default_unit(d));
    const std::string example = format_quantity(1.5, d);
    switch (n.type()) {
        case toml::node_type::integer: {
            const auto v = n.as_integer()->get();
            if (v > (std::int64_t{1} << 53) || v < -(std::int64_t{1} << 53))
                ctx.fail(&n, path, says(path, n) + "too large to be exact; write it as a float");
            return static_cast<double>(v);
        }
        case toml::node_type::floating_point: {
            const double v = n.as_floating_point()->get();
            if (!std::isfinite(v))
                ctx.fail(&n, path,
                         says(path, n) + "not a finite number; expected " + a_dimension(d) +
                             (unit.empty() ? "" : " in " + unit + " or a string such as \"" +
                                                      example + "\""));
            return v;
        }
        case toml::node_type::string:
            try {
                return parse_quantity(n.as_string()->get(), d, path);
            } catch (const config_error& e) {
                ctx.fail(&n, path, e.what());
            }
        default:
            ctx.fail(&n, path,
                     says(path, n) + type_name(n) + ", but " + a_dimension(d) + " is expected: " +
                         (unit.empty() ? std::string("a number")
                                       : "a number in " + unit + " or a string such as \"" +
                                             example + "\""));
    }
}

std::int64_t read_integer(const context& ctx, const toml::node& n, std::string_view path,
                          std::int64_t lo, std::int64_t hi) {
    const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!n.is_integer()) ctx.fail(&n, path, says(path, n) + type_name(n) + ", but " + range + " is expected");
    const auto v = n.as_integer()->get();
    if (v < lo || v > hi) ctx.fail(&n, path, says(path, n) + "out of range; expected " + range);
    return v;
}

std::string read_string(const context& ctx, const toml::node& n, std::string_view path,
                        std::string_view accepted) {
    if (!n.is_string())
        ctx.fail(&n, path, says(path, n) + type_name(n) + ", but a string is expected (" +
                               std::string(accepted) + ")");
    return n.as_string()->get();
}

bool read_bool(const context& ctx, const toml::node& n, std::string_view path) {
    if (!n.is_boolean())
        ctx.fail(&n, path, says(path, n) + type_name(n) + ", but true or false is expected");
    return n.as_boolean()->get();
}

namespace {

// The two ends of a linspace or uniform: an array of exactly two quantities.
std::pair<double, double> read_pair(const context& ctx, const toml::node& n, std::string_view path,
                                    dimension d, std::string_view form) {
    const auto* a = n.as_array();
    if (a == nullptr || a->size() != 2)
        ctx.fail(&n, path,
                 says(path, n) + "expected two values, " + std::string(form) + " = [" +
                     (form == "uniform" ? "low, high" : "first, last") + "], e.g. [\"" +
                     format_quantity(1.5, d) + "\", \"" + format_quantity(2.5, d) + "\"]" +
                     (a ? " (got " + std::to_string(a->size()) + " values)" : ""));
    return {read_quantity(ctx, (*a)[0], element_path(path, 0), d),
            read_quantity(ctx, (*a)[1], element_path(path, 1), d)};
}

distribution read_array(const context& ctx, const toml::array& a, std::string_view path,
                        dimension d, owner who) {
    if (a.size() != who.size)
        ctx.fail(&a, path,
                 std::string(path) + " has " + std::to_string(a.size()) + " values, but population '" +
                     std::string(who.population) + "' has size " + std::to_string(who.size) +
                     "; an array needs exactly one value per neuron (or use linspace, uniform, "
                     "normal)");
    distribution dist;
    dist.type = distribution::kind::array;
    dist.values.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        dist.values.push_back(read_quantity(ctx, a[i], element_path(path, i), d));
    return dist;
}

}  // namespace

mean_std_nodes read_mean_std(const context& ctx, const toml::node& value, std::string_view p, std::string_view form,
                             std::string_view example_mean, dimension d) {
    mean_std_nodes out;
    if (const auto* a = value.as_array(); a != nullptr && a->size() == 2) {
        out.mean = &(*a)[0], out.mean_path = element_path(p, 0);
        out.std_dev = &(*a)[1], out.std_path = element_path(p, 1);
    } else if (const auto* t = value.as_table()) {
        static constexpr std::array<std::string_view, 2> keys = {"mean", "std"};
        check_keys(ctx, *t, p, keys);
        out.mean = t->get("mean"), out.mean_path = child_path(p, "mean");
        out.std_dev = t->get("std"), out.std_path = child_path(p, "std");
    }
    if (out.mean == nullptr || out.std_dev == nullptr)
        ctx.fail(&value, p,
                 says(p, value) + "expected " + std::string(form) + " = [mean, std] or { mean = ..., std = ... }, e.g. [\"" +
                     std::string(example_mean) + "\", \"" + format_quantity(0.5, d) + "\"]");
    return out;
}

distribution read_distribution(const context& ctx, const toml::node& n, std::string_view path,
                               dimension d, owner who) {
    if (n.is_array()) return read_array(ctx, *n.as_array(), path, d, who);
    if (!n.is_table()) return distribution::constant(read_quantity(ctx, n, path, d));

    const auto& t = *n.as_table();
    check_keys(ctx, t, path, distribution_keys);
    if (t.size() != 1)
        ctx.fail(&n, path,
                 says(path, n) + "a per-neuron value is a quantity or a table with exactly one of " +
                     join(distribution_keys));
    const auto first = t.begin();
    const toml::key& key = first->first;
    const toml::node& value = first->second;
    const std::string p = child_path(path, key.str());
    distribution dist;
    if (key.str() == "linspace") {
        std::tie(dist.a, dist.b) = read_pair(ctx, value, p, d, "linspace");
        dist.type = distribution::kind::linspace;
    } else if (key.str() == "uniform") {
        std::tie(dist.a, dist.b) = read_pair(ctx, value, p, d, "uniform");
        dist.type = distribution::kind::uniform;
        if (!(dist.a <= dist.b))
            ctx.fail(&value, p,
                     says(p, value) + "low = " + format_quantity(dist.a, d) + " is above high = " +
                         format_quantity(dist.b, d) + "; expected [low, high] with low <= high");
    } else if (key.str() == "normal") {
        // normal = [mean, std] or { mean = ..., std = ... }, as for a per-synapse value.
        const mean_std_nodes m = read_mean_std(ctx, value, p, "normal", format_quantity(-1.5, d), d);
        dist.type = distribution::kind::normal;
        dist.a = read_quantity(ctx, *m.mean, m.mean_path, d);
        dist.b = read_quantity(ctx, *m.std_dev, m.std_path, d);
        if (!(dist.b >= 0.0))
            ctx.fail(m.std_dev, m.std_path, says(m.std_path, *m.std_dev) + "a standard deviation must be >= 0");
    } else {  // array
        if (!value.is_array())
            ctx.fail(&value, p, says(p, value) + type_name(value) + ", but an array of " +
                                    std::to_string(who.size) + " values is expected");
        dist = read_array(ctx, *value.as_array(), p, d, who);
    }
    return dist;
}

}  // namespace ifsim::config_detail
