// SCIENCE.md result 5: spike-frequency adaptation in the aLIF and AdEx.
#include <cmath>
#include <utility>

#include "ifsim/analysis.hpp"
#include "support/backend_param.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

class adaptation : public backend_test {
protected:
    run_spec alif(std::uint64_t n, double duration_ms, double I) const {
        run_spec s = one_population(model_kind::alif, n, duration_ms, 0.1, real());
        set_param(s, "b", 5.0);
        set_param(s, "tau_w", 500.0);  // much longer than the ISI: <w> = b tau_w r holds
        s.populations[0].input.I_e = distribution::constant(I);
        s.simulation.timing = spike_timing::interpolated;
        return s;
    }
};

TEST_P(adaptation, rate_decreases_under_constant_drive) {
    for (const auto m : {model_kind::alif, model_kind::adex}) {
        run_spec s = alif(1, 2000.0, 400.0);
        s.populations[0].model = m;
        auto r = simulate(backend_name(), s);
        const auto& t = r.trains[0];
        ASSERT_GE(t.size(), 10u) << model_name(m);
        // The first ISI, before w has built up, is well shorter than the adapted one.
        EXPECT_LT(t[1] - t[0], 0.8 * (t.back() - t[t.size() - 2])) << model_name(m);
        // ISIs lengthen monotonically towards the steady state.
        for (std::size_t k = 2; k < 8; ++k) EXPECT_GE(t[k] - t[k - 1], t[k - 1] - t[k - 2]) << model_name(m);
    }
}

// Steady state: r = f_LIF(I - b tau_w r). <w> = b tau_w r holds exactly on the periodic orbit, and
// the ripple of w within one ISI (1/(tau_w r) ~ 5 % of <w> here) errs only at second order: the
// rate measured +0.57, +0.23, +0.12 % from the prediction (and 7e-5 from the exact orbit). A b or
// tau_w 10 % off moves the prediction by 4.4-5.5 %, which 1 % catches.
TEST_P(adaptation, steady_rate_is_self_consistent) {
    neuron_params p;
    p.b = 5.0;
    p.tau_w = 500.0;
    for (const double I : {300.0, 400.0, 600.0}) {
        auto r = simulate(backend_name(), alif(1, 6000.0, I));
        const auto& t = r.trains[0];
        std::size_t k0 = 0;
        while (k0 < t.size() && t[k0] < 3000.0) ++k0;  // after 6 tau_w
        ASSERT_GE(t.size() - k0, 10u);
        const double rate = 1000.0 * double(t.size() - 1 - k0) / (t.back() - t[k0]);
        const double predicted = analysis::alif_steady_rate(p, I);
        EXPECT_NEAR(rate, predicted, 0.01 * predicted) << "I = " << I;
        EXPECT_LT(rate, analysis::lif_rate(p, I));  // adaptation lowers the rate
    }
}

// With noise, a short ISI leaves more adaptation behind and the next ISI tends to be long: the
// lag-1 serial correlation is negative, here by far more than its standard error.
TEST_P(adaptation, successive_isis_are_negatively_correlated) {
    run_spec s = alif(200, 10000.0, 250.0);
    set_param(s, "b", 20.0);
    set_param(s, "tau_w", 100.0);
    s.populations[0].input.sigma_V = distribution::constant(4.0);
    s.simulation.timing = spike_timing::grid;
    auto r = simulate(backend_name(), s);
    const auto stats = analysis::pooled_isi_statistics(r.trains, 1000.0, 10000.0, analysis::serial_centring::population);
    ASSERT_GT(stats.n_isi, 5000u);
    EXPECT_LT(stats.serial_corr_1, -5.0 * stats.serial_corr_1_stderr) << stats.serial_corr_1;
}

// With a = 0 the adaptation current relaxes exactly, spikes or not: after one spike at t_s from
// w(0) = w0, w(T) = w0 exp(-T / tau_w) + b exp(-(T - t_s) / tau_w) whatever V does, through the rest of the spike's step,
// the refractory period (whole steps, ending inside a step, or shorter than the spike step's rest)
// and the free steps. Before, w relaxed neither after the spike inside its step nor during the
// refractory part of the step in which refractoriness ended: ~5e-4 of w per lost half step; and
// with t_ref shorter than the spike step's rest, w0 relaxed over that free part twice (w0 != 0).
// Float: ~500 steps of 2^-24 rounding on 12 pA, ~1e-4 pA.
TEST_P(adaptation, w_relaxes_exactly_through_spike_and_refractory_steps) {
    for (const auto timing : {spike_timing::interpolated, spike_timing::grid}) {
        for (const double t_ref : {2.0, 0.25, 0.02, 0.0}) {
            run_spec s = alif(1, 50.0, 400.0);  // V_inf = -30 mV
            set_param(s, "a", 0.0);
            set_param(s, "b", 20.0);
            set_param(s, "tau_w", 100.0);
            set_param(s, "t_ref", t_ref);
            s.simulation.timing = timing;
            s.populations[0].init["V_m"] = distribution::constant(-50.406);  // threshold at ~0.35 ms
            s.populations[0].init["w"] = distribution::constant(-30.0);      // the drive rises a little
            s.populations[0].input.steps = {{1.0}, {-400.0}};                // then no drive: one spike
            auto r = simulate(backend_name(), s);
            ASSERT_EQ(r.trains[0].size(), 1u);
            const double t_s = r.trains[0][0];
            const double w = r.engine->state(0, state_variable::w)[0];
            EXPECT_NEAR(w, -30.0 * std::exp(-50.0 / 100.0) + 20.0 * std::exp(-(50.0 - t_s) / 100.0), tol(1e-3, 1e-10))
                << "t_ref = " << t_ref << " ms, " << (timing == spike_timing::grid ? "grid" : "interpolated");
        }
    }
}

// tau_w far below dt, interpolated spike times, t_ref shorter than the step (a fuzz audit). w
// after a spike was the step's end w taken back over the step's free part, with e^{part dt /
// tau_w}: that overflowed (dt / tau_w from 89 in float) and, times w - w_inf = 0, made V NaN
// where `check --build` had passed; with a != 0 it held w far from any value the neuron passes
// through. With a = b = 0 the aLIF and AdEx are the LIF and EIF: the same spikes. With a = 4 nS,
// b = 10 pA, tau_w = 0.01 ms at dt = 0.1 ms the aLIF fires as at dt = 0.001 ms, regularly (it
// fired 12 irregular spikes in 200 ms against 27).
TEST_P(adaptation, tau_w_far_below_dt_stays_finite) {
    for (const auto& [adaptive, plain] : {std::pair{model_kind::alif, model_kind::lif}, std::pair{model_kind::adex, model_kind::eif}}) {
        for (const double tau_w : {1e-3, 1e-6}) {  // dt / tau_w 1e3 (float overflows), 1e6 (double too)
            run_spec s = one_population(adaptive, 1, 50.0, 1.0, real());
            set_param(s, "a", 0.0);
            set_param(s, "b", 0.0);
            set_param(s, "tau_w", tau_w);
            set_param(s, "t_ref", 0.0);
            s.populations[0].input.I_e = distribution::constant(500.0);
            s.simulation.timing = spike_timing::interpolated;
            run_spec same = s;
            same.populations[0].model = plain;
            same.populations[0].params.erase("a");
            same.populations[0].params.erase("b");
            same.populations[0].params.erase("tau_w");
            const auto r = simulate(backend_name(), s);
            EXPECT_GE(r.trains[0].size(), 3u) << model_name(adaptive);
            EXPECT_EQ(r.trains[0], simulate(backend_name(), same).trains[0]) << model_name(adaptive) << ", tau_w " << tau_w;
            EXPECT_TRUE(std::isfinite(r.engine->state(0, state_variable::V_m)[0]));
        }
    }
    std::vector<std::size_t> counts;
    for (const double dt : {0.1, 0.001}) {
        run_spec s = one_population(model_kind::alif, 1, 200.0, dt, real());
        set_param(s, "a", 4.0);
        set_param(s, "b", 10.0);
        set_param(s, "tau_w", 0.01);
        set_param(s, "t_ref", 0.0);
        s.populations[0].input.I_e = distribution::constant(500.0);
        s.simulation.timing = spike_timing::interpolated;
        const auto t = simulate(backend_name(), s).trains[0];
        ASSERT_GE(t.size(), 10u) << "dt " << dt;
        counts.push_back(t.size());
        if (dt == 0.1) {
            EXPECT_LT(analysis::isi_statistics(t, t[1], 200.0).cv, 0.01);  // after the first ISI, from rest
        }
    }
    EXPECT_NEAR(double(counts[0]), double(counts[1]), 1.0);
}

// Interpolated timing with a != 0 and ordinary tau_w: the steady ISI at dt = 0.1 ms within 0.1 %
// of dt = 0.001 ms, for t_ref ending inside, at the end of and after the spike's step. A first
// fix of the case above, w taken forward with V at V_reset from the spike, was 0.19 % short: it
// lost the cancellation between V held at its start in w's step and V held past the spike (found
// by a review; the form kept since agrees to 0.05 %).
TEST_P(adaptation, interpolated_isi_converges_with_a) {
    for (const double t_ref : {0.0, 0.05, 2.0}) {
        for (const double I : {600.0, 1500.0}) {
            double isi[2] = {};
            for (const int fine : {0, 1}) {
                run_spec s = one_population(model_kind::alif, 1, 1000.0, fine ? 0.001 : 0.1, real());
                set_param(s, "a", 10.0);
                set_param(s, "b", 20.0);
                set_param(s, "tau_w", 10.0);
                set_param(s, "t_ref", t_ref);
                s.populations[0].input.I_e = distribution::constant(I);
                s.simulation.timing = spike_timing::interpolated;
                const auto t = simulate(backend_name(), s).trains[0];
                ASSERT_GE(t.size(), 20u);
                const auto mid = t.begin() + std::ptrdiff_t(t.size() / 2);
                isi[fine] = (t.back() - *mid) / double(t.end() - mid - 1);  // the second half: steady
            }
            EXPECT_NEAR(isi[0] / isi[1], 1.0, tol(1e-3, 1e-3)) << "t_ref " << t_ref << " ms, I_e " << I << " pA";
        }
    }
}

// A negative a (Naud et al. 2008's delayed-accelerating and irregular AdEx sets) turns the
// adaptation current into an inward one below threshold: the aLIF's resting depolarisation under
// I is I / (g_L + a) instead of I / g_L, here 50 pA / (10 - 5) nS = 10 mV, with w = a (V - E_L)
// = -50 pA, reached after 30 times the slow mode's tau_w g_L / (g_L + a) = 200 ms (e^-30 left). The AdEx's adds its exponential current,
// g_L Delta_T e^((V - V_T) / Delta_T) = 0.135 pA at -60 mV: x = V - E_L solves
// (g_L + a) x - g_L Delta_T e^((E_L + x - V_T) / Delta_T) = I (Newton, from 10 mV). Float stops
// short: w stops moving once its step (w_inf - w)(1 - e^(-dt / tau_w)) is below half an ulp of w
// (3.8e-6 pA at 50 pA: within 3.8e-3 pA), V once its own is (within 3.8e-4 mV) and by that w's
// 3.8e-3 / (g_L + a) = 7.6e-4 mV: 1.1e-3 mV and 7.6e-3 pA measured.
TEST_P(adaptation, negative_a_is_an_inward_current_below_threshold) {
    const double g_L = 10.0, a = -5.0, I = 50.0, E_L = -70.0, V_T = -50.0, Delta_T = 2.0;
    double x_adex = 10.0;
    for (int k = 0; k < 20; ++k) {
        const double e = g_L * Delta_T * std::exp((E_L + x_adex - V_T) / Delta_T);
        x_adex -= ((g_L + a) * x_adex - e - I) / ((g_L + a) - e / Delta_T);
    }
    for (const auto m : {model_kind::alif, model_kind::adex}) {
        run_spec s = one_population(m, 1, 6000.0, 0.1, real());
        set_param(s, "a", a);
        set_param(s, "tau_w", 100.0);
        s.populations[0].input.I_e = distribution::constant(I);
        auto r = simulate(backend_name(), s);
        EXPECT_TRUE(r.trains[0].empty());
        const double x = m == model_kind::alif ? I / (g_L + a) : x_adex;
        EXPECT_NEAR(r.engine->state(0, state_variable::V_m)[0] - E_L, x, tol(2e-3, 1e-9)) << model_name(m);
        EXPECT_NEAR(r.engine->state(0, state_variable::w)[0], a * x, tol(1e-2, 1e-8)) << model_name(m);
    }
}

IFSIM_INSTANTIATE_BACKEND_TESTS(adaptation);

}  // namespace
}  // namespace ifsim::test
