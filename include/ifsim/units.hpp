// Physical dimensions and their default units. Every number inside ifsim is in the default unit of
// its dimension: mV, ms, pA, pF, nS, Hz (so pA / nS = mV and pF / nS = ms).
#pragma once

#include <string>
#include <string_view>

namespace ifsim {

enum class dimension {
    dimensionless,
    voltage,                 // mV
    time,                    // ms
    current,                 // pA
    capacitance,             // pF
    conductance,             // nS
    frequency,               // Hz
    conductance_per_voltage  // nS/mV (the QIF's k)
};

// The default unit's symbol, e.g. "mV"; "" for dimensionless.
std::string_view default_unit(dimension d);
// Human name, e.g. "voltage".
std::string_view dimension_name(dimension d);

// Parses "250 pF", "0.25 nF", "1.5ms", "-70 mV", "5" (a bare number means the default unit) into
// the default unit of `expected`. Throws config_error naming `key`, the text and the accepted units
// when the text is malformed, has the wrong dimension, or is not finite.
double parse_quantity(std::string_view text, dimension expected, std::string_view key);

// A number in the shortest form that reads back exactly ("0.1", "-70", "1e-05"): for messages
// and written configs alike.
std::string format_number(double value);

// The body of a TOML basic string holding s: quotes, backslashes and every control character
// escaped (\", \n, \u0001); other bytes as they are (UTF-8 passes through).
std::string toml_escaped(std::string_view s);

// Text from a file as it may appear in a message, one readable line: toml_escaped, cut after 60
// bytes with the full length said.
std::string printable(std::string_view s);
// "; it holds U+2009, a space that is not ASCII's: ..." for the first character of `s` beyond
// ASCII, which may look like one a quantity is written with; "" where all is ASCII.
std::string non_ascii_hint(std::string_view s);

// A number with its default unit, in the shortest form that reads back exactly ("250 pF").
std::string format_quantity(double value, dimension d);

}  // namespace ifsim
