// SCIENCE.md results 6-7: the noisy LIF against the Siegert rate and ISI CV, renewal statistics,
// the bias the Brownian bridge removes, and coloured noise breaking renewal.
#include <cmath>

#include "ifsim/analysis.hpp"
#include "support/backend_param.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

class noise : public backend_test {
protected:
    // 10000 neurons, mean input 2 mV below threshold, sigma_V = 4 mV: ~10 Hz, irregular firing.
    run_spec noisy_lif(bool bridge, double dt = 0.1) const {
        run_spec s = one_population(model_kind::lif, 10000, 2200.0, dt, real());
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
    static constexpr double t0 = 200.0, t1 = 2200.0;  // skip the transient from the initial state
    double siegert() const {
        neuron_params p;
        return analysis::siegert_rate(p, 180.0, 4.0);
    }
};

// 1 % of Siegert with the bridge at dt = 0.1 ms. The rate estimate from ~2e5 spikes has a relative
// standard error of CV/sqrt(n) ~ 0.2 %, so 1 % leaves room only for the method's own bias.
TEST_P(noise, lif_rate_matches_siegert_with_bridge) {
    auto r = simulate(backend_name(), noisy_lif(true));
    const auto stats = analysis::pooled_isi_statistics(r.trains, t0, t1);
    const double theory = siegert();
    ASSERT_GT(stats.n_spikes, 100000u);
    EXPECT_NEAR(stats.rate_Hz, theory, 0.01 * theory);
    RecordProperty("rate_Hz", std::to_string(stats.rate_Hz));
    RecordProperty("siegert_Hz", std::to_string(theory));
}

// Without the bridge, crossings between grid points are missed: the rate is low by O(sqrt(dt)),
// several percent at dt = 0.1 ms, i.e. many standard errors.
TEST_P(noise, grid_only_detection_underestimates_the_rate) {
    auto with = simulate(backend_name(), noisy_lif(true));
    auto without = simulate(backend_name(), noisy_lif(false));
    const double r_with = analysis::pooled_isi_statistics(with.trains, t0, t1).rate_Hz;
    const double r_without = analysis::pooled_isi_statistics(without.trains, t0, t1).rate_Hz;
    EXPECT_LT(r_without, 0.97 * siegert());
    EXPECT_GT(r_with - r_without, 0.02 * siegert());
    RecordProperty("rate_without_bridge_Hz", std::to_string(r_without));
}

// The ISI CV equals the closed form (Brunel 2000, appendix A). The pooled CV of ~2e5 ISIs has a
// standard error below 0.5 %; the discretisation adds about the same as to the rate, so 3 %.
TEST_P(noise, lif_isi_cv_matches_theory) {
    auto r = simulate(backend_name(), noisy_lif(true));
    const auto stats = analysis::pooled_isi_statistics(r.trains, t0, t1);
    neuron_params p;
    const double theory = analysis::siegert_cv(p, 180.0, 4.0);
    EXPECT_NEAR(stats.cv, theory, 0.03 * theory);
}

// White-noise LIF spike trains are renewal: lag-1 serial correlation zero within 4 standard errors.
TEST_P(noise, lif_isis_are_renewal) {
    auto r = simulate(backend_name(), noisy_lif(true));
    const auto stats = analysis::pooled_isi_statistics(r.trains, t0, t1);
    EXPECT_LT(std::abs(stats.serial_corr_1), 4.0 * stats.serial_corr_1_stderr) << stats.serial_corr_1;
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
    const auto stats = analysis::pooled_isi_statistics(r.trains, 200.0, 5200.0);
    ASSERT_GT(stats.n_isi, 10000u);
    EXPECT_GT(stats.serial_corr_1, 6.0 * stats.serial_corr_1_stderr) << stats.serial_corr_1;
}

IFSIM_INSTANTIATE_BACKEND_TESTS(noise);

}  // namespace
}  // namespace ifsim::test
