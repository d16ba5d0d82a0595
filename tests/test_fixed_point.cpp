// ifsim fixed-point synaptic accumulation (fixed_point.hpp): order independence, accuracy bounds,
// rounding, format choice and overflow detection. Random weights use std::mt19937_64 with fixed
// seeds, so every number here is reproducible.
#include "ifsim/fixed_point.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

namespace {

using ifsim::accumulator_width;
using ifsim::add_checked;
using ifsim::choose_format;
using ifsim::fixed_point_format;
using ifsim::from_fixed;
using ifsim::make_format;
using ifsim::to_fixed;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

// n weights uniform in [-w_max, w_max]: excitation and inhibition mixed.
std::vector<double> random_weights(std::size_t n, double w_max, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-w_max, w_max);
    std::vector<double> w(n);
    for (auto& x : w) x = u(rng);
    return w;
}

std::int64_t fixed_sum(const std::vector<double>& w, const fixed_point_format& f) {
    std::int64_t acc = 0;
    for (double x : w) EXPECT_TRUE(add_checked(acc, to_fixed(x, f)));
    return acc;
}

// Whether n weights of magnitude w fit the format at quantum 2^e: the condition choose_format
// must make true at its exponent and false one exponent finer.
bool worst_case_fits(double w, std::uint64_t n, int e, accumulator_width acc) {
    const fixed_point_format f = make_format(e, acc);
    std::int64_t units = 0;
    if (!ifsim::to_fixed_checked(w, f, units) || units > f.max_weight_units) return false;
    const auto wide = static_cast<__int128>(units) * static_cast<__int128>(n == 0 ? 1 : n);
    return wide <= f.max_units;
}

TEST(FixedPoint, SumIsIdenticalInEveryPermutation) {
    constexpr std::size_t n = 100000;
    constexpr double w_max = 0.5;  // mV
    auto w = random_weights(n, w_max, 20240601);
    const fixed_point_format f = choose_format(w_max, n);
    const std::int64_t reference = fixed_sum(w, f);
    const double reference_mv = from_fixed(reference, f);
    const float reference_f = from_fixed<float>(reference, f);

    std::mt19937_64 rng(7);
    int double_sums_that_differ = 0;
    double double_reference = 0.0;
    for (double x : w) double_reference += x;
    for (int shuffle = 0; shuffle < 8; ++shuffle) {
        std::shuffle(w.begin(), w.end(), rng);
        const std::int64_t s = fixed_sum(w, f);
        EXPECT_EQ(s, reference) << "shuffle " << shuffle;
        EXPECT_EQ(std::bit_cast<std::uint64_t>(from_fixed(s, f)), std::bit_cast<std::uint64_t>(reference_mv));
        EXPECT_EQ(std::bit_cast<std::uint32_t>(from_fixed<float>(s, f)), std::bit_cast<std::uint32_t>(reference_f));
        double d = 0.0;
        for (double x : w) d += x;
        double_sums_that_differ += (d != double_reference);
    }
    // Why fixed point: the plain double sum does depend on the order (informative, not asserted).
    std::cout << "[ info ] plain double sums differing from the unshuffled one: " << double_sums_that_differ
              << " of 8\n";
}

TEST(FixedPoint, SumIsTheExactSumOfTheRoundedWeights) {
    constexpr std::size_t n = 100000;
    constexpr double w_max = 87.8;  // pA, not a power of two
    const auto w = random_weights(n, w_max, 99);
    const fixed_point_format f = choose_format(w_max, n);
    // Each rounded weight r_i = k_i q with |k_i| <= 2^31, so every partial sum of them is a multiple
    // of q below n 2^31 q < 2^53 q (n < 2^22): the double sum of the r_i is exact in any order, an
    // independent computation of the rational sum sum_i r_i.
    ASSERT_LT(n, std::size_t{1} << 22);
    double exact = 0.0;
    for (double x : w) {
        const double r = std::nearbyint(std::ldexp(x, -f.exponent));
        ASSERT_LE(std::fabs(r), 2147483647.0);
        ASSERT_LE(std::fabs(x - std::ldexp(r, f.exponent)), f.quantum / 2);
        exact += std::ldexp(r, f.exponent);
    }
    EXPECT_EQ(from_fixed(fixed_sum(w, f), f), exact);
}

TEST(FixedPoint, SumIsWithinHalfAQuantumPerInputOfTheTrueSum) {
    // Bound: each weight moves by at most q/2 when rounded, so |fixed - true| <= n q / 2.
    constexpr std::size_t n = 200000;
    constexpr double w_max = 0.1;
    const auto w = random_weights(n, w_max, 3);
    for (auto acc : {accumulator_width::int64, accumulator_width::int32}) {
        const fixed_point_format f = choose_format(w_max, n, acc);
        long double truth = 0.0L;  // error ~ n eps_ld sum|w| ~ 1e-10 mV, far below n q / 2
        for (double x : w) truth += x;
        const double fixed = from_fixed(fixed_sum(w, f), f);
        const double err = std::fabs(static_cast<double>(fixed - truth));
        const double bound = static_cast<double>(n) * f.quantum / 2;
        EXPECT_LE(err, bound);
        std::cout << "[ info ] int" << static_cast<int>(acc) << ": quantum 2^" << f.exponent << " = "
                  << f.quantum << ", |fixed - true| = " << err << ", bound n q/2 = " << bound << "\n";
    }
}

TEST(FixedPoint, MultiplesOfTheQuantumRoundTripExactly) {
    for (int e : {-40, -31, -10, 0, 7}) {
        const fixed_point_format f = make_format(e);
        std::mt19937_64 rng(static_cast<std::uint64_t>(e + 100));
        std::vector<std::int64_t> ks = {0, 1, -1, 2, 2147483647, -2147483647, std::int64_t{1} << 53,
                                        -(std::int64_t{1} << 53)};
        std::uniform_int_distribution<std::int64_t> k53(-(std::int64_t{1} << 53), std::int64_t{1} << 53);
        for (int i = 0; i < 10000; ++i) ks.push_back(k53(rng));
        for (std::int64_t k : ks) {
            const double w = from_fixed(k, f);
            EXPECT_EQ(w, std::ldexp(static_cast<double>(k), e));
            EXPECT_EQ(to_fixed(w, f), k) << "k = " << k << ", e = " << e;
        }
        // float: exact for k with at most 24 significant bits
        std::uniform_int_distribution<std::int64_t> k24(-(std::int64_t{1} << 24), std::int64_t{1} << 24);
        for (int i = 0; i < 10000; ++i) {
            const std::int64_t k = k24(rng);
            EXPECT_EQ(to_fixed(from_fixed<float>(k, f), f), k);
        }
    }
}

TEST(FixedPoint, TiesRoundToEven) {
    const fixed_point_format f = make_format(-20);
    const double q = f.quantum;
    for (std::int64_t k = -1000; k <= 1000; ++k) {
        const double tie = (static_cast<double>(k) + 0.5) * q;  // exact
        const std::int64_t even = (k % 2 == 0) ? k : k + 1;
        EXPECT_EQ(to_fixed(tie, f), even) << "k + 1/2 with k = " << k;
        EXPECT_EQ(to_fixed(static_cast<float>(tie), f), even);
        // just off the tie goes to the nearer integer
        EXPECT_EQ(to_fixed(std::nextafter(tie, -1e9), f), k);
        EXPECT_EQ(to_fixed(std::nextafter(tie, 1e9), f), k + 1);
    }
    EXPECT_EQ(to_fixed(0.5 * q, f), 0);
    EXPECT_EQ(to_fixed(-0.5 * q, f), 0);
    EXPECT_EQ(to_fixed(1.5 * q, f), 2);
    EXPECT_EQ(to_fixed(-1.5 * q, f), -2);
    EXPECT_EQ(to_fixed(2.5 * q, f), 2);
    EXPECT_EQ(to_fixed(-2.5 * q, f), -2);
}

TEST(FixedPoint, ChooseFormatPicksTheFinestQuantumThatCannotOverflow) {
    const double weights[] = {1e-3, 0.1, 0.5, 1.0, 1.5, 87.8, 1000.0, 2147483647.0, 3e9, 1e-200};
    const std::uint64_t ns[] = {0, 1, 2, 800, 10000, 1000000, std::uint64_t{1} << 32,
                                (std::uint64_t{1} << 32) + 1, std::uint64_t{1} << 40};
    for (auto acc : {accumulator_width::int64, accumulator_width::int32}) {
        for (double w : weights) {
            for (std::uint64_t n : ns) {
                if (acc == accumulator_width::int32 && n > 2147483647u) continue;
                const fixed_point_format f = choose_format(w, n, acc);
                SCOPED_TRACE(testing::Message() << "w " << w << " n " << n << " int" << static_cast<int>(acc));
                EXPECT_EQ(f.quantum, std::ldexp(1.0, f.exponent));
                EXPECT_EQ(f.quantum * f.scale, 1.0);
                EXPECT_TRUE(worst_case_fits(w, n, f.exponent, acc));
                EXPECT_FALSE(worst_case_fits(w, n, f.exponent - 1, acc));
                // the relative resolution it gives: with int64 and n <= 2^32 the weight storage
                // sets it, 2^-31 < q / w <= 2^-30 (up to the rounding of w itself)
                if (acc == accumulator_width::int64 && n <= (std::uint64_t{1} << 32)) {
                    EXPECT_GT(f.quantum / w, std::ldexp(1.0, -32));
                    EXPECT_LE(f.quantum / w, std::ldexp(1.0, -30));
                }
            }
        }
    }
    // Summing the worst case, every sign pattern, never overflows.
    const fixed_point_format f = choose_format(0.7, 100000, accumulator_width::int32);
    const std::int64_t w_units = to_fixed(0.7, f);
    std::int32_t up = 0, down = 0;
    for (int i = 0; i < 100000; ++i) {
        ASSERT_TRUE(add_checked(up, static_cast<std::int32_t>(w_units)));
        ASSERT_TRUE(add_checked(down, static_cast<std::int32_t>(-w_units)));
    }
    EXPECT_TRUE(ifsim::in_range(up, f));
    EXPECT_EQ(up, -down);
    // Zero weights: any quantum represents them.
    EXPECT_EQ(choose_format(0.0, 1000).quantum, 1.0);
}

TEST(FixedPoint, OverflowIsDetected) {
    std::int64_t a = int64_max;
    EXPECT_FALSE(add_checked(a, 1));
    a = int64_min;
    EXPECT_FALSE(add_checked(a, -1));
    a = int64_max - 5;
    EXPECT_TRUE(add_checked(a, 5));
    EXPECT_EQ(a, int64_max);
    std::int32_t b = 2147483647;
    EXPECT_FALSE(add_checked(b, 1));
    b = -2147483647;
    EXPECT_TRUE(add_checked(b, -1));
    EXPECT_FALSE(add_checked(b, -1));

    // More inputs than the format was chosen for: with an int32 accumulator the first add past
    // the limit is caught.
    constexpr std::uint64_t n = 1000;
    const fixed_point_format f = choose_format(2.0, n, accumulator_width::int32);
    std::int32_t acc = 0;
    const auto w = static_cast<std::int32_t>(to_fixed(2.0, f));
    std::uint64_t added = 0;
    while (add_checked(acc, w)) ++added;
    EXPECT_GE(added, n);        // the promised worst case fits
    EXPECT_LT(added, 2 * n);    // and the quantum is no coarser than needed
    // ... and the order-independent check on a wide slot
    std::int64_t wide = 0;
    for (std::uint64_t i = 0; i < 2 * n; ++i) add_checked(wide, w);
    EXPECT_FALSE(ifsim::in_range(wide, f));

    // Conversions out of range or NaN are refused; to_fixed saturates deterministically.
    const fixed_point_format g = make_format(-30);
    std::int64_t out = 42;
    EXPECT_FALSE(ifsim::to_fixed_checked(std::ldexp(1.0, 33), g, out));  // 2^63 quanta
    EXPECT_FALSE(ifsim::to_fixed_checked(std::nan(""), g, out));
    EXPECT_FALSE(ifsim::to_fixed_checked(-INFINITY, g, out));
    EXPECT_EQ(out, 42);
    EXPECT_EQ(to_fixed(1e300, g), g.max_units);
    EXPECT_EQ(to_fixed(-1e300, g), -g.max_units);
    EXPECT_EQ(to_fixed(std::nan(""), g), 0);
    std::int32_t w32 = 0;
    EXPECT_TRUE(ifsim::weight_to_fixed(std::ldexp(2147483647.0, -30), g, w32));
    EXPECT_EQ(w32, 2147483647);
    EXPECT_FALSE(ifsim::weight_to_fixed(2.0, g, w32));  // 2^31 quanta: fits int64, not int32
    EXPECT_TRUE(ifsim::weight_to_fixed(-std::ldexp(2147483647.0, -30), g, w32));
    EXPECT_EQ(w32, -2147483647);
    EXPECT_FALSE(ifsim::weight_to_fixed(-2.0, g, w32));
    EXPECT_FALSE(ifsim::weight_to_fixed(std::nan(""), g, w32));

    // Bad requests are config errors.
    EXPECT_THROW(choose_format(std::nan(""), 10), ifsim::config_error);
    EXPECT_THROW(choose_format(INFINITY, 10), ifsim::config_error);
    EXPECT_THROW(choose_format(-1.0, 10), ifsim::config_error);
    EXPECT_THROW(choose_format(1.0, std::uint64_t{1} << 31, accumulator_width::int32), ifsim::config_error);
    EXPECT_THROW(make_format(-1023), ifsim::config_error);
}

TEST(FixedPoint, InhibitionIsSymmetric) {
    const auto w = random_weights(50000, 3.0, 11);
    const fixed_point_format f = choose_format(3.0, w.size());
    std::vector<double> neg(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
        neg[i] = -w[i];
        EXPECT_EQ(to_fixed(-w[i], f), -to_fixed(w[i], f));
        EXPECT_EQ(to_fixed(static_cast<float>(-w[i]), f), -to_fixed(static_cast<float>(w[i]), f));
    }
    EXPECT_EQ(fixed_sum(neg, f), -fixed_sum(w, f));
    // ties too, on both sides of zero
    for (double k : {0.5, 1.5, 2.5, 1e6 + 0.5}) EXPECT_EQ(to_fixed(-k * f.quantum, f), -to_fixed(k * f.quantum, f));
    // the range is symmetric: -max_units is reachable, int64 min is not in range
    EXPECT_TRUE(ifsim::in_range(-f.max_units, f));
    EXPECT_FALSE(ifsim::in_range(int64_min, f));
    EXPECT_EQ(from_fixed(-f.max_units, f), -from_fixed(f.max_units, f));
}

}  // namespace
