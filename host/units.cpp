// Quantities with units: parsing "250 pF" into the default unit of its dimension, and writing a
// number back in the shortest form that reads back to the same double.
//
// Every accepted unit is a power of ten of its dimension's default unit, so a quantity is parsed by
// moving the decimal exponent in the text and letting from_chars round once: "0.25 nF" is read as
// "0.25e3" and gives exactly 250, with no second rounding from a multiplication.
#include "ifsim/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <vector>

#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {

namespace {

struct unit {
    std::string_view symbol;
    dimension dim;
    int exp10;  // value in the default unit = value in this unit * 10^exp10
};

// "u" and both micro signs (U+00B5 MICRO SIGN, U+03BC GREEK SMALL LETTER MU) spell micro.
constexpr std::array<unit, 42> units = {{
    {"V", dimension::voltage, 3},
    {"mV", dimension::voltage, 0},
    {"uV", dimension::voltage, -3},
    {"\u00b5V", dimension::voltage, -3},
    {"\u03bcV", dimension::voltage, -3},
    {"s", dimension::time, 3},
    {"ms", dimension::time, 0},
    {"us", dimension::time, -3},
    {"\u00b5s", dimension::time, -3},
    {"\u03bcs", dimension::time, -3},
    {"A", dimension::current, 12},
    {"mA", dimension::current, 9},
    {"uA", dimension::current, 6},
    {"\u00b5A", dimension::current, 6},
    {"\u03bcA", dimension::current, 6},
    {"nA", dimension::current, 3},
    {"pA", dimension::current, 0},
    {"fA", dimension::current, -3},
    {"F", dimension::capacitance, 12},
    {"uF", dimension::capacitance, 6},
    {"\u00b5F", dimension::capacitance, 6},
    {"\u03bcF", dimension::capacitance, 6},
    {"nF", dimension::capacitance, 3},
    {"pF", dimension::capacitance, 0},
    {"S", dimension::conductance, 9},
    {"mS", dimension::conductance, 6},
    {"uS", dimension::conductance, 3},
    {"\u00b5S", dimension::conductance, 3},
    {"\u03bcS", dimension::conductance, 3},
    {"nS", dimension::conductance, 0},
    {"pS", dimension::conductance, -3},
    {"Hz", dimension::frequency, 0},
    {"kHz", dimension::frequency, 3},
    {"nS/mV", dimension::conductance_per_voltage, 0},
    {"uS/mV", dimension::conductance_per_voltage, 3},
    {"\u00b5S/mV", dimension::conductance_per_voltage, 3},
    {"\u03bcS/mV", dimension::conductance_per_voltage, 3},
    {"pS/mV", dimension::conductance_per_voltage, -3},
    // pA/mV^2 = (pA/mV)/mV = nS/mV
    {"pA/mV^2", dimension::conductance_per_voltage, 0},
    {"pA/mV\u00b2", dimension::conductance_per_voltage, 0},
    {"nA/mV^2", dimension::conductance_per_voltage, 3},
    {"nA/mV\u00b2", dimension::conductance_per_voltage, 3},
}};

const unit* find_unit(std::string_view symbol) {
    for (const auto& u : units)
        if (u.symbol == symbol) return &u;
    return nullptr;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "mV, V, uV" for the message; ASCII spellings only, the micro signs are mentioned once.
std::string accepted_units(dimension d) {
    std::string out;
    for (const auto& u : units) {
        if (u.dim != d) continue;
        if (u.symbol.find('\xc2') != std::string_view::npos ||
            u.symbol.find('\xce') != std::string_view::npos)
            continue;  // micro-sign and superscript spellings: same as the ASCII ones
        if (!out.empty()) out += ", ";
        out += u.symbol;
    }
    if (out.empty()) return "none, a bare number";
    const bool micro = out.find(", u") != std::string::npos;
    return out + (micro ? " (u or \u00b5 for micro)" : "") + "; a bare number is in " +
           std::string(default_unit(d));
}

// Control characters escaped (a NUL cut the message short; an ESC reached the terminal raw).
std::string quoted(std::string_view text) { return "\"" + printable(text) + "\""; }

[[noreturn]] void fail(std::string_view key, std::string_view text, const std::string& problem) {
    throw config_error(std::string(key) + " = " + quoted(text) + ": " + problem);
}

std::string a_dimension(dimension d) {
    const std::string_view n = dimension_name(d);
    const bool vowel = !n.empty() && (n[0] == 'a' || n[0] == 'e' || n[0] == 'i' || n[0] == 'o' ||
                                      n[0] == 'u');
    return std::string(vowel ? "an " : "a ") + std::string(n);
}

}  // namespace

std::string_view default_unit(dimension d) {
    switch (d) {
        case dimension::dimensionless: return "";
        case dimension::voltage: return "mV";
        case dimension::time: return "ms";
        case dimension::current: return "pA";
        case dimension::capacitance: return "pF";
        case dimension::conductance: return "nS";
        case dimension::frequency: return "Hz";
        case dimension::conductance_per_voltage: return "nS/mV";
    }
    return "";
}

std::string_view dimension_name(dimension d) {
    switch (d) {
        case dimension::dimensionless: return "dimensionless number";
        case dimension::voltage: return "voltage";
        case dimension::time: return "time";
        case dimension::current: return "current";
        case dimension::capacitance: return "capacitance";
        case dimension::conductance: return "conductance";
        case dimension::frequency: return "frequency";
        case dimension::conductance_per_voltage: return "conductance per voltage";
    }
    return "?";
}

double parse_quantity(std::string_view text, dimension expected, std::string_view key) {
    const std::string_view s = trim(text);
    const std::string accepted = "accepted units for " + a_dimension(expected) + ": " +
                                 accepted_units(expected);

    // The number: [+-] digits [. digits] [e [+-] digits], at least one mantissa digit.
    std::size_t i = 0;
    std::string mantissa;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        if (s[i] == '-') mantissa += '-';
        ++i;
    }
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i])) mantissa += s[i++], ++digits;
    if (i < s.size() && s[i] == '.') {
        mantissa += s[i++];
        while (i < s.size() && is_digit(s[i])) mantissa += s[i++], ++digits;
    }
    if (digits == 0) {
        std::string lower;
        for (char c : s.substr(i)) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (lower.starts_with("nan") || lower.starts_with("inf"))
            fail(key, text, "not a finite number; expected " + a_dimension(expected) + " (" +
                                accepted + ")");
        fail(key, text, "not a number with a unit; expected " + a_dimension(expected) +
                            " such as \"" + format_quantity(1.5, expected) + "\" (" + accepted + ")" +
                            non_ascii_hint(s));
    }
    long long exponent = 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        // Only an exponent if digits follow; otherwise the 'e' starts a unit.
        std::size_t j = i + 1;
        bool negative = false;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) negative = s[j++] == '-';
        if (j < s.size() && is_digit(s[j])) {
            while (j < s.size() && is_digit(s[j])) {
                if (exponent < 1'000'000) exponent = exponent * 10 + (s[j] - '0');
                ++j;
            }
            if (negative) exponent = -exponent;
            i = j;
        }
    }

    const std::string_view symbol = trim(s.substr(i));
    int shift = 0;
    if (!symbol.empty()) {
        const unit* u = find_unit(symbol);
        if (u == nullptr) {
            std::string hint;
            std::vector<std::string_view> same_dim;
            for (const auto& v : units)
                if (v.dim == expected) same_dim.push_back(v.symbol);
            const std::string near = suggest(symbol, same_dim);
            if (!near.empty()) hint = "; did you mean '" + near + "'?";
            fail(key, text, "unknown unit '" + printable(symbol) + "'" + hint + " (" + accepted + ")" +
                                non_ascii_hint(symbol));
        }
        if (u->dim != expected)
            fail(key, text, "'" + printable(symbol) + "' is a unit of " + std::string(dimension_name(u->dim)) +
                                ", but " + a_dimension(expected) + " is expected (" + accepted + ")");
        shift = u->exp10;
    }

    const std::string number = mantissa + "e" + std::to_string(exponent + shift);
    double value = 0.0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec == std::errc::result_out_of_range)
        fail(key, text, "out of the range of a double; expected a finite " +
                            std::string(dimension_name(expected)));
    if (ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value))
        fail(key, text, "not a finite number; expected " + a_dimension(expected) + " (" + accepted + ")");
    return value;
}

std::string format_number(double value) {
    std::array<char, 64> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    return std::string(buf.data(), ec == std::errc{} ? end : buf.data());
}

std::string format_quantity(double value, dimension d) {
    std::string out = format_number(value);
    const std::string_view u = default_unit(d);
    if (!u.empty()) {
        out.push_back(' ');
        out.append(u);
    }
    return out;
}

}  // namespace ifsim
