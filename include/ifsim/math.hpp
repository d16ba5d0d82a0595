// Deterministic elementary functions (DESIGN.md principle 2): exp, expm1, log, log1p, sin, cos,
// sincos, sincospi, tan, atan, tanh and floor, built only from + - * /, sqrt and explicit fma, so
// that g++ (with -ffp-contract=off) and nvcc (with --fmad=false) produce the same bits. No libm
// call, no CUDA intrinsic, no lookup table. Bit manipulation goes through one pair of helpers
// (bits / from_bits) and uses only logical shifts, and, or and unsigned add, which both compilers
// and AVX2 treat alike; nothing converts a float to an integer.
//
// Each function is a template on float and double with its own polynomial: float versions are
// short (they run per neuron per step, vectorised by gcc on the CPU) and branch free (selects,
// not jumps). The polynomials are near-minimax fits (Chebyshev interpolation in 50-digit
// arithmetic, coefficients then rounded to the working precision). Measured errors against a
// long double reference are printed by tests/test_math.cpp; the bounds asserted there are
// float <= 2 ulp and double <= 4 ulp, inside these ranges:
//
//   exp, expm1   all finite x. exp flushes to +0 where the result would be subnormal
//                (x < -87.3365402 float, x < -708.3964185322641 double) and is +inf only above
//                the overflow threshold (88.7228317 float, 709.782712893384 double).
//   log, log1p   all x; log(0) = -inf, log(x < 0) = NaN, log1p(-1) = -inf, log1p(x < -1) = NaN.
//                Subnormal inputs are handled (scaled up first).
//   sin, cos, sincos, tan
//                |x| <= 1e5 (float) and |x| <= 1e9 (double): three-part Cody-Waite reduction by
//                pi/2 with fma. Beyond that, and up to 2^21 (float) / 2^50 (double), results are
//                deterministic but lose accuracy; beyond those they are meaningless. inf -> NaN.
//   sincospi     sin(pi x) and cos(pi x), exact reduction, |x| < 2^21 (float) / 2^50 (double).
//   atan, tanh   all x. float tan and tanh are computed in double and rounded once.
// NaN in gives NaN out everywhere (floor passes it through too).
#pragma once

#include <cstdint>

#include "ifsim/platform.hpp"

#if !defined(__CUDA_ARCH__)
#include <bit>
#include <cmath>
#endif

namespace ifsim::math {

// --- correctly rounded primitives ------------------------------------------------------------

IFSIM_HD float fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return ::fmaf(a, b, c);
#else
    return std::fma(a, b, c);
#endif
}
IFSIM_HD double fma(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
    return ::fma(a, b, c);
#else
    return std::fma(a, b, c);
#endif
}
IFSIM_HD float sqrt(float x) {
#if defined(__CUDA_ARCH__)
    return ::sqrtf(x);
#else
    return std::sqrt(x);
#endif
}
IFSIM_HD double sqrt(double x) {
#if defined(__CUDA_ARCH__)
    return ::sqrt(x);
#else
    return std::sqrt(x);
#endif
}

// static_cast<double>(v), correctly rounded, from two 32-bit halves that convert exactly: the
// high half times 2^32 and the low half are exact, so their sum rounds once, like the cast. AVX2
// has no 64-bit integer conversion, so the cast keeps a loop scalar; this vectorises.
IFSIM_HD double to_double(std::int64_t v) {
    const double hi = static_cast<double>(static_cast<std::int32_t>(v >> 32)) * 4294967296.0;
    // the low 32 bits as an unsigned value: shifted into int32 range, converted, shifted back
    const auto lo_shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(v) ^ 0x80000000u);
    const double lo = static_cast<double>(lo_shifted) + 2147483648.0;
    return hi + lo;
}

namespace detail {

IFSIM_HD std::uint32_t bits(float x) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(x);
#else
    return std::bit_cast<std::uint32_t>(x);
#endif
}
IFSIM_HD std::uint64_t bits(double x) {
#if defined(__CUDA_ARCH__)
    return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
    return std::bit_cast<std::uint64_t>(x);
#endif
}
IFSIM_HD float from_bits(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(b);
#else
    return std::bit_cast<float>(b);
#endif
}
IFSIM_HD double from_bits(std::uint64_t b) {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(static_cast<long long>(b));
#else
    return std::bit_cast<double>(b);
#endif
}

// Layout of the IEEE formats and the few constants every function needs.
template <class Real> struct fp;
template <> struct fp<float> {
    using uint = std::uint32_t;
    static constexpr int mant_bits = 23;
    static constexpr uint sign_mask = 0x80000000u;
    static constexpr uint inf_bits = 0x7f800000u;
    static constexpr uint nan_bits = 0x7fc00000u;
    static constexpr uint one_bits = 0x3f800000u;
    static constexpr uint bias = 127u;
    static constexpr uint sqrt_half_bits = 0x3f3504f3u;  // ~sqrt(1/2), log's reduction pivot
    static constexpr uint mant_mask = 0x007fffffu;
    static constexpr uint two_mant_bits = 0x4b000000u;  // 2^23
    static constexpr float two_mant = 8388608.0f;       // 2^23
    static constexpr float shifter = 12582912.0f;       // 1.5 * 2^23: rounds to an integer
    static constexpr float min_normal = 1.17549435e-38f;
    static constexpr float scale_up = 16777216.0f;      // 2^24, lifts subnormals to normal
    static constexpr int scale_up_log2 = 24;
    static constexpr float max_exp_k = 127.0f;
    // exp: +inf above exp_hi, +0 below exp_lo (where the result would be subnormal)
    static constexpr float exp_hi = 88.7228317f;
    static constexpr float exp_lo = -87.3365402f;
    static constexpr float expm1_lo = -20.0f;  // expm1 rounds to -1 below
    static constexpr float tanh_hi = 9.5f;     // tanh rounds to 1 above
    static constexpr float log2e = 1.44269502f;
    static constexpr float ln2 = 0.693147182f;  // hi/lo for fma reduction (any k)
    static constexpr float ln2_lo = -1.90465421e-09f;
    static constexpr float ln2_cw_hi = 0.693145752f;  // 16 bits: e * ln2_cw_hi is exact
    static constexpr float ln2_cw_lo = 1.42860677e-06f;
    static constexpr float two_over_pi = 0.636619747f;
    static constexpr float pio2_1 = 1.57079637f;
    static constexpr float pio2_2 = -4.37113883e-08f;
    static constexpr float pio2_3 = -1.71512451e-15f;
    static constexpr float pio4_hi = 0.785398185f;
    static constexpr float pio4_lo = -2.18556941e-08f;
    static constexpr float pio2_hi = 1.57079637f;
    static constexpr float pio2_lo = -4.37113883e-08f;
    static constexpr float tan_pi_8 = 0.414213568f;
    static constexpr float tan_3pi_8 = 2.41421366f;
};
template <> struct fp<double> {
    using uint = std::uint64_t;
    static constexpr int mant_bits = 52;
    static constexpr uint sign_mask = 0x8000000000000000ull;
    static constexpr uint inf_bits = 0x7ff0000000000000ull;
    static constexpr uint nan_bits = 0x7ff8000000000000ull;
    static constexpr uint one_bits = 0x3ff0000000000000ull;
    static constexpr uint bias = 1023u;
    static constexpr uint sqrt_half_bits = 0x3fe6a09e667f3bcdull;
    static constexpr uint mant_mask = 0x000fffffffffffffull;
    static constexpr uint two_mant_bits = 0x4330000000000000ull;  // 2^52
    static constexpr double two_mant = 4503599627370496.0;        // 2^52
    static constexpr double shifter = 6755399441055744.0;         // 1.5 * 2^52
    static constexpr double min_normal = 2.2250738585072014e-308;
    static constexpr double scale_up = 9007199254740992.0;  // 2^53
    static constexpr int scale_up_log2 = 53;
    static constexpr double max_exp_k = 1023.0;
    static constexpr double exp_hi = 709.782712893384;
    static constexpr double exp_lo = -708.3964185322641;
    static constexpr double expm1_lo = -45.0;
    static constexpr double tanh_hi = 20.0;
    static constexpr double log2e = 1.4426950408889634;
    static constexpr double ln2 = 0.6931471805599453;
    static constexpr double ln2_lo = 2.3190468138462996e-17;
    static constexpr double ln2_cw_hi = 0.6931471805592082;  // 40 bits
    static constexpr double ln2_cw_lo = 7.371002565167799e-13;
    static constexpr double two_over_pi = 0.6366197723675814;
    static constexpr double pio2_1 = 1.5707963267948966;
    static constexpr double pio2_2 = 6.123233995736766e-17;
    static constexpr double pio2_3 = -1.4973849048591698e-33;
    static constexpr double pio4_hi = 0.7853981633974483;
    static constexpr double pio4_lo = 3.061616997868383e-17;
    static constexpr double pio2_hi = 1.5707963267948966;
    static constexpr double pio2_lo = 6.123233995736766e-17;
    static constexpr double tan_pi_8 = 0.41421356237309503;
    static constexpr double tan_3pi_8 = 2.414213562373095;
};

template <class Real> IFSIM_HD Real inf() { return from_bits(fp<Real>::inf_bits); }
template <class Real> IFSIM_HD Real nan() { return from_bits(fp<Real>::nan_bits); }
template <class Real> IFSIM_HD bool is_nan(Real x) { return !(x == x); }

template <class Real> IFSIM_HD Real abs(Real x) { return from_bits(bits(x) & ~fp<Real>::sign_mask); }
// |mag| with the sign of sgn.
template <class Real> IFSIM_HD Real copysign(Real mag, Real sgn) {
    return from_bits((bits(mag) & ~fp<Real>::sign_mask) | (bits(sgn) & fp<Real>::sign_mask));
}

// Nearest integer (ties to even) for |x| < 2^(mant_bits - 1), by the add-and-subtract trick.
template <class Real> IFSIM_HD Real round_small(Real x) {
    return (x + fp<Real>::shifter) - fp<Real>::shifter;
}
// The low bits of an integer k (|k| < 2^(mant_bits - 1)) as an unsigned, two's complement.
template <class Real> IFSIM_HD typename fp<Real>::uint int_bits(Real k) {
    return bits(k + fp<Real>::shifter);
}
// 2^k for an integer-valued k in the normal exponent range.
template <class Real> IFSIM_HD Real pow2i(Real k) {
    using c = fp<Real>;
    return from_bits(static_cast<typename c::uint>((int_bits(k) << c::mant_bits) +
                                                   (c::bias << c::mant_bits)));
}

// Horner's scheme with explicit fma: c0 + x (c1 + x (c2 + ...)).
template <class Real> IFSIM_HD Real horner(Real, Real c0) { return c0; }
template <class Real, class... Rest> IFSIM_HD Real horner(Real x, Real c0, Rest... rest) {
    return fma(x, horner(x, rest...), c0);
}

// expm1(r) for |r| <= ln2/2: r + r^2 g(r).
template <class Real> IFSIM_HD Real expm1_kernel(Real r) {
    Real g;
    if constexpr (sizeof(Real) == 4) {
        g = horner(r, 0.5f, 0.166666672f, 0.0416664667f, 0.00833331048f, 0.00139336416f,
                   0.000198909809f);
    } else {
        g = horner(r, 0.5, 0.1666666666666667, 0.04166666666666667, 0.008333333333326141,
                   0.0013888888888883883, 0.00019841269874800493, 2.4801587325287148e-05,
                   2.7557255425746435e-06, 2.755727386633501e-07, 2.510520637395701e-08,
                   2.0914617318070627e-09);
    }
    return fma(r * r, g, r);
}

// x = k ln2 + r with |r| <= ln2/2 (+ rounding); returns r, writes k (integer valued).
template <class Real> IFSIM_HD Real reduce_ln2(Real x, Real& k) {
    using c = fp<Real>;
    k = round_small(x * c::log2e);
    const Real r = fma(-k, c::ln2, x);  // exact: the result fits the significand
    return fma(-k, c::ln2_lo, r);
}

// log(1 + f) + e ln2 + corr for f in [sqrt(1/2) - 1, sqrt(2) - 1], e integer valued. With
// s = f / (2 + f): log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2)).
template <class Real> IFSIM_HD Real log_kernel(Real f, Real e, Real corr) {
    using c = fp<Real>;
    const Real s = f / (Real(2) + f);
    const Real z = s * s;
    Real h;
    if constexpr (sizeof(Real) == 4) {
        h = horner(z, 0.666666865f, 0.3998878f, 0.295799494f);
    } else {
        h = horner(z, 0.666666666666667, 0.39999999999899505, 0.28571428625975487,
                   0.2222221113479508, 0.18182889125261723, 0.15331721600556042,
                   0.14616449685043406);
    }
    const Real R = z * h;
    const Real hfsq = Real(0.5) * f * f;
    return e * c::ln2_cw_hi - ((hfsq - (s * (hfsq + R) + (e * c::ln2_cw_lo + corr))) - f);
}

// Splits a positive normal x into 2^e m, m in [sqrt(1/2), sqrt(2)); returns m, writes e.
template <class Real> IFSIM_HD Real split_exponent(Real x, Real& e) {
    using c = fp<Real>;
    using uint = typename c::uint;
    const uint ix = static_cast<uint>(bits(x) + (c::one_bits - c::sqrt_half_bits));
    // biased exponent as a float: (2^mant + n) - 2^mant, then remove the bias
    e = from_bits(static_cast<uint>((ix >> c::mant_bits) | c::two_mant_bits)) -
        (c::two_mant + Real(c::bias));
    return from_bits(static_cast<uint>((ix & c::mant_mask) + c::sqrt_half_bits));
}

// sin and cos of |r| <= pi/4.
template <class Real> IFSIM_HD void sincos_kernel(Real r, Real& s, Real& co) {
    const Real z = r * r;
    Real S, C;
    if constexpr (sizeof(Real) == 4) {
        S = horner(z, -0.166666672f, 0.00833333191f, -0.00019840087f, 2.72499256e-06f);
        C = horner(z, 0.0416666679f, -0.00138888881f, 2.48005999e-05f, -2.7300959e-07f);
    } else {
        S = horner(z, -0.16666666666666666, 0.008333333333330948, -0.00019841269836758574,
                   2.755731610255244e-06, -2.5051131845003624e-08, 1.5918129294866608e-10);
        C = horner(z, 0.041666666666666664, -0.0013888888888887398, 2.480158729876569e-05,
                   -2.7557317271729793e-07, 2.08761462684032e-09, -1.1382632425521717e-11);
    }
    s = fma(r * z, S, r);
    // cos = 1 - z/2 + z^2 C, with the rounding error of 1 - z/2 carried separately
    const Real hz = Real(0.5) * z;
    const Real w = Real(1) - hz;
    co = w + (((Real(1) - w) - hz) + z * z * C);
}

// Applies the quadrant q (0..3) of the reduced argument to sin/cos of the remainder.
template <class Real, class Uint>
IFSIM_HD void apply_quadrant(Uint q, Real sr, Real cr, Real& s, Real& c) {
    const bool swap = (q & 1u) != 0;
    const Real s0 = swap ? cr : sr;
    const Real c0 = swap ? sr : cr;
    s = (q & 2u) != 0 ? -s0 : s0;
    c = ((q + 1u) & 2u) != 0 ? -c0 : c0;
}

}  // namespace detail

// --- exponential family -----------------------------------------------------------------------

template <class Real> IFSIM_HD Real exp(Real x) {
    using c = detail::fp<Real>;
    Real xc = x > c::exp_lo ? x : c::exp_lo;  // NaN -> exp_lo, patched below
    xc = xc < c::exp_hi ? xc : c::exp_hi;
    Real k;
    const Real r = detail::reduce_ln2(xc, k);
    const Real p = Real(1) + detail::expm1_kernel(r);
    // k is in [-126, 128] (float); two factors keep each power of two normal
    const Real k1 = detail::round_small(k * Real(0.5));
    Real y = p * detail::pow2i(k1) * detail::pow2i(k - k1);
    y = x > c::exp_hi ? detail::inf<Real>() : y;
    y = x < c::exp_lo ? Real(0) : y;
    return detail::is_nan(x) ? x : y;
}

template <class Real> IFSIM_HD Real expm1(Real x) {
    using c = detail::fp<Real>;
    Real xc = x > c::expm1_lo ? x : c::expm1_lo;
    xc = xc < c::exp_hi ? xc : c::exp_hi;
    Real k;
    const Real r = detail::reduce_ln2(xc, k);
    const Real em1 = detail::expm1_kernel(r);
    // 2^k (1 + em1) - 1 = 2^k em1 + (2^k - 1); 2^k split as s * t, t in {1, 2}, so s is finite
    const Real k1 = k < c::max_exp_k ? k : c::max_exp_k;
    const Real s = detail::pow2i(k1);
    const Real t = detail::pow2i(k - k1);
    Real y = fma(s, em1, s - Real(1)) * t;
    y = x > c::exp_hi ? detail::inf<Real>() : y;
    y = x < c::expm1_lo ? Real(-1) : y;
    y = x == Real(0) ? x : y;  // keeps -0
    return detail::is_nan(x) ? x : y;
}

template <class Real> IFSIM_HD Real log(Real x) {
    using c = detail::fp<Real>;
    const bool sub = x < c::min_normal;
    const Real xs = sub ? x * c::scale_up : x;
    Real e;
    const Real m = detail::split_exponent(xs, e);
    e = sub ? e - Real(c::scale_up_log2) : e;
    Real y = detail::log_kernel(m - Real(1), e, Real(0));
    y = x == detail::inf<Real>() ? x : y;
    y = x < Real(0) ? detail::nan<Real>() : y;
    y = x == Real(0) ? -detail::inf<Real>() : y;
    return detail::is_nan(x) ? x : y;
}

template <class Real> IFSIM_HD Real log1p(Real x) {
    const Real u = Real(1) + x;
    Real e;
    const Real m = detail::split_exponent(u, e);
    // Where 1 + x did not change binade, f = x exactly; elsewhere f = m - 1 and the rounding of
    // 1 + x is put back as corr ~ log(1 + err/u).
    const bool same = e == Real(0);
    const Real f = same ? x : m - Real(1);
    const Real corr = same ? Real(0) : (x - (u - Real(1))) / u;
    Real y = detail::log_kernel(f, e, corr);
    y = x == detail::inf<Real>() ? x : y;
    y = x < Real(-1) ? detail::nan<Real>() : y;
    y = x == Real(-1) ? -detail::inf<Real>() : y;
    y = x == Real(0) ? x : y;
    return detail::is_nan(x) ? x : y;
}

// --- trigonometric ------------------------------------------------------------------------------

template <class Real> IFSIM_HD void sincos(Real x, Real& s, Real& c) {
    using k_ = detail::fp<Real>;
    const Real k = detail::round_small(x * k_::two_over_pi);
    Real r = fma(-k, k_::pio2_1, x);  // exact
    r = fma(-k, k_::pio2_2, r);
    r = fma(-k, k_::pio2_3, r);
    Real sr, cr;
    detail::sincos_kernel(r, sr, cr);
    detail::apply_quadrant(detail::int_bits(k), sr, cr, s, c);
}

template <class Real> IFSIM_HD Real sin(Real x) {
    Real s, c;
    sincos(x, s, c);
    return s;
}

template <class Real> IFSIM_HD Real cos(Real x) {
    Real s, c;
    sincos(x, s, c);
    return c;
}

// float tan is evaluated in double: s / c in float compounds two kernel errors (up to 3 ulp),
// and tan is not on the per-step path.
template <class Real> IFSIM_HD Real tan(Real x) {
    if constexpr (sizeof(Real) == 4) {
        return static_cast<float>(tan<double>(static_cast<double>(x)));
    } else {
        Real s, c;
        sincos(x, s, c);
        return s / c;
    }
}

// sin(pi x) and cos(pi x): the reduction 2x = q + f is exact, so no pi/2 remainder error (this
// is what Box-Muller uses for sin/cos of 2 pi u).
template <class Real> IFSIM_HD void sincospi(Real x, Real& s, Real& c) {
    const Real v = Real(2) * x;
    const Real k = detail::round_small(v);
    const Real f = v - k;  // exact, |f| <= 1/2
    const Real z = f * f;
    Real S, C;
    if constexpr (sizeof(Real) == 4) {
        S = detail::horner(z, 1.57079637f, -0.64596349f, 0.0796802193f, -0.00460214913f);
        C = detail::horner(z, -1.23370051f, 0.253669411f, -0.0208615288f, 0.000906739908f);
    } else {
        S = detail::horner(z, 1.5707963267948966, -0.6459640975062443, 0.07969262624604301,
                           -0.004681754132340976, 0.0001604411507421909, -3.59864335298231e-06,
                           5.633933781537854e-08);
        C = detail::horner(z, -1.2337005501361697, 0.2536695079010478, -0.020863480763340773,
                           0.0009192602745468447, -2.5202039028029178e-05,
                           4.710678405505227e-07, -6.329396344967424e-09);
    }
    detail::apply_quadrant(detail::int_bits(k), f * S, fma(z, C, Real(1)), s, c);
}

template <class Real> IFSIM_HD Real atan(Real x) {
    using c = detail::fp<Real>;
    const Real a = detail::abs(x);
    // three intervals, one division: atan(a) = base + atan(num / den), |num / den| <= tan(pi/8)
    const bool lo = a <= c::tan_pi_8;
    const bool mid = a <= c::tan_3pi_8;
    const Real num = lo ? a : (mid ? a - Real(1) : Real(-1));
    const Real den = lo ? Real(1) : (mid ? a + Real(1) : a);
    const Real base_hi = lo ? Real(0) : (mid ? c::pio4_hi : c::pio2_hi);
    const Real base_lo = lo ? Real(0) : (mid ? c::pio4_lo : c::pio2_lo);
    const Real u = num / den;
    const Real z = u * u;
    Real P;
    if constexpr (sizeof(Real) == 4) {
        P = detail::horner(z, -0.333333313f, 0.199995399f, -0.142639562f, 0.107437313f,
                           -0.0645192787f);
    } else {
        P = detail::horner(z, -0.3333333333333333, 0.1999999999999552, -0.14285714284666542,
                           0.11111111015256361, -0.09090904578123903, 0.07692183190826087,
                           -0.06664511447381948, 0.0585814891280221, -0.0508544973794026,
                           0.03923165829558719, -0.01917688711906226);
    }
    const Real y = base_hi + (u + fma(u * z, P, base_lo));
    return detail::copysign(y, x);
}

// tanh = e / (e + 2) with e = expm1(2|x|). float tanh is evaluated in double for the same
// reason as tan (three roundings reach 2.2 ulp in float); it is not on the per-step path.
template <class Real> IFSIM_HD Real tanh(Real x) {
    if constexpr (sizeof(Real) == 4) {
        return static_cast<float>(tanh<double>(static_cast<double>(x)));
    } else {
        using c = detail::fp<Real>;
        const Real a = detail::abs(x);
        const Real e = expm1(Real(2) * (a > c::tanh_hi ? c::tanh_hi : a));  // NaN stays NaN
        Real y = e / (e + Real(2));
        y = a > c::tanh_hi ? Real(1) : y;
        return detail::copysign(y, x);
    }
}

// Largest integer <= x (x itself when |x| >= 2^(mant_bits - 1), where x is already integral).
template <class Real> IFSIM_HD Real floor(Real x) {
    const bool big = !(detail::abs(x) < Real(0.5) * detail::fp<Real>::two_mant);
    const Real k = detail::round_small(big ? Real(0) : x);
    const Real y = k > x ? k - Real(1) : k;
    return big ? x : y;
}

}  // namespace ifsim::math
