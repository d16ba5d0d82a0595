// Spike-train statistics of ifsim::analysis on synthetic trains: Poisson (CV, Fano -> 1, serial
// correlation -> 0), regular (CV = 0), alternating short/long ISIs (serial correlation -1), and the
// bookkeeping (windows, pooling, binning).
//
// Statistical tests fix their seed (std::mt19937_64) and use 4 standard errors as tolerance, a
// two-sided alpha of 6e-5 per check. Standard errors for n exponential ISIs: CV 1/sqrt(n) (delta
// method with the exponential's moments mu3 = 2, mu4 = 9 mean^4), lag-1 correlation 1/sqrt(n);
// Fano factor of Poisson counts with mean m over J windows: sqrt((2 + 1/m)/J).
#include "ifsim/analysis.hpp"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "ifsim/errors.hpp"

namespace ifsim::analysis {

namespace {

std::vector<double> poisson_train(double rate_Hz, double t_stop_ms, std::mt19937_64& rng) {
    std::exponential_distribution<double> isi(rate_Hz / 1000.0);
    std::vector<double> t;
    for (double s = isi(rng); s < t_stop_ms; s += isi(rng)) t.push_back(s);
    return t;
}

TEST(isi_statistics, poisson_train_has_cv_one_and_no_serial_correlation) {
    std::mt19937_64 rng(20240611);
    const double T = 2.0e6;  // 2000 s at 20 Hz: ~40000 ISIs
    const auto t = poisson_train(20.0, T, rng);
    const auto s = isi_statistics(t, 0.0, T);
    ASSERT_GT(s.n_isi, 30000u);
    const double se = 1.0 / std::sqrt(static_cast<double>(s.n_isi));
    EXPECT_EQ(s.n_spikes, t.size());
    EXPECT_EQ(s.n_isi, t.size() - 1);
    // rate: Poisson count sd sqrt(N) -> relative 1/sqrt(N)
    EXPECT_NEAR(s.rate_Hz, 20.0, 4.0 * 20.0 * se);
    EXPECT_NEAR(s.mean_isi_ms, 50.0, 4.0 * 50.0 * se);
    EXPECT_NEAR(s.cv, 1.0, 4.0 * se);
    EXPECT_NEAR(s.serial_corr_1, 0.0, 4.0 * s.serial_corr_1_stderr);
    EXPECT_NEAR(s.serial_corr_1_stderr, se, 1e-4);
}

TEST(fano_factor, poisson_trains_give_one) {
    std::mt19937_64 rng(7);
    const double T = 2.0e6;
    std::vector<std::vector<double>> trains;
    for (int i = 0; i < 10; ++i) trains.push_back(poisson_train(20.0, T, rng));
    // 500 ms windows: mean count 10, J = 10 x 4000 windows
    const double se = std::sqrt((2.0 + 1.0 / 10.0) / 40000.0);
    EXPECT_NEAR(fano_factor(trains, 0.5, 0, std::uint64_t(T / 0.5), 1000, true), 1.0, 4.0 * se);
    // 50 ms windows: mean count 1, J = 10 x 40000
    EXPECT_NEAR(fano_factor(trains, 0.5, 0, std::uint64_t(T / 0.5), 100, true), 1.0, 4.0 * std::sqrt(3.0 / 400000.0));
}

// Counts 0, 2, 0, 2 in four 10 ms windows (dt = 1 ms): mean 1, variance 4 / 3 with the n - 1 normalisation
// (1 with n: a bias the Poisson test's tolerance hides).
TEST(fano_factor, small_sample_variance_is_unbiased) {
    EXPECT_DOUBLE_EQ(fano_factor({{12.0, 15.0, 32.0, 35.0}}, 1.0, 0, 40, 10, true), 4.0 / 3.0);
}

// On the grid, windows (e_j, e_j+1] with e_j = (first + j w) dt: a spike on an edge is in the
// window it ends. A spike every step of dt = 0.1 ms, times (k + 1) dt as a run writes them, from
// 10 ms (step 100) in windows of 3 steps: 3 in each, Fano 0 (edges half a step early, as stats
// had them, counted the spike at 10 ms and dropped the one at 40 ms).
TEST(fano_factor, spikes_on_the_edges_count_in_the_window_they_end) {
    const double dt = 0.1;
    std::vector<double> every_step;
    for (std::uint64_t k = 0; k < 400; ++k) every_step.push_back((double(k) + 1.0) * dt);
    EXPECT_EQ(fano_factor({every_step}, dt, 100, 400, 3, false), 0.0);
    // One spike at the span's start, one at its end, in 2 windows of 10 steps from step 100: the
    // start's is not counted unless with_start (counts 0, 1: Fano 1; with it 1, 1: Fano 0).
    const std::vector<double> edges = {100 * dt, 120 * dt};
    EXPECT_DOUBLE_EQ(fano_factor({edges}, dt, 100, 120, 10, false), 1.0);
    EXPECT_EQ(fano_factor({edges}, dt, 100, 120, 10, true), 0.0);
    // No spike in the span: no value (the spike at the start was counted there before).
    EXPECT_TRUE(std::isnan(fano_factor({{100 * dt}}, dt, 100, 120, 1, false)));
    // Fewer than two windows: no value.
    EXPECT_TRUE(std::isnan(fano_factor({every_step}, dt, 100, 119, 10, false)));
}

TEST(pooled_isi_statistics, poisson_population) {
    std::mt19937_64 rng(11);
    const double T = 2.0e5;
    std::vector<std::vector<double>> trains;
    for (int i = 0; i < 20; ++i) trains.push_back(poisson_train(20.0, T, rng));
    const auto s = pooled_isi_statistics(trains, 0.0, T);
    const double se = 1.0 / std::sqrt(static_cast<double>(s.n_isi));
    EXPECT_NEAR(s.rate_Hz, 20.0, 4.0 * 20.0 * se);
    EXPECT_NEAR(s.cv, 1.0, 4.0 * se);
    // 20 trains of ~4000 ISIs: the within-train centring biases by ~ -1/4000 = -0.05 se
    EXPECT_NEAR(s.serial_corr_1, 0.0, 4.0 * s.serial_corr_1_stderr);
    EXPECT_EQ(s.n_isi, s.n_spikes - trains.size());
    EXPECT_NEAR(s.serial_corr_1_stderr, 1.0 / std::sqrt(static_cast<double>(s.n_isi - 20)), 1e-15);
}

TEST(pooled_isi_statistics, rate_heterogeneity_does_not_fake_serial_correlation) {
    // Centred on one global mean, pairs from a 5 Hz and a 50 Hz train would correlate strongly
    // (both ISIs of a pair long, or both short); centred per train they do not.
    std::mt19937_64 rng(3);
    const double T = 4.0e5;
    const std::vector<std::vector<double>> trains = {poisson_train(5.0, T, rng),
                                                     poisson_train(50.0, T, rng)};
    const auto s = pooled_isi_statistics(trains, 0.0, T);
    EXPECT_NEAR(s.serial_corr_1, 0.0, 4.0 * s.serial_corr_1_stderr);
    EXPECT_GT(s.cv, 1.2);  // pooled ISIs of two rates: a mixture of exponentials is over-dispersed
}

TEST(pooled_isi_statistics, short_trains_need_population_centring) {
    // 5000 homogeneous Poisson trains of ~10 ISIs: centring each on its own means biases the
    // renewal estimate by about -1/n_pairs ~ -0.1, dozens of standard errors. The population's
    // means remove most of it; what is left (~ -0.02) is the window itself: ISIs that must fit
    // in 1 s are anticorrelated. Renewal tests therefore use long trains.
    std::mt19937_64 rng(11);
    std::vector<std::vector<double>> trains;
    for (int i = 0; i < 5000; ++i) trains.push_back(poisson_train(10.0, 1000.0, rng));
    const auto own = pooled_isi_statistics(trains, 0.0, 1000.0, serial_centring::per_train);
    const auto pop = pooled_isi_statistics(trains, 0.0, 1000.0, serial_centring::population);
    EXPECT_LT(own.serial_corr_1, -10.0 * own.serial_corr_1_stderr);
    EXPECT_LT(std::abs(pop.serial_corr_1), std::abs(own.serial_corr_1) / 3.0);
}

TEST(isi_statistics, regular_train_has_zero_cv) {
    std::vector<double> t;
    for (int k = 0; k < 1000; ++k) t.push_back(12.5 * k);  // exact binary fractions
    const auto s = isi_statistics(t, 0.0, 12500.0);
    EXPECT_EQ(s.n_spikes, 1000u);
    EXPECT_EQ(s.n_isi, 999u);
    EXPECT_DOUBLE_EQ(s.rate_Hz, 80.0);
    EXPECT_DOUBLE_EQ(s.mean_isi_ms, 12.5);
    EXPECT_EQ(s.cv, 0.0);
    EXPECT_TRUE(std::isnan(s.serial_corr_1));  // constant ISIs: correlation undefined
    std::vector<std::vector<double>> trains = {t, t};
    // Windows of 8 steps of 12.5 ms from 100 to 12400 ms: 8 spikes in every one.
    EXPECT_EQ(fano_factor(trains, 12.5, 8, 992, 8, false), 0.0);
}

// A regular train whose times carry rounding (k * 12.3: not binary fractions; a deterministic
// neuron's spike times are like it) has no serial correlation either: its rounding errors gave
// 0.5 to 1 with a small stderr (found by an audit). So for a float run's train, whose ISIs vary
// by up to 4e-5 of their mean (found by a review: examples/fi_curve.toml gave -0.17 +- 0.003),
// here a jitter of 2e-5 of the mean. An alternation of 1e-3 of the mean is kept.
TEST(isi_statistics, rounding_in_a_regular_train_is_no_serial_correlation) {
    std::vector<double> t;
    for (int k = 0; k < 1000; ++k) t.push_back(12.3 * k + 1000.0 / 3.0);
    EXPECT_TRUE(std::isnan(isi_statistics(t, 0.0, 1e9).serial_corr_1));
    std::vector<double> float_like = t;
    for (std::size_t k = 0; k < t.size(); ++k) float_like[k] += 2.5e-4 * std::sin(double(k) * 2.1);  // 2e-5 of 12.3
    EXPECT_TRUE(std::isnan(isi_statistics(float_like, 0.0, 1e9).serial_corr_1));
    for (std::size_t k = 0; k < t.size(); ++k) t[k] += (k % 2 == 0 ? 0.0123 : 0.0);  // alternating, 1e-3 of 12.3
    EXPECT_NEAR(isi_statistics(t, 0.0, 1e9).serial_corr_1, -1.0, 1e-6);
}

TEST(isi_statistics, alternating_intervals_give_serial_correlation_minus_one) {
    std::vector<double> t{0.0};
    for (int k = 0; k < 501; ++k) t.push_back(t.back() + (k % 2 == 0 ? 5.0 : 15.0));
    const auto s = isi_statistics(t, 0.0, 1e9);
    EXPECT_EQ(s.n_isi, 501u);
    EXPECT_NEAR(s.serial_corr_1, -1.0, 1e-12);
    EXPECT_NEAR(s.serial_corr_1_stderr, 1.0 / std::sqrt(500.0), 1e-15);
    // mean of 251 fives and 250 fifteens
    EXPECT_NEAR(s.mean_isi_ms, (251.0 * 5.0 + 250.0 * 15.0) / 501.0, 1e-12);
}

TEST(isi_statistics, window_is_half_open) {
    const std::vector<double> t{1.0, 2.0, 4.0, 7.0, 11.0};
    const auto s = isi_statistics(t, 2.0, 11.0);  // 2, 4, 7 count; 1 and 11 do not
    EXPECT_EQ(s.n_spikes, 3u);
    EXPECT_EQ(s.n_isi, 2u);
    EXPECT_DOUBLE_EQ(s.mean_isi_ms, 2.5);
    EXPECT_DOUBLE_EQ(s.rate_Hz, 3.0 / 9.0 * 1000.0);
    EXPECT_DOUBLE_EQ(s.cv, std::sqrt(0.5) / 2.5);  // ISIs 2, 3: sample sd sqrt(0.5)
    EXPECT_TRUE(std::isnan(s.serial_corr_1));      // one pair only
}

TEST(isi_statistics, too_little_data_gives_nan_not_garbage) {
    const std::vector<double> none;
    const auto s = isi_statistics(none, 0.0, 100.0);
    EXPECT_EQ(s.n_spikes, 0u);
    EXPECT_EQ(s.rate_Hz, 0.0);
    EXPECT_TRUE(std::isnan(s.mean_isi_ms));
    EXPECT_TRUE(std::isnan(s.cv));
    EXPECT_TRUE(std::isnan(s.serial_corr_1));
    EXPECT_THROW(isi_statistics(none, 100.0, 100.0), config_error);
    EXPECT_THROW(pooled_isi_statistics({}, 0.0, 100.0), config_error);
}

TEST(population_rate, bins_counts_per_neuron) {
    const std::vector<std::vector<double>> trains = {{0.0, 0.5, 1.0, 2.9}, {1.5, 3.0, 3.9999}};
    // bins [0,1), [1,2), [2,3), [3,4) of 1 ms; a partial bin [4, 4.5) is dropped
    const auto r = population_rate(trains, 1.0, 0.0, 4.5);
    ASSERT_EQ(r.size(), 4u);
    const double per_spike = 1000.0 / (2.0 * 1.0);  // Hz per neuron for one spike in a 1 ms bin
    EXPECT_DOUBLE_EQ(r[0], 2.0 * per_spike);
    EXPECT_DOUBLE_EQ(r[1], 2.0 * per_spike);
    EXPECT_DOUBLE_EQ(r[2], 1.0 * per_spike);
    EXPECT_DOUBLE_EQ(r[3], 2.0 * per_spike);
    // a duration that is a multiple of the bin only up to round-off still gives all bins
    EXPECT_EQ(population_rate(trains, 0.1, 0.0, 1000.0).size(), 10000u);
    EXPECT_EQ(population_rate(trains, 0.1, 0.0, 0.3).size(), 3u);  // 0.3 / 0.1 = 2.9999999999999996
    EXPECT_THROW(population_rate(trains, 0.0, 0.0, 4.0), config_error);
}

TEST(population_rate, poisson_population_averages_to_its_rate) {
    std::mt19937_64 rng(5);
    std::vector<std::vector<double>> trains;
    for (int i = 0; i < 100; ++i) trains.push_back(poisson_train(10.0, 10000.0, rng));
    const auto r = population_rate(trains, 10.0, 0.0, 10000.0);
    double mean = 0.0;
    for (double x : r) mean += x;
    mean /= static_cast<double>(r.size());
    // 10000 spikes expected: relative sd 1e-2
    EXPECT_NEAR(mean, 10.0, 4.0 * 0.1);
}

}  // namespace

}  // namespace ifsim::analysis
