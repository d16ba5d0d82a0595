// SCIENCE.md results 6-7: the noisy LIF against the Siegert rate and ISI CV, renewal statistics,
// the bias the Brownian bridge removes, and coloured noise breaking renewal.
#include <cmath>
#include <map>
#include <tuple>

#include "ifsim/analysis.hpp"
#include "ifsim/theory_table.hpp"
#include "support/backend_param.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

class noise : public backend_test {
protected:
    // 1000 neurons for 20 s, mean input 2 mV below threshold, sigma_V = 4 mV: ~20 Hz, irregular.
    // Long trains (~400 ISIs each) keep the finite-window bias of the serial correlation far
    // below its standard error.
    run_spec noisy_lif(bool bridge, double dt = 0.1) const {
        run_spec s = one_population(model_kind::lif, 1000, 20200.0, dt, real());
        set_param(s, "V_th", -50.0);
        set_param(s, "V_reset", -60.0);
        set_param(s, "t_ref", 2.0);
        auto& in = s.populations[0].input;
        in.I_e = distribution::constant(180.0);  // mu = 18 mV, V_th - E_L = 20 mV
        in.sigma_V = distribution::constant(4.0);
        in.bridge = bridge;
        s.populations[0].init["V_m"] = {distribution::kind::uniform, -60.0, -50.0, {}};
        return s;
    }
    // The runs are shared between the tests of one backend and precision: each costs 2e8 neuron-steps.
    const analysis::isi_stats& noisy_lif_stats(bool bridge) const {
        static std::map<std::tuple<std::string, precision, bool>, analysis::isi_stats> cache;
        const auto key = std::make_tuple(backend_name(), real(), bridge);
        if (!cache.contains(key)) {
            auto r = simulate(backend_name(), noisy_lif(bridge));
            cache[key] = analysis::pooled_isi_statistics(r.trains, t0, t1, analysis::serial_centring::population);
        }
        return cache[key];
    }
    static constexpr double t0 = 200.0, t1 = 20200.0;  // skip the transient from the initial state
    double siegert() const {
        neuron_params p;
        return analysis::siegert_rate(p, 180.0, 4.0);
    }
};

// One run, checked against all of result 6. Under ctest every test is its own process, so the
// checks on the same 2e8 neuron-steps share a test.
//  - rate within 1 % of Siegert with the bridge at dt = 0.1 ms: ~4e5 spikes give a relative
//    standard error of CV/sqrt(n) ~ 0.15 %, so 1 % leaves room only for the method's own bias;
//  - ISI CV within 1 % of the closed form (Brunel 2000, appendix A): ~2e6 ISIs give it a standard
//    error near 0.1 %, and the bridge's own bias measured 0.25 %;
//  - renewal: lag-1 serial correlation zero within 4 standard errors (alpha ~ 6e-5).
TEST_P(noise, lif_matches_siegert_rate_and_cv_and_is_renewal) {
    const auto& stats = noisy_lif_stats(true);
    neuron_params p;
    const double rate = siegert();
    const double cv = analysis::siegert_cv(p, 180.0, 4.0);
    ASSERT_GT(stats.n_spikes, 100000u);
    EXPECT_NEAR(stats.rate_Hz, rate, 0.01 * rate);
    EXPECT_NEAR(stats.cv, cv, 0.01 * cv);
    EXPECT_LT(std::abs(stats.serial_corr_1), 4.0 * stats.serial_corr_1_stderr) << stats.serial_corr_1;
    RecordProperty("rate_Hz", std::to_string(stats.rate_Hz));
    RecordProperty("siegert_Hz", std::to_string(rate));
    RecordProperty("cv", std::to_string(stats.cv));
    RecordProperty("siegert_cv", std::to_string(cv));
}

// Without the bridge, crossings between grid points are missed: the rate is low by O(sqrt(dt)),
// several percent at dt = 0.1 ms, i.e. many standard errors. This is the bias the bridge removes.
TEST_P(noise, grid_only_detection_underestimates_the_rate) {
    const double r_without = noisy_lif_stats(false).rate_Hz;
    EXPECT_LT(r_without, 0.97 * siegert());
    RecordProperty("rate_without_bridge_Hz", std::to_string(r_without));
}

// OU current noise with a correlation time comparable to the ISI carries memory across spikes:
// the serial correlation becomes positive, far outside the renewal band.
TEST_P(noise, coloured_noise_breaks_renewal) {
    run_spec s = one_population(model_kind::lif, 2000, 5200.0, 0.1, real());
    set_param(s, "V_th", -50.0);
    auto& in = s.populations[0].input;
    in.I_e = distribution::constant(190.0);
    in.sigma_I = distribution::constant(60.0);
    in.tau_I_ms = 50.0;
    auto r = simulate(backend_name(), s);
    const auto stats = analysis::pooled_isi_statistics(r.trains, 200.0, 5200.0, analysis::serial_centring::population);
    ASSERT_GT(stats.n_isi, 10000u);
    EXPECT_GT(stats.serial_corr_1, 6.0 * stats.serial_corr_1_stderr) << stats.serial_corr_1;
}

// OU current noise of tau_I = tau_m / 10: ifsim theory's rate (Siegert at the OU current's
// white-noise sigma, threshold and reset shifted by Fourcaud & Brunel's sigma (alpha / 2)
// sqrt(tau_I / tau_m)) against 2000 neurons over 4.5 s (82,000 spikes, 0.4 % standard error).
// Measured 1.4 % apart (the shift is first order in sqrt(tau_I / tau_m)); without the shift the
// theory is 15.0 Hz against 9.1, and with the white-noise sigma of sigma_I alone it is far off too.
TEST_P(noise, ou_noise_rate_matches_fourcaud_brunel) {
    run_spec s = one_population(model_kind::lif, 2000, 5000.0, 0.1, real());
    s.simulation.timing = spike_timing::interpolated;
    auto& in = s.populations[0].input;
    in.I_e = distribution::constant(150.0);  // mu = 15 mV, V_th - E_L = 20 mV
    in.sigma_I = distribution::constant(150.0);
    in.tau_I_ms = 2.0;
    const theory_table theory = make_theory_table(s);
    ASSERT_EQ(theory.rate_Hz.at("P").size(), 2000u);
    const double predicted = theory.rate_Hz.at("P")[0];
    const auto r = simulate(backend_name(), s);
    const auto stats = analysis::pooled_isi_statistics(r.trains, 500.0, 5000.0, analysis::serial_centring::population);
    EXPECT_NEAR(stats.rate_Hz, predicted, 0.03 * predicted) << "theory " << predicted;
}

// In a network the OU current is filtered input of tau_syn = tau_I in the mean field: with a
// projection too weak to matter, the population's rate is the single neuron's above.
TEST(noise_theory, ou_noise_in_the_mean_field_is_the_single_neurons) {
    run_spec s = one_population(model_kind::lif, 100, 1000.0);
    auto& in = s.populations[0].input;
    in.I_e = distribution::constant(150.0);
    in.sigma_I = distribution::constant(150.0);
    in.tau_I_ms = 2.0;
    const double alone = make_theory_table(s).rate_Hz.at("P").at(0);
    EXPECT_EQ(alone, analysis::coloured_noise_rate(with_model_defaults({}, model_kind::lif), 150.0, 150.0, 2.0));
    projection_spec pr;
    pr.source = pr.target = "P";
    pr.rule.kind = rule_kind::fixed_indegree;
    pr.rule.degree = 10;
    pr.synapse = synapse_kind::exp_current;
    pr.tau_syn_ms = 2.0;
    pr.weight = synapse_distribution::constant(1e-9);
    s.projections.push_back(pr);
    const theory_table network = make_theory_table(s);
    ASSERT_EQ(network.rate_Hz.at("P").size(), 100u) << (network.notes.empty() ? "" : network.notes[0]);
    EXPECT_NEAR(network.rate_Hz.at("P")[0], alone, 1e-6 * alone);
    // Another tau_syn beside tau_I: one filter time only, said why.
    s.projections[0].tau_syn_ms = 3.0;
    const theory_table two = make_theory_table(s);
    EXPECT_TRUE(two.rate_Hz.empty());
    ASSERT_FALSE(two.notes.empty());
    EXPECT_NE(two.notes[0].find("2 time constants (one tau_syn = tau_I only)"), std::string::npos) << two.notes[0];
}

IFSIM_INSTANTIATE_BACKEND_TESTS(noise);

}  // namespace
}  // namespace ifsim::test
