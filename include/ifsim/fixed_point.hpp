// Fixed-point synaptic accumulation (DESIGN.md principle 4): weights are integers of one power-of-two
// quantum, and the input arriving at a neuron in one step is their integer sum. Integer addition is
// associative, so the order in which CPU or GPU threads add spikes into a ring-buffer slot cannot
// change a bit. Format, range and overflow policy: docs/fixed_point.md.
//
// Storage: a weight is an int32 (|w| <= 2^31 - 1 quanta; the CSR stores it so). A ring-buffer slot
// is an int64 (default) or an int32 accumulator. choose_format picks the finest quantum for which
// the worst case, max_inputs_per_step weights of the largest magnitude, fits the accumulator, so
// every partial sum in every order is in range and overflow cannot happen by construction. The
// checks below (add_checked, in_range, to_fixed_checked) are the second line of defence; a caller
// that sees one fail throws ifsim::numerical_error naming the neuron and the step.
//
// Everything per step is IFSIM_HD and deterministic on host and device: the conversion multiplies
// by a power of two (exact) and rounds to nearest, ties to even (rint / nearbyint, an exact IEEE
// operation; the default rounding mode is assumed, as everywhere in ifsim). choose_format and
// make_format run once on the host.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "ifsim/errors.hpp"
#include "ifsim/math.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

// Width of the ring-buffer accumulator. int64 is the default: with int32 weights no sum of up to
// 2^32 inputs can leave it, so the quantum is set by the weight alone (relative resolution
// 2^-31..2^-30 of the largest weight). int32 halves the ring buffer's memory but coarsens the
// quantum to about max_inputs_per_step * 2^-31 of the largest weight.
enum class accumulator_width : int { int32 = 32, int64 = 64 };

inline constexpr std::int64_t fixed_weight_max_units = 2147483647;  // int32 weight storage, 2^31 - 1

struct fixed_point_format {
    double quantum;                 // value of one integer unit, 2^exponent [weight unit, e.g. mV]
    double scale;                   // 1 / quantum, exact [1 / weight unit]
    int exponent;                   // quantum = 2^exponent
    std::int64_t max_units;         // largest |accumulated sum|: 2^(bits-1) - 1 [quanta]
    std::int64_t max_weight_units;  // largest |single weight|: min(2^31 - 1, max_units) [quanta]
    double max_abs;                 // max_units * quantum, rounded to double [weight unit]
};

// --- per step: host and device ---------------------------------------------------------------

namespace detail {
IFSIM_HD double round_half_even(double x) {
#if defined(__CUDA_ARCH__)
    return ::rint(x);
#else
    return std::nearbyint(x);
#endif
}
}  // namespace detail

// w in quanta, rounded to nearest, ties to even. Returns false (out untouched) when w is NaN or
// the rounded value is outside +-f.max_units.
IFSIM_HD bool to_fixed_checked(double w, const fixed_point_format& f, std::int64_t& out) {
    const double r = detail::round_half_even(w * f.scale);  // * 2^-exponent is exact
    if (!(r > -9223372036854775808.0 && r < 9223372036854775808.0)) return false;  // NaN, |r| >= 2^63
    const std::int64_t v = static_cast<std::int64_t>(r);  // r is an integer below 2^63: exact
    if (v > f.max_units || v < -f.max_units) return false;
    out = v;
    return true;
}
IFSIM_HD bool to_fixed_checked(float w, const fixed_point_format& f, std::int64_t& out) {
    return to_fixed_checked(static_cast<double>(w), f, out);
}

// As to_fixed_checked, for a weight to store as int32: false (and out = 0) beyond
// +-f.max_weight_units or for NaN. max_weight_units <= max_units and < 2^31, so one test of the
// rounded value covers both limits, and it converts straight to int32 (as AVX2 can: a loop over
// a projection's weights runs in vector lanes).
IFSIM_HD bool weight_to_fixed(double w, const fixed_point_format& f, std::int32_t& out) {
    const double r = detail::round_half_even(w * f.scale);
    const double limit = static_cast<double>(f.max_weight_units);  // exact: below 2^31
    const bool fits = r >= -limit && r <= limit;
    out = static_cast<std::int32_t>(fits ? r : 0.0);
    return fits;
}

// w in quanta, ties to even. Precondition: |w| <= f.max_abs. Outside it the result saturates at
// +-f.max_units and NaN gives 0, so it is still deterministic, but use to_fixed_checked to detect it.
IFSIM_HD std::int64_t to_fixed(double w, const fixed_point_format& f) {
    std::int64_t v = 0;
    if (to_fixed_checked(w, f, v)) return v;
    if (w != w) return 0;
    return w > 0 ? f.max_units : -f.max_units;
}
IFSIM_HD std::int64_t to_fixed(float w, const fixed_point_format& f) {
    return to_fixed(static_cast<double>(w), f);
}

// v quanta as Real: exact in double for |v| <= 2^53. For float, v goes through double first
// (exact up to 2^53), then one rounding to float; the same steps on host and device.
template <class Real = double>
IFSIM_HD Real from_fixed(std::int64_t v, const fixed_point_format& f) {
    return static_cast<Real>(math::to_double(v) * f.quantum);
}

// acc += x with two's-complement wrap-around (what atomicAdd on the bit pattern does). Returns
// false when the true sum left the type's range; the wrapped acc is then not the sum.
IFSIM_HD bool add_checked(std::int64_t& acc, std::int64_t x) {
    const auto s = static_cast<std::int64_t>(static_cast<std::uint64_t>(acc) + static_cast<std::uint64_t>(x));
    const bool ok = ((acc ^ s) & (x ^ s)) >= 0;  // overflow iff both operands' signs differ from s
    acc = s;
    return ok;
}
IFSIM_HD bool add_checked(std::int32_t& acc, std::int32_t x) {
    const auto s = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) + static_cast<std::uint32_t>(x));
    const bool ok = ((acc ^ s) & (x ^ s)) >= 0;
    acc = s;
    return ok;
}

// Whether an accumulated slot value is inside the format's range. The check on the final sum is
// order independent (unlike a per-add check, whose intermediate sums depend on the order).
IFSIM_HD bool in_range(std::int64_t acc, const fixed_point_format& f) {
    return acc <= f.max_units && acc >= -f.max_units;
}

// --- once, on the host (plain inline: nvcc parses them in both passes, builds them for the host) --

// The format with quantum 2^exponent. exponent in [-1022, 1023] (quantum and scale finite, normal).
inline fixed_point_format make_format(int exponent, accumulator_width acc = accumulator_width::int64) {
    if (exponent < -1022 || exponent > 1023)
        throw config_error("fixed-point format: quantum 2^" + std::to_string(exponent) +
                           " is out of range; the exponent must be in [-1022, 1023]");
    fixed_point_format f{};
    f.exponent = exponent;
    f.quantum = std::ldexp(1.0, exponent);
    f.scale = std::ldexp(1.0, -exponent);
    f.max_units = acc == accumulator_width::int64 ? std::int64_t{9223372036854775807} : std::int64_t{2147483647};
    f.max_weight_units = f.max_units < fixed_weight_max_units ? f.max_units : fixed_weight_max_units;
    f.max_abs = static_cast<double>(f.max_units) * f.quantum;
    return f;
}

// The finest power-of-two quantum for which (a) the largest weight, rounded, fits int32 storage and
// (b) max_inputs_per_step such weights fit the accumulator. max_inputs_per_step is the most spikes
// one neuron can receive in one step into one slot: its in-degree (a neuron spikes at most once per
// step; multapses count), plus external events. 0 is taken as 1. max_abs_weight == 0 gives quantum
// 1 (every weight is 0). Throws config_error for a NaN, infinite or negative max_abs_weight, for
// more inputs than the accumulator can sum (over 2^31 - 1 with int32), or for a quantum outside
// double's normal range.
inline fixed_point_format choose_format(double max_abs_weight, std::uint64_t max_inputs_per_step,
                                        accumulator_width acc = accumulator_width::int64) {
    if (!(max_abs_weight >= 0.0) || !std::isfinite(max_abs_weight))
        throw config_error("fixed-point format: the largest |weight| must be finite and >= 0, got " +
                           std::to_string(max_abs_weight));
    const std::uint64_t n = max_inputs_per_step == 0 ? 1 : max_inputs_per_step;
    const fixed_point_format any = make_format(0, acc);
    const std::uint64_t per_input = static_cast<std::uint64_t>(any.max_units) / n;
    const std::uint64_t limit = per_input < static_cast<std::uint64_t>(any.max_weight_units)
                                    ? per_input
                                    : static_cast<std::uint64_t>(any.max_weight_units);
    if (limit == 0)
        throw config_error("fixed-point format: " + std::to_string(max_inputs_per_step) +
                           " inputs per step cannot be summed in an int" +
                           std::to_string(static_cast<int>(acc)) + " accumulator; at most " +
                           std::to_string(any.max_units) + " (use the int64 accumulator)");
    if (max_abs_weight == 0.0) return make_format(0, acc);
    // max_abs_weight = m 2^p, m in [0.5, 1); 2^(b-1) <= limit < 2^b. Units at quantum 2^e are
    // rint(m 2^(p-e)): e = p-b+1 gives at most 2^(b-1) <= limit, e = p-b-1 at least 2^b > limit,
    // so the answer is p-b or p-b+1.
    int p = 0;
    const double m = std::frexp(max_abs_weight, &p);
    int b = 0;
    for (std::uint64_t l = limit; l != 0; l >>= 1) ++b;
    const double units = std::nearbyint(std::ldexp(m, b));  // at most 2^b: exact in double
    const int e = units <= static_cast<double>(limit) ? p - b : p - b + 1;  // limit < 2^31: exact compare
    return make_format(e, acc);
}

}  // namespace ifsim
