// Connection rules (connectivity.hpp): exact structure (degrees, no duplicates, no autapses,
// sorted rows), the distributions of the random rules, determinism across thread counts, errors.
//
// Statistical tests use fixed seeds and alpha = 1e-3 per check (two-sided |z| < 3.29 for means
// and variances; chi-squared upper tail p > 1e-3 against a distribution, both tails for counts
// that should be uniform, since counts too even, as a deterministic round robin's, are as wrong
// as counts too uneven). About 15 such checks run, so a correct generator would fail one with
// probability ~1.5%; the seeds are fixed, so an outcome never changes between runs. Sizes (1e3-1e5 rows, 1e5-1e6 synapses) make each check sensitive to a bias of a
// few percent in a connection probability, and keep the whole file well under a second.
#include "ifsim/connectivity.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "ifsim/errors.hpp"
#include "support/statistics.hpp"

using namespace ifsim;

namespace {

constexpr double alpha = 1e-3;
constexpr double z_crit = 3.29;  // two-sided normal quantile for alpha = 1e-3
constexpr std::uint64_t seed = 20240611;

using test::chi2_pvalue;
using test::normal_cdf;

double binomial_pmf(std::uint64_t n, double p, std::uint64_t k) {
    const double dn = static_cast<double>(n), dk = static_cast<double>(k);
    return std::exp(std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1) +
                    dk * std::log(p) + (dn - dk) * std::log1p(-p));
}

// p-value of the chi-squared test of `values` (each in 0..n) against Binomial(n, p); neighbouring
// degrees are pooled until every bin expects >= 5, so the chi-squared approximation holds.
double binomial_gof_pvalue(const std::vector<std::uint64_t>& values, std::uint64_t n, double p) {
    std::vector<double> observed(n + 1, 0.0);
    for (const auto v : values) observed[v] += 1.0;
    const double total = static_cast<double>(values.size());
    std::vector<double> bin_obs, bin_exp;
    double o = 0, e = 0;
    for (std::uint64_t k = 0; k <= n; ++k) {
        o += observed[k];
        e += total * binomial_pmf(n, p, k);
        if (e >= 5.0) {
            bin_obs.push_back(o);
            bin_exp.push_back(e);
            o = e = 0;
        }
    }
    // the upper tail left over joins the last bin
    bin_obs.back() += o;
    bin_exp.back() += e;
    double chi2 = 0;
    for (std::size_t b = 0; b < bin_obs.size(); ++b)
        chi2 += (bin_obs[b] - bin_exp[b]) * (bin_obs[b] - bin_exp[b]) / bin_exp[b];
    return chi2_pvalue(chi2, static_cast<double>(bin_obs.size() - 1));
}

// Pearson statistic of counts against equal cells, over `scale` (the variance factor of the
// sampling scheme relative to a multinomial), as a p-value of chi-squared(cells - 1).
double uniform_counts_pvalue(const std::vector<std::uint64_t>& counts, double scale) {
    double total = 0;
    for (const auto c : counts) total += static_cast<double>(c);
    const double expected = total / static_cast<double>(counts.size());
    double chi2 = 0;
    for (const auto c : counts) chi2 += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
    return chi2_pvalue(chi2 / scale, static_cast<double>(counts.size() - 1));
}

// Counts as uneven as uniform sampling makes them, neither more nor less: both tails, alpha in all.
void expect_uniform_counts(const std::vector<std::uint64_t>& counts, double scale) {
    const double p = uniform_counts_pvalue(counts, scale);
    EXPECT_GT(p, alpha / 2);
    EXPECT_LT(p, 1 - alpha / 2);
}

// Pairs (a, b), a < b, of a row's synapses onto the same target: sum over targets of C(count, 2).
std::uint64_t repeated_pairs(const csr& c) {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < c.num_sources; ++i) {
        std::uint64_t run = 0;  // rows are sorted: equal targets are adjacent
        for (std::uint64_t s = c.row_offsets[i]; s < c.row_offsets[i + 1]; ++s) {
            run = s > c.row_offsets[i] && c.targets[s] == c.targets[s - 1] ? run + 1 : 0;
            n += run;
        }
    }
    return n;
}

double mean_of(const std::vector<std::uint64_t>& v) {
    double s = 0;
    for (const auto x : v) s += static_cast<double>(x);
    return s / static_cast<double>(v.size());
}
double var_of(const std::vector<std::uint64_t>& v) {
    const double m = mean_of(v);
    double s = 0;
    for (const auto x : v) s += (static_cast<double>(x) - m) * (static_cast<double>(x) - m);
    return s / static_cast<double>(v.size() - 1);
}

// Row offsets consistent, targets in range and sorted (non-decreasing; strictly without multapses).
void expect_well_formed(const csr& c, bool strictly) {
    ASSERT_EQ(c.row_offsets.size(), c.num_sources + 1);
    EXPECT_EQ(c.row_offsets.front(), 0u);
    EXPECT_EQ(c.row_offsets.back(), c.targets.size());
    for (std::uint64_t i = 0; i < c.num_sources; ++i) {
        ASSERT_LE(c.row_offsets[i], c.row_offsets[i + 1]);
        for (std::uint64_t s = c.row_offsets[i]; s < c.row_offsets[i + 1]; ++s) {
            ASSERT_LT(c.targets[s], c.num_targets);
            if (s > c.row_offsets[i]) {
                if (strictly) ASSERT_LT(c.targets[s - 1], c.targets[s]) << "row " << i;
                else ASSERT_LE(c.targets[s - 1], c.targets[s]) << "row " << i;
            }
        }
    }
}

std::uint64_t num_autapses(const csr& c) {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < c.num_sources; ++i)
        for (std::uint64_t s = c.row_offsets[i]; s < c.row_offsets[i + 1]; ++s) n += c.targets[s] == i;
    return n;
}

connection_rule rule(rule_kind k, double p, std::uint64_t degree, bool autapses, bool multapses) {
    connection_rule r;
    r.kind = k;
    r.p = p;
    r.degree = degree;
    r.autapses = autapses;
    r.multapses = multapses;
    return r;
}

}  // namespace

// A row's words from its first block, given (the host draws first blocks in Philox lanes), go on
// as the row's own: the block's four words, then block 1's.
// The connectivity uniform is open at both ends: the all-ones words gave exactly 1 (found by a
// review), the zero words 2^-54; in between it is (53 bits + 1/2) 2^-53.
TEST(Connectivity, Uniform53IsOpenAtBothEnds) {
    EXPECT_EQ(uniform53_of(0, 0), 0x1p-54);
    EXPECT_LT(uniform53_of(0xffffffffu, 0xffffffffu), 1.0);
    EXPECT_GT(uniform53_of(0xffffffffu, 0xffffffffu), 1.0 - 0x1p-52);
    EXPECT_EQ(uniform53_of(0x12345u, 0x800u), 0x1.234500000c000p-16);  // ((0x12345 << 21 | 1) + 1/2) 2^-53, by Python
}

TEST(Connectivity, RowWordsFromAGivenFirstBlockContinueTheRow) {
    const philox_key key = make_key(seed, connectivity_stream(3));
    for (const std::uint64_t row : {0ull, 17ull, 0x100000003ull}) {
        row_words fresh{key, row};
        row_words given{key, row, 1, philox4x32_10(make_counter(row, 0), key), 0};
        for (int k = 0; k < 12; ++k) ASSERT_EQ(given.next(), fresh.next()) << "row " << row << ", word " << k;
    }
}

TEST(Connectivity, FixedIndegreeExactDistinctNoAutapses) {
    const std::uint64_t n = 1000, k = 100;
    const csr c = connect(rule(rule_kind::fixed_indegree, 0, k, false, false), n, n, true, seed, 0);
    // strictly sorted rows = no target twice in a row = no source twice for any target
    expect_well_formed(c, true);
    for (const auto d : in_degrees(c)) ASSERT_EQ(d, k);
    EXPECT_EQ(num_synapses(c), n * k);
    EXPECT_EQ(num_autapses(c), 0u);
}

TEST(Connectivity, FixedIndegreeAllSourcesWhenKEqualsAvailable) {
    // K = N - 1 without autapses or multapses leaves exactly one choice: everyone but oneself
    const std::uint64_t n = 50;
    const csr c = connect(rule(rule_kind::fixed_indegree, 0, n - 1, false, false), n, n, true, seed, 0);
    const csr all = connect(rule(rule_kind::all_to_all, 0, 0, false, false), n, n, true, seed, 0);
    EXPECT_EQ(c.row_offsets, all.row_offsets);
    EXPECT_EQ(c.targets, all.targets);
}

TEST(Connectivity, FixedIndegreeWithMultapsesExceedsSources) {
    const std::uint64_t s = 20, m = 300, k = 50;  // K > S is fine with multapses
    const csr c = connect(rule(rule_kind::fixed_indegree, 0, k, true, true), s, m, false, seed, 1);
    expect_well_formed(c, false);
    for (const auto d : in_degrees(c)) ASSERT_EQ(d, k);
    // every target drew 50 of 20 sources, so repeated pairs must occur
    bool repeated = false;
    for (std::uint64_t i = 1; i < c.targets.size(); ++i) repeated |= c.targets[i] == c.targets[i - 1];
    EXPECT_TRUE(repeated);
}

TEST(Connectivity, FixedIndegreeSourcesUniform) {
    // Each target takes a uniform K-subset of S sources, so source i's out-degree sums M
    // indicators of probability q = K/S. The K picks of one target are negatively correlated
    // (their sum is fixed), which scales the Pearson statistic by (1 - q) S / (S - 1) relative to
    // a multinomial; divided by that it is chi-squared(S - 1). With multapses the scale is 1.
    const std::uint64_t s = 500, m = 2000, k = 50;
    {
        const csr c = connect(rule(rule_kind::fixed_indegree, 0, k, true, false), s, m, false, seed, 2);
        const double q = double(k) / double(s);
        expect_uniform_counts(out_degrees(c), (1 - q) * double(s) / double(s - 1));
    }
    {
        const csr c = connect(rule(rule_kind::fixed_indegree, 0, k, true, true), s, m, false, seed, 3);
        expect_uniform_counts(out_degrees(c), 1.0);
    }
}

TEST(Connectivity, FixedOutdegreeExactDistinctNoAutapses) {
    const std::uint64_t n = 1000, k = 80;
    const csr c = connect(rule(rule_kind::fixed_outdegree, 0, k, false, false), n, n, true, seed, 0);
    expect_well_formed(c, true);
    for (const auto d : out_degrees(c)) ASSERT_EQ(d, k);
    EXPECT_EQ(num_autapses(c), 0u);
    // the synapses are all counted once from the target side too
    EXPECT_DOUBLE_EQ(mean_of(in_degrees(c)), double(k));
}

TEST(Connectivity, FixedOutdegreeTargetsUniform) {
    const std::uint64_t s = 2000, m = 500, k = 50;
    const csr c = connect(rule(rule_kind::fixed_outdegree, 0, k, true, false), s, m, false, seed, 4);
    for (const auto d : out_degrees(c)) ASSERT_EQ(d, k);
    const double q = double(k) / double(m);
    expect_uniform_counts(in_degrees(c), (1 - q) * double(m) / double(m - 1));
}

// Multapses without autapses within one population (the default, Brunel's): each of a row's K
// picks is uniform over the N - 1 others, drawn with replacement, for fixed_indegree (sources of
// a target) and fixed_outdegree (targets of a source). No autapse; the count of repeated pairs,
// a sum of nearly independent rare events, is Poisson with mean M C(K, 2) / (N - 1) (a sampler
// without replacement gives 0); the others are picked uniformly.
TEST(Connectivity, MultapsesWithoutAutapsesDrawWithReplacementFromTheOthers) {
    const std::uint64_t n = 500, k = 50;
    for (const rule_kind kind : {rule_kind::fixed_indegree, rule_kind::fixed_outdegree}) {
        SCOPED_TRACE(testing::Message() << "rule " << static_cast<int>(kind));
        const csr c = connect(rule(kind, 0, k, false, true), n, n, true, seed, 9);
        expect_well_formed(c, false);
        EXPECT_EQ(num_autapses(c), 0u);
        EXPECT_EQ(num_synapses(c), n * k);
        const double expected = double(n) * double(k * (k - 1) / 2) / double(n - 1);
        EXPECT_LT(std::abs(double(repeated_pairs(c)) - expected) / std::sqrt(expected), z_crit);
        // The picks' other end: per-row multinomials over N - 1 cells, scale 1 to O(1/N).
        expect_uniform_counts(kind == rule_kind::fixed_indegree ? out_degrees(c) : in_degrees(c), 1.0);
    }
}

TEST(Connectivity, PairwiseBernoulliDegreesAreBinomial) {
    // Out-degrees (rows) are independent Binomial(M, p), and so are in-degrees (Binomial(S, p)).
    struct cfg {
        std::uint64_t s, m;
        double p;
    };
    // the sparse case takes skips of ~1000 candidates: geometric skipping, not M uniforms per row
    for (const cfg& g : {cfg{2000, 1000, 0.1}, cfg{1000, 100000, 0.001}, cfg{400, 400, 0.7}}) {
        SCOPED_TRACE(testing::Message() << "S=" << g.s << " M=" << g.m << " p=" << g.p);
        const csr c = connect(rule(rule_kind::pairwise_bernoulli, g.p, 0, true, false), g.s, g.m, false, seed, 5);
        expect_well_formed(c, true);
        const auto out = out_degrees(c);
        EXPECT_GT(binomial_gof_pvalue(out, g.m, g.p), alpha);
        const double mean = double(g.m) * g.p, var = mean * (1 - g.p), n = double(g.s);
        // mean: sd sqrt(var / n); sample variance: sd ~ var sqrt(2 / (n - 1)) (near-normal degrees)
        EXPECT_LT(std::abs(mean_of(out) - mean) / std::sqrt(var / n), z_crit);
        EXPECT_LT(std::abs(var_of(out) - var) / (var * std::sqrt(2.0 / (n - 1))), z_crit);
        if (g.s * g.p >= 20) {
            EXPECT_GT(binomial_gof_pvalue(in_degrees(c), g.s, g.p), alpha);
        }
    }
}

TEST(Connectivity, PairwiseBernoulliWithoutAutapses) {
    const std::uint64_t n = 2000;
    const double p = 0.05;
    const csr c = connect(rule(rule_kind::pairwise_bernoulli, p, 0, false, true), n, n, true, seed, 6);
    expect_well_formed(c, true);
    EXPECT_EQ(num_autapses(c), 0u);
    EXPECT_GT(binomial_gof_pvalue(out_degrees(c), n - 1, p), alpha);
}

// The counts `ifsim check`, the memory estimate and the mean field's in-degrees take: each rule's
// exact count (pairwise_bernoulli's mean), autapses left out where they are off.
TEST(Connectivity, ExpectedSynapsesPerRule) {
    using enum rule_kind;
    EXPECT_EQ(expected_synapses(rule(pairwise_bernoulli, 0.1, 0, false, true), 100, 100, true), 990.0);
    EXPECT_EQ(expected_synapses(rule(pairwise_bernoulli, 0.1, 0, false, true), 100, 100, false), 1000.0);
    EXPECT_EQ(expected_synapses(rule(pairwise_bernoulli, 0.1, 0, true, true), 100, 100, true), 1000.0);
    EXPECT_EQ(expected_synapses(rule(all_to_all, 0, 0, false, true), 10, 10, true), 90.0);
    EXPECT_EQ(expected_synapses(rule(all_to_all, 0, 0, true, true), 10, 10, true), 100.0);
    EXPECT_EQ(expected_synapses(rule(all_to_all, 0, 0, false, true), 10, 20, false), 200.0);
    EXPECT_EQ(expected_synapses(rule(fixed_indegree, 0, 7, false, false), 50, 30, true), 210.0);
    EXPECT_EQ(expected_synapses(rule(fixed_outdegree, 0, 7, false, false), 50, 30, false), 350.0);
    EXPECT_EQ(expected_synapses(rule(fixed_total, 0, 123, false, false), 50, 30, false), 123.0);
    EXPECT_EQ(expected_synapses(rule(one_to_one, 0, 0, true, true), 40, 40, false), 40.0);
}

TEST(Connectivity, PairwiseBernoulliEdgeProbabilities) {
    EXPECT_EQ(num_synapses(connect(rule(rule_kind::pairwise_bernoulli, 0.0, 0, true, true), 100, 200, false, seed, 0)), 0u);
    const csr full = connect(rule(rule_kind::pairwise_bernoulli, 1.0, 0, false, true), 100, 100, true, seed, 0);
    EXPECT_EQ(num_synapses(full), 100u * 99u);
    EXPECT_EQ(num_autapses(full), 0u);
}

TEST(Connectivity, FixedTotalMultinomial) {
    // With multapses every synapse is an independent uniform pair: per-source counts are
    // Multinomial(N, 1/S) and per-target counts Multinomial(N, 1/M); Pearson's statistic is
    // chi-squared(cells - 1).
    const std::uint64_t s = 300, m = 700, n = 100000;
    const csr c = connect(rule(rule_kind::fixed_total, 0, n, true, true), s, m, false, seed, 7);
    expect_well_formed(c, false);
    EXPECT_EQ(num_synapses(c), n);
    expect_uniform_counts(out_degrees(c), 1.0);
    expect_uniform_counts(in_degrees(c), 1.0);
}

TEST(Connectivity, FixedTotalWithoutMultapsesOrAutapses) {
    const std::uint64_t n = 200, total = 20000;  // half of the 39800 allowed pairs
    const csr c = connect(rule(rule_kind::fixed_total, 0, total, false, false), n, n, true, seed, 8);
    expect_well_formed(c, true);  // strictly sorted rows: no pair twice
    EXPECT_EQ(num_synapses(c), total);
    EXPECT_EQ(num_autapses(c), 0u);
    // a uniform subset of the allowed pairs: per-source counts are hypergeometric, variance
    // smaller than multinomial by (P - total) / (P - 1), P = allowed pairs
    const double pairs = double(n) * double(n - 1);
    expect_uniform_counts(out_degrees(c), (pairs - double(total)) / (pairs - 1));
    // every allowed pair
    const csr all = connect(rule(rule_kind::fixed_total, 0, n * (n - 1), false, false), n, n, true, seed, 8);
    const csr ref = connect(rule(rule_kind::all_to_all, 0, 0, false, false), n, n, true, seed, 8);
    EXPECT_EQ(all.targets, ref.targets);
    // few synapses among 1e10 pairs: taken pairs in a hash set rather than a 1.25 GB bitmap
    const csr sparse = connect(rule(rule_kind::fixed_total, 0, 3000, false, false), 100000, 100000, true, seed, 8);
    expect_well_formed(sparse, true);
    EXPECT_EQ(num_synapses(sparse), 3000u);
    EXPECT_EQ(num_autapses(sparse), 0u);
}

TEST(Connectivity, PairwiseBernoulliRowsAreTheSamplersRows) {
    // The host draws a row's skips in batches; each row must be bernoulli_row's, which draws them
    // one by one from the row's words (as the device does), for dense, sparse and empty rows.
    const std::uint64_t n = 2000;
    const std::uint32_t projection = 5;
    const philox_key key = make_key(seed, connectivity_stream(projection));
    for (const double p : {0.0004, 0.02, 0.7}) {
        SCOPED_TRACE(testing::Message() << "p " << p);
        const csr c = connect(rule(rule_kind::pairwise_bernoulli, p, 0, false, true), n, n, true, seed, projection);
        for (std::uint64_t i = 0; i < n; ++i) {
            std::vector<std::uint32_t> want;
            row_words w{key, i};
            bernoulli_row(w, n, i, math::log1p(-p), [&](std::uint32_t j) { want.push_back(j); });
            const std::vector<std::uint32_t> got(c.targets.begin() + std::ptrdiff_t(c.row_offsets[i]),
                                                 c.targets.begin() + std::ptrdiff_t(c.row_offsets[i + 1]));
            ASSERT_EQ(got, want) << "row " << i;
        }
    }
}

TEST(Connectivity, AllToAllAndOneToOneStructure) {
    const csr a = connect(rule(rule_kind::all_to_all, 0, 0, true, true), 7, 5, false, seed, 0);
    expect_well_formed(a, true);
    for (std::uint64_t i = 0; i < 7; ++i)
        for (std::uint64_t j = 0; j < 5; ++j) EXPECT_EQ(a.targets[i * 5 + j], j);
    const csr b = connect(rule(rule_kind::all_to_all, 0, 0, false, true), 6, 6, true, seed, 0);
    EXPECT_EQ(num_synapses(b), 30u);
    EXPECT_EQ(num_autapses(b), 0u);
    // autapses = false only matters within one population
    EXPECT_EQ(num_synapses(connect(rule(rule_kind::all_to_all, 0, 0, false, true), 6, 6, false, seed, 0)), 36u);
    const csr o = connect(rule(rule_kind::one_to_one, 0, 0, true, true), 9, 9, true, seed, 0);
    ASSERT_EQ(num_synapses(o), 9u);
    for (std::uint64_t i = 0; i < 9; ++i) {
        EXPECT_EQ(o.row_offsets[i], i);
        EXPECT_EQ(o.targets[i], i);
    }
}

TEST(Connectivity, DeterministicAcrossThreadsAndSeedSensitive) {
    const std::uint64_t n = 3000;
    const connection_rule rules[] = {
        rule(rule_kind::pairwise_bernoulli, 0.02, 0, false, true),
        rule(rule_kind::fixed_indegree, 0, 30, false, false),
        rule(rule_kind::fixed_indegree, 0, 30, true, true),
        rule(rule_kind::fixed_outdegree, 0, 30, false, false),
        rule(rule_kind::fixed_outdegree, 0, 30, true, true),
        rule(rule_kind::fixed_total, 0, 60000, true, true),
        rule(rule_kind::fixed_total, 0, 60000, false, false),
    };
    const int saved = omp_get_max_threads();
    for (const auto& r : rules) {
        SCOPED_TRACE(testing::Message() << "rule " << static_cast<int>(r.kind));
        omp_set_num_threads(1);
        const csr one = connect(r, n, n, true, seed, 3);
        omp_set_num_threads(2);
        const csr two = connect(r, n, n, true, seed, 3);
        omp_set_num_threads(5);
        const csr five = connect(r, n, n, true, seed, 3);
        EXPECT_EQ(one.row_offsets, two.row_offsets);
        EXPECT_EQ(one.targets, two.targets);
        EXPECT_EQ(one.targets, five.targets);
        const csr other_seed = connect(r, n, n, true, seed + 1, 3);
        const csr other_projection = connect(r, n, n, true, seed, 4);
        EXPECT_NE(one.targets, other_seed.targets);
        EXPECT_NE(one.targets, other_projection.targets);
    }
    omp_set_num_threads(saved);
}

TEST(Connectivity, RejectsImpossibleRules) {
    // K > available sources without multapses (in a population of 10, 9 without autapses)
    EXPECT_THROW(connect(rule(rule_kind::fixed_indegree, 0, 11, true, false), 10, 10, true, seed, 0), config_error);
    EXPECT_THROW(connect(rule(rule_kind::fixed_indegree, 0, 10, false, false), 10, 10, true, seed, 0), config_error);
    EXPECT_NO_THROW(connect(rule(rule_kind::fixed_indegree, 0, 10, true, false), 10, 10, true, seed, 0));
    EXPECT_THROW(connect(rule(rule_kind::fixed_outdegree, 0, 6, true, false), 10, 5, false, seed, 0), config_error);
    EXPECT_THROW(connect(rule(rule_kind::fixed_indegree, 0, 1, false, true), 1, 1, true, seed, 0), config_error);
    // more than 2^40 synapses (K x rows would wrap 64 bits for K near 2^44 and 2^20 rows)
    EXPECT_THROW(connect(rule(rule_kind::fixed_indegree, 0, std::uint64_t{1} << 44, true, true), 10, 1 << 20, false,
                         seed, 0),
                 config_error);
    EXPECT_THROW(connect(rule(rule_kind::fixed_outdegree, 0, std::uint64_t{1} << 21, true, true), 1 << 20, 10, false,
                         seed, 0),
                 config_error);
    // p outside [0, 1]
    EXPECT_THROW(connect(rule(rule_kind::pairwise_bernoulli, -0.1, 0, true, true), 10, 10, false, seed, 0), config_error);
    EXPECT_THROW(connect(rule(rule_kind::pairwise_bernoulli, 1.5, 0, true, true), 10, 10, false, seed, 0), config_error);
    EXPECT_THROW(connect(rule(rule_kind::pairwise_bernoulli, std::nan(""), 0, true, true), 10, 10, false, seed, 0), config_error);
    // more synapses than distinct pairs
    EXPECT_THROW(connect(rule(rule_kind::fixed_total, 0, 91, false, false), 10, 10, true, seed, 0), config_error);
    EXPECT_NO_THROW(connect(rule(rule_kind::fixed_total, 0, 91, true, true), 10, 10, true, seed, 0));
    // one_to_one size mismatch, or within a population with autapses off
    EXPECT_THROW(connect(rule(rule_kind::one_to_one, 0, 0, true, true), 10, 11, false, seed, 0), config_error);
    EXPECT_THROW(connect(rule(rule_kind::one_to_one, 0, 0, false, true), 10, 10, true, seed, 0), config_error);
    // one population must have one size
    EXPECT_THROW(connect(rule(rule_kind::all_to_all, 0, 0, true, true), 10, 11, true, seed, 0), config_error);
}

TEST(Connectivity, RowWordsUniformIntegerIsExact) {
    // below(n) over 6 values: chi-squared against uniform, 1e5 draws from consecutive rows
    const philox_key key = make_key(seed, connectivity_stream(0));
    std::vector<std::uint64_t> counts(6, 0);
    for (std::uint64_t row = 0; row < 100000; ++row) {
        row_words w{key, row};
        ++counts[w.below(6)];
    }
    expect_uniform_counts(counts, 1.0);
    row_words w{key, 0};
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(w.below(1), 0u);
}

TEST(Connectivity, SeekTargetEqualsLowerBound) {
    // Every value 0..n against std::lower_bound, on rows that the even-spread guess gets right,
    // gets wrong in either direction (targets bunched at one end), with repeats (multapses), of
    // length 0, 1 and n.
    constexpr std::uint32_t n = 300;
    std::mt19937 gen(seed);
    std::vector<std::vector<std::uint32_t>> rows{{}, {0}, {n - 1}, {150}};
    std::vector<std::uint32_t> all(n);
    for (std::uint32_t j = 0; j < n; ++j) all[j] = j;
    rows.push_back(all);
    for (int r = 0; r < 200; ++r) {
        const std::uint32_t length = std::uniform_int_distribution<std::uint32_t>(1, 2 * n)(gen);
        // Targets from [lo, hi): the whole range, or a part of it at either end or the middle.
        const std::uint32_t lo = r % 4 == 1 ? n / 2 : r % 4 == 3 ? n / 3 : 0;
        const std::uint32_t hi = r % 4 == 2 ? n / 5 : r % 4 == 3 ? n / 3 + 7 : n;
        std::vector<std::uint32_t> row(length);
        for (auto& t : row) t = std::uniform_int_distribution<std::uint32_t>(lo, hi - 1)(gen);
        std::sort(row.begin(), row.end());
        rows.push_back(row);
    }
    for (const auto& row : rows) {
        const std::uint32_t* begin = row.data();
        const std::uint32_t* end = row.data() + row.size();
        for (std::uint32_t value = 0; value <= n; ++value)
            ASSERT_EQ(seek_target(begin, end, value, n) - begin, std::lower_bound(begin, end, value) - begin)
                << "value " << value << " in a row of " << row.size();
    }
}
