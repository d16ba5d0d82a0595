// ifsim::math against the platform's long double libm: maximum error in ulps over dense grids and
// random points in each function's documented range (math.hpp), plus special values. The bounds
// are float <= 2 ulp and double <= 4 ulp; the measured maxima are printed and recorded.
#include "ifsim/math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace m = ifsim::math;

namespace {

using ld = long double;

// Error of y in units of the last place of the exact value ref, in Real's format.
template <class Real> double ulp_error(Real y, ld ref) {
    if (std::isnan(ref)) return std::isnan(y) ? 0.0 : 1e30;
    if (std::isinf(ref)) return (y == ref) ? 0.0 : 1e30;
    // the reference may overflow Real where it is just above the largest finite value
    if (std::fabs(ref) > ld(std::numeric_limits<Real>::max())) return std::isinf(y) ? 0.0 : 1e30;
    int e = 0;
    std::frexp(ref, &e);  // |ref| in [2^(e-1), 2^e)
    const int digits = std::numeric_limits<Real>::digits;
    const int min_e = std::numeric_limits<Real>::min_exponent;  // 2^(min_e-1) = min normal
    const ld ulp = std::ldexp(ld(1), std::max(e, min_e) - digits);
    return static_cast<double>(std::fabs(ld(y) - ref) / ulp);
}

struct sweep_result {
    double max_ulp = 0.0;
    double at = 0.0;
    std::size_t points = 0;
};

template <class Real>
void sweep(sweep_result& r, const std::vector<Real>& xs, const std::function<Real(Real)>& f,
           const std::function<ld(ld)>& ref) {
    for (Real x : xs) {
        const double e = ulp_error<Real>(f(x), ref(ld(x)));
        if (e > r.max_ulp || std::isnan(e)) {
            r.max_ulp = std::isnan(e) ? 1e30 : e;
            r.at = static_cast<double>(x);
        }
    }
    r.points += xs.size();
}

// n evenly spaced points in [a, b] and n random points (fixed seed) in [a, b].
template <class Real> std::vector<Real> grid(double a, double b, std::size_t n, unsigned seed = 1) {
    std::vector<Real> xs;
    xs.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i)
        xs.push_back(static_cast<Real>(a + (b - a) * static_cast<double>(i) / double(n - 1)));
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(a, b);
    for (std::size_t i = 0; i < n; ++i) xs.push_back(static_cast<Real>(u(gen)));
    return xs;
}

// Magnitudes spread log-uniformly over [lo, hi], both signs when signed.
template <class Real>
std::vector<Real> log_grid(double lo, double hi, std::size_t n, bool both_signs, unsigned seed = 2) {
    std::vector<Real> xs;
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
    for (std::size_t i = 0; i < n; ++i) {
        Real x = static_cast<Real>(std::exp(u(gen)));
        xs.push_back(x);
        if (both_signs) xs.push_back(-x);
    }
    return xs;
}

template <class Real> const char* name() { return sizeof(Real) == 4 ? "float" : "double"; }
template <class Real> double bound() { return sizeof(Real) == 4 ? 2.0 : 4.0; }

template <class Real> void report(const std::string& fn, const sweep_result& r) {
    const std::string key = fn + "_" + name<Real>() + "_max_ulp";
    ::testing::Test::RecordProperty(key, std::to_string(r.max_ulp));
    std::cout << "[ ulp ] " << fn << "<" << name<Real>() << ">: max " << r.max_ulp << " ulp at x = "
              << r.at << " over " << r.points << " points (bound " << bound<Real>() << ")\n";
    EXPECT_LE(r.max_ulp, bound<Real>()) << fn << "<" << name<Real>() << "> at x = " << r.at;
}

constexpr std::size_t n_pts = 250000;

template <class Real> void check_exp() {
    const double hi = sizeof(Real) == 4 ? 88.7228317 : 709.782712893384;
    const double lo = sizeof(Real) == 4 ? -87.3365402 : -708.3964185322641;
    sweep_result r;
    auto f = [](Real x) { return m::exp(x); };
    auto ref = [](ld x) { return std::exp(x); };
    sweep<Real>(r, grid<Real>(lo, hi, n_pts), f, ref);
    sweep<Real>(r, grid<Real>(-1, 1, n_pts), f, ref);
    sweep<Real>(r, log_grid<Real>(1e-30, 1, n_pts, true), f, ref);
    report<Real>("exp", r);
}

template <class Real> void check_expm1() {
    const double hi = sizeof(Real) == 4 ? 88.7228317 : 709.782712893384;
    sweep_result r;
    auto f = [](Real x) { return m::expm1(x); };
    auto ref = [](ld x) { return std::expm1(x); };
    sweep<Real>(r, grid<Real>(-60, hi, n_pts), f, ref);
    sweep<Real>(r, grid<Real>(-1, 1, n_pts), f, ref);
    sweep<Real>(r, log_grid<Real>(1e-35, 2, n_pts, true), f, ref);
    report<Real>("expm1", r);
}

// Positive values with uniformly random bit patterns: every binade, subnormals included.
template <class Real> std::vector<Real> random_positive(std::size_t n, unsigned seed = 3) {
    std::vector<Real> xs;
    std::mt19937_64 gen(seed);
    const Real maxv = std::numeric_limits<Real>::max();
    while (xs.size() < n) {
        Real x;
        if constexpr (sizeof(Real) == 4) {
            auto b = static_cast<std::uint32_t>(gen()) & 0x7fffffffu;
            std::memcpy(&x, &b, 4);
        } else {
            auto b = gen() & 0x7fffffffffffffffull;
            std::memcpy(&x, &b, 8);
        }
        if (x > 0 && x <= maxv) xs.push_back(x);
    }
    return xs;
}

template <class Real> void check_log() {
    sweep_result r;
    auto f = [](Real x) { return m::log(x); };
    auto ref = [](ld x) { return std::log(x); };
    sweep<Real>(r, random_positive<Real>(n_pts), f, ref);
    sweep<Real>(r, grid<Real>(0.5, 2, n_pts), f, ref);
    sweep<Real>(r, grid<Real>(0.99, 1.01, n_pts), f, ref);
    report<Real>("log", r);
}

template <class Real> void check_log1p() {
    sweep_result r;
    auto f = [](Real x) { return m::log1p(x); };
    auto ref = [](ld x) { return std::log1p(x); };
    sweep<Real>(r, random_positive<Real>(n_pts), f, ref);
    sweep<Real>(r, grid<Real>(-0.999999, 10, n_pts), f, ref);
    sweep<Real>(r, log_grid<Real>(1e-30, 0.999, n_pts, true), f, ref);
    report<Real>("log1p", r);
}

template <class Real> double trig_range() { return sizeof(Real) == 4 ? 1e5 : 1e9; }

template <class Real> void check_trig(const char* fn, Real (*f)(Real), ld (*ref)(ld)) {
    sweep_result r;
    auto ff = [f](Real x) { return f(x); };
    sweep<Real>(r, grid<Real>(-4, 4, n_pts), ff, ref);
    sweep<Real>(r, grid<Real>(-1e4, 1e4, n_pts), ff, ref);
    sweep<Real>(r, grid<Real>(-trig_range<Real>(), trig_range<Real>(), n_pts), ff, ref);
    sweep<Real>(r, log_grid<Real>(1e-30, trig_range<Real>(), n_pts, true), ff, ref);
    report<Real>(fn, r);
}

// sin(pi x), cos(pi x): x = n/2 + f exactly, |f| <= 1/4, so pi f carries no large relative
// error, then the quadrant n mod 4.
void sincospi_ref(ld x, ld& s, ld& c) {
    const ld pi = 3.141592653589793238462643383279502884L;
    const ld n = std::nearbyint(2 * std::fmod(x, ld(2)));
    const ld f = std::fmod(x, ld(2)) - n / 2;
    const ld sf = std::sin(pi * f), cf = std::cos(pi * f);
    switch (static_cast<int>(std::fmod(n + 8, ld(4)))) {
        case 0: s = sf; c = cf; break;
        case 1: s = cf; c = -sf; break;
        case 2: s = -sf; c = -cf; break;
        default: s = -cf; c = sf; break;
    }
}
ld sinpi_ref(ld x) { ld s, c; sincospi_ref(x, s, c); return s; }
ld cospi_ref(ld x) { ld s, c; sincospi_ref(x, s, c); return c; }

template <class Real> void check_sincospi() {
    sweep_result rs, rc;
    auto s = [](Real x) { Real a, b; m::sincospi(x, a, b); return a; };
    auto c = [](Real x) { Real a, b; m::sincospi(x, a, b); return b; };
    for (auto xs : {grid<Real>(-4, 4, n_pts), grid<Real>(0, 1, n_pts), grid<Real>(-1e3, 1e3, n_pts)}) {
        // exact zeros of sin(pi x) / cos(pi x) have no relative error to speak of
        std::vector<Real> xs_s, xs_c;
        for (Real x : xs) {
            if (x != std::floor(x)) xs_s.push_back(x);
            if (x - std::floor(x) != Real(0.5)) xs_c.push_back(x);
        }
        sweep<Real>(rs, xs_s, s, sinpi_ref);
        sweep<Real>(rc, xs_c, c, cospi_ref);
    }
    report<Real>("sinpi", rs);
    report<Real>("cospi", rc);
}

template <class Real> void check_atan() {
    sweep_result r;
    auto f = [](Real x) { return m::atan(x); };
    auto ref = [](ld x) { return std::atan(x); };
    sweep<Real>(r, grid<Real>(-10, 10, n_pts), f, ref);
    sweep<Real>(r, grid<Real>(-3, 3, n_pts), f, ref);
    auto pos = random_positive<Real>(n_pts);
    sweep<Real>(r, pos, f, ref);
    for (auto& x : pos) x = -x;
    sweep<Real>(r, pos, f, ref);
    report<Real>("atan", r);
}

template <class Real> void check_tanh() {
    sweep_result r;
    auto f = [](Real x) { return m::tanh(x); };
    auto ref = [](ld x) { return std::tanh(x); };
    sweep<Real>(r, grid<Real>(-25, 25, n_pts), f, ref);
    sweep<Real>(r, grid<Real>(-1, 1, n_pts), f, ref);
    sweep<Real>(r, log_grid<Real>(1e-35, 30, n_pts, true), f, ref);
    report<Real>("tanh", r);
}

}  // namespace

TEST(MathUlp, ExpFloat) { check_exp<float>(); }
TEST(MathUlp, ExpDouble) { check_exp<double>(); }
TEST(MathUlp, Expm1Float) { check_expm1<float>(); }
TEST(MathUlp, Expm1Double) { check_expm1<double>(); }
TEST(MathUlp, LogFloat) { check_log<float>(); }
TEST(MathUlp, LogDouble) { check_log<double>(); }
TEST(MathUlp, Log1pFloat) { check_log1p<float>(); }
TEST(MathUlp, Log1pDouble) { check_log1p<double>(); }
TEST(MathUlp, SinFloat) { check_trig<float>("sin", m::sin<float>, [](ld x) { return std::sin(x); }); }
TEST(MathUlp, SinDouble) { check_trig<double>("sin", m::sin<double>, [](ld x) { return std::sin(x); }); }
TEST(MathUlp, CosFloat) { check_trig<float>("cos", m::cos<float>, [](ld x) { return std::cos(x); }); }
TEST(MathUlp, CosDouble) { check_trig<double>("cos", m::cos<double>, [](ld x) { return std::cos(x); }); }
TEST(MathUlp, TanFloat) { check_trig<float>("tan", m::tan<float>, [](ld x) { return std::tan(x); }); }
TEST(MathUlp, TanDouble) { check_trig<double>("tan", m::tan<double>, [](ld x) { return std::tan(x); }); }
TEST(MathUlp, SincospiFloat) { check_sincospi<float>(); }
TEST(MathUlp, SincospiDouble) { check_sincospi<double>(); }
TEST(MathUlp, AtanFloat) { check_atan<float>(); }
TEST(MathUlp, AtanDouble) { check_atan<double>(); }
TEST(MathUlp, TanhFloat) { check_tanh<float>(); }
TEST(MathUlp, TanhDouble) { check_tanh<double>(); }

// sincos gives the same bits as sin and cos called separately.
TEST(Math, SincosMatchesSinCos) {
    for (float x : {-1e4f, -3.0f, -0.5f, 0.0f, 0.1f, 1.5707964f, 3.1415927f, 100.0f, 9999.5f}) {
        float s, c;
        m::sincos(x, s, c);
        EXPECT_EQ(s, m::sin(x));
        EXPECT_EQ(c, m::cos(x));
    }
}

template <class Real> void check_specials() {
    using lim = std::numeric_limits<Real>;
    const Real inf = lim::infinity(), nan = lim::quiet_NaN();
    const Real hi = sizeof(Real) == 4 ? Real(88.7228317f) : Real(709.782712893384);
    const Real lo = sizeof(Real) == 4 ? Real(-87.3365402f) : Real(-708.3964185322641);

    EXPECT_EQ(m::exp(Real(0)), Real(1));
    EXPECT_LE(ulp_error<Real>(m::exp(Real(1)), std::exp(ld(1))), 1.0);
    EXPECT_EQ(m::exp(-inf), Real(0));
    EXPECT_EQ(m::exp(inf), inf);
    EXPECT_TRUE(std::isnan(m::exp(nan)));
    EXPECT_EQ(m::exp(Real(-1000)), Real(0));
    EXPECT_TRUE(std::isfinite(m::exp(hi)));
    EXPECT_EQ(m::exp(std::nextafter(hi, inf)), inf);
    EXPECT_GE(m::exp(lo), lim::min());  // smallest argument not flushed gives a normal number
    EXPECT_EQ(m::exp(std::nextafter(lo, -inf)), Real(0));

    EXPECT_EQ(m::expm1(Real(0)), Real(0));
    EXPECT_TRUE(std::signbit(m::expm1(-Real(0))));
    EXPECT_EQ(m::expm1(-inf), Real(-1));
    EXPECT_EQ(m::expm1(inf), inf);
    EXPECT_EQ(m::expm1(Real(-100)), Real(-1));
    EXPECT_EQ(m::expm1(lim::denorm_min()), lim::denorm_min());
    EXPECT_TRUE(std::isnan(m::expm1(nan)));

    EXPECT_EQ(m::log(Real(1)), Real(0));
    EXPECT_EQ(m::log(Real(0)), -inf);
    EXPECT_EQ(m::log(-Real(0)), -inf);
    EXPECT_TRUE(std::isnan(m::log(Real(-1))));
    EXPECT_TRUE(std::isnan(m::log(-inf)));
    EXPECT_EQ(m::log(inf), inf);
    EXPECT_TRUE(std::isnan(m::log(nan)));
    EXPECT_LE(ulp_error<Real>(m::log(lim::denorm_min()), std::log(ld(lim::denorm_min()))), 1.0);
    EXPECT_LE(ulp_error<Real>(m::log(lim::max()), std::log(ld(lim::max()))), 1.0);

    EXPECT_EQ(m::log1p(Real(0)), Real(0));
    EXPECT_TRUE(std::signbit(m::log1p(-Real(0))));
    EXPECT_EQ(m::log1p(Real(-1)), -inf);
    EXPECT_TRUE(std::isnan(m::log1p(Real(-2))));
    EXPECT_EQ(m::log1p(inf), inf);
    EXPECT_EQ(m::log1p(lim::denorm_min()), lim::denorm_min());
    EXPECT_TRUE(std::isnan(m::log1p(nan)));

    EXPECT_EQ(m::sin(Real(0)), Real(0));
    EXPECT_EQ(m::cos(Real(0)), Real(1));
    EXPECT_EQ(m::tan(Real(0)), Real(0));
    EXPECT_TRUE(std::isnan(m::sin(inf)));
    EXPECT_TRUE(std::isnan(m::cos(-inf)));
    EXPECT_TRUE(std::isnan(m::sin(nan)));
    Real s, c;
    m::sincospi(Real(0.5), s, c);
    EXPECT_EQ(s, Real(1));
    EXPECT_EQ(c, Real(0));
    m::sincospi(Real(1), s, c);
    EXPECT_EQ(s, Real(0));
    EXPECT_EQ(c, Real(-1));
    m::sincospi(Real(0.25), s, c);
    EXPECT_EQ(s, c);

    EXPECT_EQ(m::atan(Real(0)), Real(0));
    EXPECT_TRUE(std::signbit(m::atan(-Real(0))));
    EXPECT_EQ(m::atan(inf), static_cast<Real>(std::atan(ld(inf))));
    EXPECT_EQ(m::atan(-inf), -static_cast<Real>(std::atan(ld(inf))));
    EXPECT_EQ(m::atan(Real(1)), static_cast<Real>(std::atan(ld(1))));
    EXPECT_TRUE(std::isnan(m::atan(nan)));

    EXPECT_EQ(m::tanh(Real(0)), Real(0));
    EXPECT_TRUE(std::signbit(m::tanh(-Real(0))));
    EXPECT_EQ(m::tanh(inf), Real(1));
    EXPECT_EQ(m::tanh(-inf), Real(-1));
    EXPECT_EQ(m::tanh(Real(1000)), Real(1));
    EXPECT_TRUE(std::isnan(m::tanh(nan)));

    EXPECT_EQ(m::floor(Real(2.5)), Real(2));
    EXPECT_EQ(m::floor(Real(-2.5)), Real(-3));
    EXPECT_EQ(m::floor(Real(-0.25)), Real(-1));
    EXPECT_EQ(m::floor(Real(3)), Real(3));
    EXPECT_EQ(m::floor(Real(-3)), Real(-3));
    EXPECT_EQ(m::floor(Real(1e30)), Real(1e30));
    EXPECT_EQ(m::floor(-inf), -inf);
    EXPECT_TRUE(std::isnan(m::floor(nan)));
    const Real big = sizeof(Real) == 4 ? Real(4194303.5f) : Real(2251799813685247.5);
    EXPECT_EQ(m::floor(big), big - Real(0.5));
}

TEST(MathSpecial, Float) { check_specials<float>(); }
TEST(MathSpecial, Double) { check_specials<double>(); }

// fma is fused: one rounding.
TEST(Math, FmaIsFused) {
    const float a = 1.0f + 0x1p-12f;
    EXPECT_EQ(m::fma(a, a, -(1.0f + 0x1p-11f)), 0x1p-24f);
    const double b = 1.0 + 0x1p-30;
    EXPECT_EQ(m::fma(b, b, -(1.0 + 0x1p-29)), 0x1p-60);
}

// to_double rounds a 64-bit integer exactly as the cast does, including the ties and carries
// where the low half decides the rounding of values above 2^53.
TEST(Math, ToDoubleEqualsTheCast) {
    constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
    std::vector<std::int64_t> values = {0, 1, -1, lo, lo + 1, hi, hi - 1, 0xffffffffLL, -0xffffffffLL,
                                        0x100000000LL, (1LL << 53) + 1, (1LL << 53) + 3, -(1LL << 53) - 1,
                                        (1LL << 62) + (1LL << 9) + 1, (1LL << 62) + (1LL << 9), (1LL << 62) + (3LL << 9)};
    std::mt19937_64 gen(7);
    for (int k = 0; k < 200000; ++k) {
        const auto v = static_cast<std::int64_t>(gen());
        values.push_back(v);
        values.push_back(v >> (k % 63));
    }
    for (const std::int64_t v : values) ASSERT_EQ(m::to_double(v), static_cast<double>(v)) << v;
}
