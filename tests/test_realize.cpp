// realize(): per-neuron values from distributions, deterministic and independent of how they are
// requested (all at once or one index at a time).
#include "ifsim/realize.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ifsim/errors.hpp"

using namespace ifsim;

namespace {

distribution make(distribution::kind k, double a, double b) {
    distribution d;
    d.type = k;
    d.a = a;
    d.b = b;
    return d;
}

}  // namespace

TEST(Realize, Constant) {
    const auto v = realize(distribution::constant(3.5), 10, 1, 0, 0);
    ASSERT_EQ(v.size(), 10u);
    for (double x : v) EXPECT_EQ(x, 3.5);
}

TEST(Realize, LinspaceEndpointsExact) {
    const distribution d = make(distribution::kind::linspace, 0.1, 0.7);
    const auto v = realize(d, 7, 1, 0, 0);
    ASSERT_EQ(v.size(), 7u);
    EXPECT_EQ(v.front(), 0.1);
    EXPECT_EQ(v.back(), 0.7);
    for (std::size_t i = 1; i < v.size(); ++i) {
        EXPECT_GT(v[i], v[i - 1]);
        EXPECT_NEAR(v[i], 0.1 + 0.1 * double(i), 1e-15);
    }
    EXPECT_EQ(realize(d, 1, 1, 0, 0), std::vector<double>{0.1});
    const auto down = realize(make(distribution::kind::linspace, 500.0, -3.0), 1001, 1, 0, 0);
    EXPECT_EQ(down.front(), 500.0);
    EXPECT_EQ(down.back(), -3.0);
    EXPECT_TRUE(std::is_sorted(down.rbegin(), down.rend()));
}

TEST(Realize, UniformRangeAndKs) {
    // KS at alpha = 1e-4 (fixed seed): a correct generator fails with probability 1e-4
    const distribution d = make(distribution::kind::uniform, -2.0, 3.0);
    const std::uint64_t n = 200000;
    auto v = realize(d, n, 99, 4, 1000);
    for (double x : v) {
        EXPECT_GE(x, -2.0);
        EXPECT_LT(x, 3.0);
    }
    std::sort(v.begin(), v.end());
    double dmax = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double f = (v[i] + 2.0) / 5.0;
        dmax = std::max({dmax, f - double(i) / double(n), double(i + 1) / double(n) - f});
    }
    // Kolmogorov: P(sqrt(n) D > 1.95) ~ 1e-3, P(> 2.23) ~ 1e-4
    EXPECT_LT(dmax * std::sqrt(double(n)), 2.23);
    // degenerate interval
    for (double x : realize(make(distribution::kind::uniform, 1.0, 1.0), 5, 1, 0, 0)) EXPECT_EQ(x, 1.0);
}

TEST(Realize, NormalMoments) {
    const distribution d = make(distribution::kind::normal, -65.0, 4.0);
    const std::uint64_t n = 200000;
    const auto v = realize(d, n, 5, 2, 0);
    double m = 0;
    for (double x : v) m += x;
    m /= double(n);
    double var = 0;
    for (double x : v) var += (x - m) * (x - m);
    var /= double(n);
    // z-scores against 3.89 (two-sided alpha = 1e-4)
    EXPECT_LT(std::abs(m + 65.0) / (4.0 / std::sqrt(double(n))), 3.89);
    EXPECT_LT(std::abs(var / 16.0 - 1.0) / std::sqrt(2.0 / double(n)), 3.89);
    // zero standard deviation is the mean exactly
    for (double x : realize(make(distribution::kind::normal, 2.0, 0.0), 5, 1, 0, 0)) EXPECT_EQ(x, 2.0);
}

TEST(Realize, Deterministic) {
    const distribution u = make(distribution::kind::uniform, 0.0, 1.0);
    const distribution g = make(distribution::kind::normal, 0.0, 1.0);
    for (const auto& d : {u, g}) {
        const auto a = realize(d, 1000, 42, 3, 500);
        EXPECT_EQ(a, realize(d, 1000, 42, 3, 500));
        const auto other_stream = realize(d, 1000, 42, 4, 500);
        const auto other_seed = realize(d, 1000, 43, 3, 500);
        std::size_t same_stream = 0, same_seed = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            same_stream += a[i] == other_stream[i];
            same_seed += a[i] == other_seed[i];
        }
        EXPECT_EQ(same_stream, 0u);
        EXPECT_EQ(same_seed, 0u);
        // realize_one gives the same values, and a population split in two parts too
        for (std::uint64_t i : {0ull, 1ull, 517ull, 999ull}) EXPECT_EQ(realize_one(d, 1000, i, 42, 3, 500), a[i]);
        const auto tail = realize(d, 400, 42, 3, 1100);
        for (std::size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], a[600 + i]);
    }
}

TEST(Realize, ArrayPassthrough) {
    distribution d;
    d.type = distribution::kind::array;
    d.values = {1.0, -2.0, 3.25};
    EXPECT_EQ(realize(d, 3, 1, 0, 0), d.values);
    EXPECT_EQ(realize_one(d, 3, 1, 1, 0, 0), -2.0);
    EXPECT_THROW(realize(d, 4, 1, 0, 0), config_error);
    EXPECT_THROW(realize_one(d, 2, 0, 1, 0, 0), config_error);
}
