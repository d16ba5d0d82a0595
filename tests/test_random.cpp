// Philox4x32-10 against Random123's published known-answer vectors, the cuRAND counter layout,
// and the distributions built on it (uniform, Box-Muller normal, Poisson).
//
// Statistical tests use fixed seeds and alpha = 1e-4 per check (two-sided |z| < 3.89 for
// moments). About 50 checks run, so a correct generator fails one of them with probability
// < 0.5%; with 1e5-1e6 draws the tests still detect a 1% error in a variance or a skewness of
// 0.01 with near certainty. The seeds are fixed, so an outcome never changes between runs.
#include "../host/cpu_philox.hpp"
#include "ifsim/random.hpp"

#include <gtest/gtest.h>

#if IFSIM_HAVE_CUDA
#include "ifsim/cuda_info.hpp"
#endif
#include "support/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <vector>

using namespace ifsim;

namespace {

constexpr double alpha = 1e-4;
constexpr double z_crit = 3.89;  // two-sided normal quantile for alpha = 1e-4

// Kolmogorov distribution tail P(K > x), with Stephens' small-sample correction applied by the
// caller.
double kolmogorov_tail(double x) {
    if (x < 0.2) return 1.0;
    double s = 0.0;
    for (int k = 1; k < 100; ++k) s += 2.0 * ((k % 2) ? 1.0 : -1.0) * std::exp(-2.0 * k * k * x * x);
    return std::clamp(s, 0.0, 1.0);
}

// p-value of the one-sample KS test of xs against cdf.
double ks_pvalue(std::vector<double> xs, const std::function<double(double)>& cdf) {
    std::sort(xs.begin(), xs.end());
    const double n = static_cast<double>(xs.size());
    double d = 0.0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double f = cdf(xs[i]);
        d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    const double sn = std::sqrt(n);
    return kolmogorov_tail(d * (sn + 0.12 + 0.11 / sn));
}

using test::chi2_pvalue;
using test::normal_cdf;

struct moments {
    double mean, var, skew, exkurt;
};
moments sample_moments(const std::vector<double>& xs) {
    const double n = static_cast<double>(xs.size());
    double m1 = 0;
    for (double x : xs) m1 += x;
    m1 /= n;
    double m2 = 0, m3 = 0, m4 = 0;
    for (double x : xs) {
        const double d = x - m1, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    return {m1, m2, m3 / std::pow(m2, 1.5), m4 / (m2 * m2) - 3.0};
}

const philox_key test_key = make_key(20240611u, 7u);

}  // namespace

// Random123 tests/kat_vectors, lines "philox4x32 10 CTR[4] KEY[2] EXPECTED[4]".
TEST(Philox, KnownAnswerVectors) {
    struct kat {
        philox_block ctr;
        philox_key key;
        philox_block expected;
    };
    const kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
         {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
         {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (const kat& k : kats) {
        const philox_block out = philox4x32_10(k.ctr, k.key);
        EXPECT_EQ(out.x, k.expected.x);
        EXPECT_EQ(out.y, k.expected.y);
        EXPECT_EQ(out.z, k.expected.z);
        EXPECT_EQ(out.w, k.expected.w);
    }
}

// The CPU backend's 16 lanes (host/cpu_philox.hpp) draw each lane's block as draw() does: over
// keys, steps and purposes, with ids whose high word changes inside the 16 (2^32 - 5 ...).
TEST(Philox, CpuLanesEqualTheScalarDraw) {
    const std::uint64_t firsts[] = {0, 1, 4096, 0xfffffffbull, 0x1fffffff0ull, 123456789012345ull};
    const std::uint64_t steps[] = {0, 1, 9999, 0x10000000ull};
    for (const philox_key key : {test_key, make_key(0, 0), make_key(0xffffffffu, 0xfffffffeu)})
        for (const std::uint64_t first : firsts)
            for (const std::uint64_t step : steps)
                for (const std::uint32_t purpose : {0u, 1u, 15u}) {
                    const cpu::block_lanes b = cpu::draw_lanes(key, first, step, purpose);
                    for (int k = 0; k < cpu::philox_lanes; ++k) {
                        const philox_block want = draw(key, first + std::uint64_t(k), step, purpose);
                        ASSERT_TRUE(b.x[k] == want.x && b.y[k] == want.y && b.z[k] == want.z && b.w[k] == want.w)
                            << "id " << first + std::uint64_t(k) << ", step " << step << ", purpose " << purpose;
                    }
                }
}

// cuRAND's curand_init(seed, subsequence, offset) for Philox4_32_10 sets key = (lo(seed),
// hi(seed)), starts from a zero counter, adds subsequence to the high 64 bits (z, w) and
// offset / 4 to the low 64 bits (x, y), with carries, and returns words from element offset % 4.
// This restates that arithmetic with explicit 32-bit carries and checks make_key / make_counter
// against it.
TEST(Philox, CounterLayoutIsCurands) {
    struct ctr4 {
        std::uint32_t x = 0, y = 0, z = 0, w = 0;
    };
    auto curand_like = [](std::uint64_t subsequence, std::uint64_t offset) {
        ctr4 c;
        // high half += subsequence
        const auto slo = static_cast<std::uint32_t>(subsequence);
        auto shi = static_cast<std::uint32_t>(subsequence >> 32);
        c.z += slo;
        if (c.z < slo) ++shi;
        c.w += shi;
        // low half += offset / 4
        const std::uint64_t n = offset / 4;
        const auto nlo = static_cast<std::uint32_t>(n);
        auto nhi = static_cast<std::uint32_t>(n >> 32);
        c.x += nlo;
        if (c.x < nlo) ++nhi;
        c.y += nhi;
        return c;
    };
    const std::uint64_t subs[] = {0, 1, 0xffffffffull, 0x100000000ull, 123456789012345ull,
                                  ~0ull};
    const std::uint64_t steps[] = {0, 1, 2, 0x0fffffffull, 0x10000000ull, 987654321ull};
    for (std::uint64_t id : subs) {
        for (std::uint64_t step : steps) {
            for (std::uint32_t purpose : {0u, 1u, 13u, 15u}) {
                const std::uint64_t block = step * rng_blocks_per_step + purpose;
                const ctr4 want = curand_like(id, 4 * block);
                const philox_block got = make_counter(id, block);
                EXPECT_EQ(got.x, want.x);
                EXPECT_EQ(got.y, want.y);
                EXPECT_EQ(got.z, want.z);
                EXPECT_EQ(got.w, want.w);
                const philox_block d = draw(test_key, id, step, purpose);
                const philox_block e = philox4x32_10(got, test_key);
                EXPECT_TRUE(d.x == e.x && d.y == e.y && d.z == e.z && d.w == e.w);
            }
        }
    }
    const std::uint64_t seed = 0x89abcdefull;
    const std::uint32_t stream = 0x01234567u;
    const std::uint64_t seed64 = seed | (static_cast<std::uint64_t>(stream) << 32);
    const philox_key k = make_key(seed, stream);
    EXPECT_EQ(k.k0, static_cast<std::uint32_t>(seed64));
    EXPECT_EQ(k.k1, static_cast<std::uint32_t>(seed64 >> 32));
}

// The device half of the layout check above: cuRAND's own Philox, through the update kernel's
// curand_block, returns the same four words as the host Philox for edge-case and random
// (key, subsequence, block), the 32-bit carries included.
TEST(Philox, CuRandEqualsHostPhilox) {
#if IFSIM_HAVE_CUDA
    const cuda_status status = query_cuda();
    if (!status.usable) GTEST_SKIP() << "no usable CUDA device: " << status.reason;
    std::vector<std::uint64_t> ids, blocks;
    const std::uint64_t edge_ids[] = {0, 1, 0xffffffffull, 0x100000000ull, 123456789012345ull, ~0ull};
    const std::uint64_t edge_blocks[] = {0, 1, 15, 16, 0xffffffffull, 0x100000000ull, 0x3fffffffffffffffull};
    for (std::uint64_t id : edge_ids)
        for (std::uint64_t b : edge_blocks) ids.push_back(id), blocks.push_back(b);
    for (std::uint32_t i = 0; i < 100000; ++i) {  // random pairs, drawn from the host Philox itself
        const philox_block r = philox4x32_10(make_counter(i, 0), make_key(99, 7));
        ids.push_back(std::uint64_t{r.x} | std::uint64_t{r.y} << 32 >> (r.w % 64));
        blocks.push_back((std::uint64_t{r.z} | std::uint64_t{r.w} << 32) >> (2 + r.x % 62));
    }
    for (const philox_key key : {make_key(0, 0), test_key, make_key(0xffffffffu, 0xffffffffu)}) {
        const std::vector<philox_block> got = curand_philox_blocks(key, ids, blocks);
        ASSERT_EQ(got.size(), ids.size());
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const philox_block want = philox4x32_10(make_counter(ids[i], blocks[i]), key);
            const philox_block g = got[i];
            if (g.x != want.x || g.y != want.y || g.z != want.z || g.w != want.w) {
                if (++mismatches <= 5)
                    ADD_FAILURE() << "key (" << key.k0 << ", " << key.k1 << ") subsequence " << ids[i] << " block "
                                  << blocks[i] << ": cuRAND " << g.x << ' ' << g.y << ' ' << g.z << ' ' << g.w
                                  << ", host " << want.x << ' ' << want.y << ' ' << want.z << ' ' << want.w;
            }
        }
        EXPECT_EQ(mismatches, 0u) << "of " << ids.size();
    }
#else
    GTEST_SKIP() << "ifsim was built without CUDA (nvcc not found)";
#endif
}

TEST(Philox, Deterministic) {
    const philox_block a = draw(test_key, 42, 1000, rng_purpose::neuron);
    const philox_block b = draw(test_key, 42, 1000, rng_purpose::neuron);
    EXPECT_TRUE(a.x == b.x && a.y == b.y && a.z == b.z && a.w == b.w);
    const philox_block c = draw(make_key(20240611u, 8u), 42, 1000, rng_purpose::neuron);
    EXPECT_FALSE(a.x == c.x && a.y == c.y);
}

TEST(Uniform, OpenInterval) {
    for (std::uint32_t b : {0u, 1u, 511u, 512u, 0x7fffffffu, 0x80000000u, 0xfffffe00u, 0xffffffffu}) {
        const float f = uniform_open<float>(b);
        const double d = uniform_open<double>(b);
        EXPECT_GT(f, 0.0f);
        EXPECT_LT(f, 1.0f);
        EXPECT_GT(d, 0.0);
        EXPECT_LT(d, 1.0);
    }
    EXPECT_EQ(uniform_open<float>(0u), 0x1p-24f);
    EXPECT_EQ(uniform_open<float>(0xffffffffu), 1.0f - 0x1p-24f);
    EXPECT_EQ(uniform_open<double>(0u), 0x1p-33);
    EXPECT_EQ(uniform_open<double>(0xffffffffu), 1.0 - 0x1p-33);
    // symmetric grid: u(b) + u(~b) = 1
    EXPECT_EQ(uniform_open<float>(0x12345678u) + uniform_open<float>(~0x12345678u), 1.0f);
    EXPECT_EQ(uniform_open<double>(0x12345678u) + uniform_open<double>(~0x12345678u), 1.0);
}

template <class Real> void check_uniform_ks() {
    std::vector<double> xs;
    const std::uint64_t n = 250000;  // x 4 words = 1e6 draws
    for (std::uint64_t id = 0; id < n; ++id) {
        const philox_block b = draw(test_key, id, 3, rng_purpose::neuron);
        for (std::uint32_t w : {b.x, b.y, b.z, b.w}) xs.push_back(uniform_open<Real>(w));
    }
    const double p = ks_pvalue(xs, [](double x) { return x; });
    std::cout << "[ stat ] uniform<" << (sizeof(Real) == 4 ? "float" : "double") << "> KS p = " << p
              << "\n";
    EXPECT_GT(p, alpha);
    const moments m = sample_moments(xs);
    EXPECT_LT(std::abs(m.mean - 0.5) / std::sqrt(1.0 / 12.0 / double(xs.size())), z_crit);
}
TEST(Uniform, KsFloat) { check_uniform_ks<float>(); }
TEST(Uniform, KsDouble) { check_uniform_ks<double>(); }

template <class Real> void check_normal() {
    const std::uint64_t n = 1000000;
    std::vector<double> n0s, n1s;
    n0s.reserve(n);
    n1s.reserve(n);
    for (std::uint64_t id = 0; id < n; ++id) {
        const philox_block b = draw(test_key, id, 11, rng_purpose::neuron);
        Real a, c;
        box_muller<Real>(b.x, b.y, a, c);
        n0s.push_back(a);
        n1s.push_back(c);
    }
    const char* name = sizeof(Real) == 4 ? "float" : "double";
    const double dn = static_cast<double>(n);
    for (const auto* xs : {&n0s, &n1s}) {
        const double p = ks_pvalue(*xs, normal_cdf);
        const moments m = sample_moments(*xs);
        const double z_mean = m.mean / std::sqrt(1.0 / dn);
        const double z_var = (m.var - 1.0) / std::sqrt(2.0 / dn);
        const double z_skew = m.skew / std::sqrt(6.0 / dn);
        const double z_kurt = m.exkurt / std::sqrt(24.0 / dn);
        std::cout << "[ stat ] box_muller<" << name << "> output " << (xs == &n0s ? 0 : 1)
                  << ": KS p = " << p << ", z(mean, var, skew, kurt) = " << z_mean << ", " << z_var
                  << ", " << z_skew << ", " << z_kurt << "\n";
        EXPECT_GT(p, alpha);
        EXPECT_LT(std::abs(z_mean), z_crit);
        EXPECT_LT(std::abs(z_var), z_crit);
        EXPECT_LT(std::abs(z_skew), z_crit);
        EXPECT_LT(std::abs(z_kurt), z_crit);
    }
    // the two outputs of one pair are uncorrelated
    double c = 0;
    for (std::uint64_t i = 0; i < n; ++i) c += n0s[i] * n1s[i];
    EXPECT_LT(std::abs(c / dn) * std::sqrt(dn), z_crit);
}
TEST(BoxMuller, Float) { check_normal<float>(); }
TEST(BoxMuller, Double) { check_normal<double>(); }

// Normals of the same neuron on consecutive steps, and of neighbouring neurons on the same step,
// are uncorrelated: sqrt(n) r is standard normal under independence.
TEST(Independence, StepsAndIds) {
    const std::uint64_t n = 500000;
    double c_step = 0, c_id = 0, c_purpose = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t id = i % 1000, step = i / 1000;
        float a0, a1, b0, b1, c0, c1;
        const philox_block A = draw(test_key, id, step, rng_purpose::neuron);
        const philox_block B = draw(test_key, id, step + 1, rng_purpose::neuron);
        const philox_block C = draw(test_key, id + 1000, step, rng_purpose::neuron);
        box_muller<float>(A.x, A.y, a0, a1);
        box_muller<float>(B.x, B.y, b0, b1);
        box_muller<float>(C.x, C.y, c0, c1);
        c_step += double(a0) * b0;
        c_id += double(a0) * c0;
        const philox_block P = draw(test_key, id, step, rng_purpose::poisson);
        float p0, p1;
        box_muller<float>(P.x, P.y, p0, p1);
        c_purpose += double(a0) * p0;
    }
    const double s = std::sqrt(double(n));
    std::cout << "[ stat ] correlation z: consecutive steps " << c_step / s << ", ids "
              << c_id / s << ", purposes " << c_purpose / s << "\n";
    EXPECT_LT(std::abs(c_step / s), z_crit);
    EXPECT_LT(std::abs(c_id / s), z_crit);
    EXPECT_LT(std::abs(c_purpose / s), z_crit);
}

namespace {

void check_poisson(double mean, std::uint64_t n) {
    std::map<long long, std::uint64_t> counts;
    // a stream per mean, so the five tests are independent of one another
    const philox_key key = make_key(777u, static_cast<std::uint32_t>(mean * 10));
    for (std::uint64_t i = 0; i < n; ++i) ++counts[poisson_count<double>(mean, key, i % 5000, i / 5000)];
    const test::poisson_fit f = test::fit_poisson(counts, mean);
    std::cout << "[ stat ] poisson mean " << mean << ": sample mean " << f.mean << " (z " << f.z_mean
              << "), var " << f.var << " (z " << f.z_var << "), chi2 " << f.chi2 << " on " << f.dof
              << " dof, p = " << f.p << "\n";
    EXPECT_LT(std::abs(f.z_mean), z_crit);
    EXPECT_LT(std::abs(f.z_var), z_crit);
    EXPECT_GT(f.p, alpha);
}

}  // namespace

// The tabulated search gives the same count as the accumulating one, for every mean below the
// inversion limit (CPU populations with one Poisson mean use the table on full steps).
TEST(Poisson, TableSearchEqualsAccumulatedSearch) {
    for (const double mean : {1e-6, 0.01, 0.5, 1.0, 2.0, 4.0, 7.3, 9.999}) {
        const poisson_cdf table = make_poisson_cdf(mean);
        std::uint64_t total = 0;
        for (std::uint64_t id = 0; id < 200000; ++id) {
            const std::uint32_t a = poisson_count(mean, test_key, id, 17);
            const std::uint32_t b = poisson_count(table, test_key, id, 17);
            ASSERT_EQ(a, b) << "mean " << mean << ", id " << id;
            total += a;
        }
        EXPECT_NEAR(double(total) / 200000.0, mean, 5 * std::sqrt(mean / 200000.0) + 1e-9) << mean;
    }
}

TEST(Poisson, Mean0p1) { check_poisson(0.1, 400000); }
TEST(Poisson, Mean2) { check_poisson(2.0, 400000); }
TEST(Poisson, Mean30) { check_poisson(30.0, 400000); }
TEST(Poisson, Mean1000) { check_poisson(1000.0, 400000); }
TEST(Poisson, Mean1e5) { check_poisson(1e5, 400000); }

TEST(Poisson, EdgeCasesAndPrecisionIndependence) {
    const philox_key key = make_key(1u, 2u);
    EXPECT_EQ(poisson_count<double>(0.0, key, 5, 6), 0u);
    EXPECT_EQ(poisson_count<double>(-1.0, key, 5, 6), 0u);
    EXPECT_EQ(poisson_count<double>(std::nan(""), key, 5, 6), 0u);
    for (double mean : {0.5, 9.99, 10.0, 250.0, 1e6}) {
        for (std::uint64_t id = 0; id < 200; ++id) {
            EXPECT_EQ(poisson_count<float>(static_cast<float>(mean), key, id, 9),
                      poisson_count<double>(static_cast<double>(static_cast<float>(mean)), key, id, 9));
        }
    }
    // at 1e6 the counts stay near the mean
    for (std::uint64_t id = 0; id < 1000; ++id) {
        const double k = poisson_count<double>(1e6, key, id, 0);
        EXPECT_LT(std::abs(k - 1e6), 6 * 1000.0);
    }
}
