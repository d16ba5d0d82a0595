// Quantities with units: parse_quantity and format_quantity (include/ifsim/units.hpp).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ifsim/errors.hpp"
#include "ifsim/units.hpp"

namespace ifsim {
namespace {

std::string message_of(std::string_view text, dimension d, std::string_view key = "key") {
    try {
        parse_quantity(text, d, key);
    } catch (const config_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no config_error for \"" << text << "\"";
    return {};
}

TEST(Units, DefaultUnitsAndNames) {
    EXPECT_EQ(default_unit(dimension::voltage), "mV");
    EXPECT_EQ(default_unit(dimension::time), "ms");
    EXPECT_EQ(default_unit(dimension::current), "pA");
    EXPECT_EQ(default_unit(dimension::capacitance), "pF");
    EXPECT_EQ(default_unit(dimension::conductance), "nS");
    EXPECT_EQ(default_unit(dimension::frequency), "Hz");
    EXPECT_EQ(default_unit(dimension::conductance_per_voltage), "nS/mV");
    EXPECT_EQ(default_unit(dimension::dimensionless), "");
    EXPECT_EQ(dimension_name(dimension::voltage), "voltage");
    EXPECT_EQ(dimension_name(dimension::capacitance), "capacitance");
}

TEST(Units, ParsesEveryAcceptedUnit) {
    struct row {
        const char* text;
        dimension d;
        double expected;
    };
    const std::vector<row> rows = {
        {"-70 mV", dimension::voltage, -70.0},
        {"-0.07 V", dimension::voltage, -70.0},
        {"500 uV", dimension::voltage, 0.5},
        {"500 \u00b5V", dimension::voltage, 0.5},
        {"500 \u03bcV", dimension::voltage, 0.5},
        {"1.5ms", dimension::time, 1.5},
        {"2 s", dimension::time, 2000.0},
        {"250 us", dimension::time, 0.25},
        {"1 A", dimension::current, 1e12},
        {"1 mA", dimension::current, 1e9},
        {"1 uA", dimension::current, 1e6},
        {"0.3 nA", dimension::current, 300.0},
        {"300 pA", dimension::current, 300.0},
        {"500 fA", dimension::current, 0.5},
        {"250 pF", dimension::capacitance, 250.0},
        {"0.25 nF", dimension::capacitance, 250.0},
        {"1 uF", dimension::capacitance, 1e6},
        {"1e-10 F", dimension::capacitance, 100.0},
        {"10 nS", dimension::conductance, 10.0},
        {"0.01 uS", dimension::conductance, 10.0},
        {"1 mS", dimension::conductance, 1e6},
        {"1 S", dimension::conductance, 1e9},
        {"500 pS", dimension::conductance, 0.5},
        {"1e3 Hz", dimension::frequency, 1000.0},
        {"2.5 kHz", dimension::frequency, 2500.0},
        {"0.04 nS/mV", dimension::conductance_per_voltage, 0.04},
        {"0.04 uS/mV", dimension::conductance_per_voltage, 40.0},
        {"0.04 pA/mV^2", dimension::conductance_per_voltage, 0.04},
        // Every remaining symbol of the table, the two micro signs included (a mutation test
        // changed pS/mV's and nA/mV^2's exponents unseen).
        {"250 \u00b5s", dimension::time, 0.25},
        {"250 \u03bcs", dimension::time, 0.25},
        {"1 \u00b5A", dimension::current, 1e6},
        {"1 \u03bcA", dimension::current, 1e6},
        {"1 \u00b5F", dimension::capacitance, 1e6},
        {"1 \u03bcF", dimension::capacitance, 1e6},
        {"0.01 \u00b5S", dimension::conductance, 10.0},
        {"0.01 \u03bcS", dimension::conductance, 10.0},
        {"0.04 \u00b5S/mV", dimension::conductance_per_voltage, 40.0},
        {"0.04 \u03bcS/mV", dimension::conductance_per_voltage, 40.0},
        {"40 pS/mV", dimension::conductance_per_voltage, 0.04},
        {"0.04 pA/mV\u00b2", dimension::conductance_per_voltage, 0.04},
        {"0.04 nA/mV^2", dimension::conductance_per_voltage, 40.0},
        {"0.04 nA/mV\u00b2", dimension::conductance_per_voltage, 40.0},
        {"7", dimension::voltage, 7.0},
        {"  +7.25  ", dimension::time, 7.25},
        {".5 ms", dimension::time, 0.5},
        {"3", dimension::dimensionless, 3.0},
        {"1E2 mV", dimension::voltage, 100.0},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.text);
        EXPECT_EQ(parse_quantity(r.text, r.d, "k"), r.expected);
    }
}

TEST(Units, ConversionRoundsOnceFromTheDecimalText) {
    // 0.1 s must be exactly the double nearest 100 ms, 0.3 nA the double nearest 300 pA: the unit
    // shifts the decimal exponent instead of multiplying a rounded number.
    EXPECT_EQ(parse_quantity("0.1 s", dimension::time, "k"), 100.0);
    EXPECT_EQ(parse_quantity("0.7 V", dimension::voltage, "k"), 700.0);
    EXPECT_EQ(parse_quantity("0.3 uS", dimension::conductance, "k"), 300.0);
    EXPECT_EQ(parse_quantity("123.456 uV", dimension::voltage, "k"), 0.123456);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(parse_quantity("-0 mV", dimension::voltage, "k")),
              std::bit_cast<std::uint64_t>(-0.0));
}

TEST(Units, WrongDimensionNamesKeyTextDimensionAndUnits) {
    const std::string m = message_of("5 ms", dimension::voltage, "population[0].params.V_th");
    EXPECT_NE(m.find("population[0].params.V_th"), std::string::npos) << m;
    EXPECT_NE(m.find("\"5 ms\""), std::string::npos) << m;
    EXPECT_NE(m.find("time"), std::string::npos) << m;
    EXPECT_NE(m.find("voltage"), std::string::npos) << m;
    EXPECT_NE(m.find("mV"), std::string::npos) << m;
    EXPECT_NE(m.find("uV"), std::string::npos) << m;
    // Case matters: mS is a conductance, not a time.
    EXPECT_NE(message_of("5 mS", dimension::time).find("conductance"), std::string::npos);
}

TEST(Units, RejectsUnknownUnitsWithSuggestion) {
    const std::string m = message_of("5 parsecs", dimension::time);
    EXPECT_NE(m.find("unknown unit 'parsecs'"), std::string::npos) << m;
    EXPECT_NE(m.find("ms"), std::string::npos) << m;
    EXPECT_NE(message_of("5 mv", dimension::voltage).find("did you mean 'mV'"), std::string::npos);
    EXPECT_NE(message_of("5 m V", dimension::voltage).find("unknown unit"), std::string::npos);
    // mHz is not accepted (too easily confused with MHz).
    EXPECT_NE(message_of("5 mHz", dimension::frequency).find("unknown unit"), std::string::npos);
    // A dimensionless value takes no unit.
    EXPECT_NE(message_of("5 mV", dimension::dimensionless).find("voltage"), std::string::npos);
    // Control characters are escaped: a NUL cut the message short, an ESC reached the terminal.
    const std::string nul = message_of(std::string("5 mV\0", 5), dimension::voltage);
    EXPECT_NE(nul.find("\"5 mV\\u0000\": unknown unit 'mV\\u0000'"), std::string::npos) << nul;
    EXPECT_NE(nul.find("accepted units for a voltage"), std::string::npos) << nul;
    const std::string esc = message_of("5 mV\x1b[2J", dimension::voltage);
    EXPECT_EQ(esc.find('\x1b'), std::string::npos) << esc;
}

// Characters that look like ASCII's but are not (pasted from a paper or a word processor) are
// named, as the message shows them alike: a thin space, a minus sign, a no-break space, an en dash
// (the micro signs are units' spellings: 5 µs is 5 us).
TEST(Units, NamesLookAlikesOfAsciiCharacters) {
    const std::string thin = message_of("-50\u2009mV", dimension::voltage);
    EXPECT_NE(thin.find("unknown unit"), std::string::npos) << thin;
    EXPECT_NE(thin.find("; it holds U+2009, a space that is not ASCII's: write a plain space"), std::string::npos) << thin;
    const std::string minus = message_of("\u221250 mV", dimension::voltage);
    EXPECT_NE(minus.find("not a number with a unit"), std::string::npos) << minus;
    EXPECT_NE(minus.find("; it holds U+2212, a dash or minus sign that is not ASCII's: write '-'"), std::string::npos) << minus;
    EXPECT_NE(message_of("50\u00a0mV", dimension::voltage).find("it holds U+00A0, a space"), std::string::npos);
    EXPECT_NE(message_of("\u201350 mV", dimension::voltage).find("it holds U+2013, a dash"), std::string::npos);
    EXPECT_NE(message_of("5 \u00c5", dimension::time).find("it holds U+00C5, beyond ASCII"), std::string::npos);
    EXPECT_NE(message_of("5 \U0001F600", dimension::time).find("it holds U+1F600, beyond ASCII"), std::string::npos);
    EXPECT_EQ(message_of("5 parsecs", dimension::time).find("it holds"), std::string::npos);
}

TEST(Units, RejectsMalformedAndNonFinite) {
    for (const char* text : {"", "mV", "abc", "- 5 mV", "5..0 mV", "--5", "0x10 mV"}) {
        SCOPED_TRACE(text);
        EXPECT_THROW(parse_quantity(text, dimension::voltage, "k"), config_error);
    }
    for (const char* text : {"nan", "nan mV", "NaN", "inf mV", "-inf", "Infinity"}) {
        SCOPED_TRACE(text);
        EXPECT_NE(message_of(text, dimension::voltage).find("finite"), std::string::npos);
    }
    EXPECT_THROW(parse_quantity("1e400 mV", dimension::voltage, "k"), config_error);
    EXPECT_THROW(parse_quantity("1e306 V", dimension::voltage, "k"), config_error);  // overflows in mV
    EXPECT_THROW(parse_quantity("1e-400 mV", dimension::voltage, "k"), config_error);
}

TEST(Units, FormatIsShortestAndRoundTrips) {
    EXPECT_EQ(format_quantity(250.0, dimension::capacitance), "250 pF");
    EXPECT_EQ(format_quantity(-70.0, dimension::voltage), "-70 mV");
    EXPECT_EQ(format_quantity(0.1, dimension::time), "0.1 ms");
    EXPECT_EQ(format_quantity(3.0, dimension::dimensionless), "3");
    EXPECT_EQ(format_quantity(0.04, dimension::conductance_per_voltage), "0.04 nS/mV");
    const std::vector<double> values = {0.1,     1.0 / 3.0, -0.0,    1e-300, 5e-324, 1.7976931348623157e308,
                                        -65.25,  2.0 / 7.0, 1e21,    123456789.123456789};
    for (double v : values) {
        for (auto d : {dimension::voltage, dimension::time, dimension::conductance_per_voltage,
                       dimension::dimensionless}) {
            const std::string text = format_quantity(v, d);
            SCOPED_TRACE(text);
            const double back = parse_quantity(text, d, "k");
            EXPECT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v));
        }
    }
}

}  // namespace
}  // namespace ifsim
