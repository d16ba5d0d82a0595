// Theory of ifsim::analysis: erfcx, the LIF and QIF F-I curves, the Siegert rate and CV of the noisy
// LIF, the aLIF self-consistency. Reference values that are not closed forms were computed once
// with mpmath 1.3.0 at 30-40 significant digits (mp.dps = 40; erfcx(x) = exp(x^2) erfc(x); the
// Siegert and CV integrals of Brunel 2000 eq. 21 / appendix A with mpmath.quad, tanh-sinh), and are
// quoted to the digits shown. The CV formula itself was also checked once against a Monte Carlo of
// the OU process (dt = 0.01 ms, exact step + Brownian-bridge crossing, 40000 ISIs) at
// tau_m = 20, t_ref = 2, theta = 20, V_r = 10, mu = 15, sigma = 5: rate 9.457 Hz, CV 0.816, within
// their ~0.5 % statistical error of the 9.4608 Hz and 0.8148 below.
#include "ifsim/analysis.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <tuple>
#include <utility>

#include <gtest/gtest.h>

#include "ifsim/errors.hpp"

namespace ifsim::analysis {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

void expect_rel(double got, double want, double tol) {
    EXPECT_LE(std::abs(got - want), tol * std::abs(want))
        << "got " << got << ", want " << want << " (rel. err " << std::abs(got / want - 1.0) << ")";
}

// --- erfcx -----------------------------------------------------------------------------------------

TEST(erfcx, matches_mpmath_references_to_1e_13) {
    struct ref {
        double x, value;  // erfcx(x) from mpmath, mp.dps = 40
    };
    const ref refs[] = {
        {-26.0, 7.6577249314905683515e+293},
        {-5.0, 144009798674.66104041},
        {-1.0, 5.0089800807622834663},
        {-0.5, 1.9523604891825570933},
        {0.0, 1.0},
        {1e-3, 0.99887262008115140863},
        {0.5, 0.61569034419292587487},
        {1.0, 0.42758357615580700441},
        {2.0, 0.25539567631050574387},
        {4.0, 0.13699945762506138989},  // the switch from the erfc product to the continued fraction
        {5.0, 0.11070463773306862637},
        {10.0, 0.056140992743822585858},
        {26.0, 0.021683584850562906616},
        {30.0, 0.018795888861416751497},  // erfc(30) underflows: only the continued fraction works
        {100.0, 0.0056416137829894329036},
        {1e3, 0.0005641893014533876542},
        {1e8, 5.6418958354775625874e-9},
    };
    for (const auto& r : refs) {
        SCOPED_TRACE(r.x);
        expect_rel(erfcx(r.x), r.value, 1e-13);
    }
}

TEST(erfcx, limits_and_overflow) {
    EXPECT_EQ(erfcx(0.0), 1.0);
    EXPECT_EQ(erfcx(inf), 0.0);
    EXPECT_EQ(erfcx(-30.0), inf);  // 2 exp(900) is beyond double
    EXPECT_EQ(erfcx(-inf), inf);
    EXPECT_TRUE(std::isnan(erfcx(std::numeric_limits<double>::quiet_NaN())));
    // 1/(x sqrt(pi)) asymptote far out
    expect_rel(erfcx(1e12), std::numbers::inv_sqrtpi / 1e12, 1e-15);
}

TEST(erfcx, reflection_and_continuity_across_the_branch_switch) {
    // erfcx(-x) + erfcx(x) = 2 exp(x^2), an identity the code does not use
    for (double x : {0.1, 0.7, 1.5, 3.0, 3.999, 4.0, 4.001, 6.0, 9.0}) {
        SCOPED_TRACE(x);
        expect_rel(erfcx(-x) + erfcx(x), 2.0 * std::exp(x * x), 4e-14 * (1.0 + x * x));
    }
    // no step at x = 4: erfcx' = 2 x erfcx - 2/sqrt(pi)
    const double h = 1e-7, d = 2.0 * 4.0 * erfcx(4.0) - 2.0 * std::numbers::inv_sqrtpi;
    expect_rel(erfcx(4.0 + h) - erfcx(4.0 - h), 2.0 * h * d, 1e-6);
}

// --- LIF -------------------------------------------------------------------------------------------

// Defaults: C_m = 200 pF, g_L = 10 nS (tau_m = 20 ms), E_L = -70, V_th = -50, V_reset = -60 mV,
// t_ref = 2 ms. I = 300 pA gives V_inf = -40 mV: (V_inf - V_reset)/(V_inf - V_th) = 20/10 = 2.
TEST(lif, rate_matches_hand_values) {
    const neuron_params p;
    expect_rel(lif_rate(p, 300.0), 1000.0 / (2.0 + 20.0 * std::numbers::ln2), 1e-15);
    // I = 250 pA: V_inf = -45 mV, ratio 15/5 = 3
    expect_rel(lif_rate(p, 250.0), 1000.0 / (2.0 + 20.0 * std::log(3.0)), 1e-15);
    // I = 1200 pA: V_inf = +50 mV, ratio 110/100
    expect_rel(lif_rate(p, 1200.0), 1000.0 / (2.0 + 20.0 * std::log(1.1)), 1e-14);
    EXPECT_EQ(lif_rate(p, 200.0), 0.0);  // V_inf = V_th exactly: never reaches it
    EXPECT_EQ(lif_rate(p, 100.0), 0.0);
    EXPECT_EQ(lif_rate(p, -100.0), 0.0);
}

TEST(lif, first_spike_time) {
    const neuron_params p;
    // I = 300 pA, from rest (-70 mV): ln(30/10) tau_m
    expect_rel(lif_first_spike_time(p, 300.0, -70.0), 20.0 * std::log(3.0), 1e-15);
    EXPECT_EQ(lif_first_spike_time(p, 300.0, -50.0), 0.0);  // at threshold: spike at t = 0
    EXPECT_EQ(lif_first_spike_time(p, 0.0, -40.0), 0.0);    // above it, even without drive
    EXPECT_EQ(lif_first_spike_time(p, 200.0, -70.0), inf);
    EXPECT_EQ(lif_first_spike_time(p, 150.0, -70.0), inf);
}

TEST(lif, rate_vanishes_continuously_with_log_divergent_isi) {
    neuron_params p;
    p.t_ref = 0.0;
    const double I_rheo = p.g_L * (p.V_th - p.E_L);  // 200 pA
    double previous = lif_rate(p, I_rheo + 1.0);
    for (double eps = 0.1; eps > 1e-9; eps /= 10.0) {
        const double r = lif_rate(p, I_rheo + eps);
        EXPECT_GT(r, 0.0);
        EXPECT_LT(r, previous);
        // ISI = tau_m ln(1 + g_L (V_th - V_reset)/eps): each decade of eps adds tau_m ln 10
        const double isi_step = 1000.0 / r - 1000.0 / previous;
        // (exactly 20 ln((10 eps + 100)/(eps + 100)): the 1.8 eps term is the next order; 1e-3 ms
        // covers the round-off of V_inf - V_th = eps/g_L computed from I ~ 200 pA)
        EXPECT_NEAR(isi_step, 20.0 * std::log(10.0), 2.0 * eps + 1e-3);
        previous = r;
    }
    EXPECT_LT(previous, 2.0);  // 1e-9 pA above rheobase: ISI ~ 20 ln(1e11) ms ~ 0.5 s
}

TEST(lif, reset_at_or_above_threshold_fires_at_the_refractory_rate) {
    neuron_params p;
    p.V_reset = -50.0;
    expect_rel(lif_rate(p, 300.0), 1000.0 / p.t_ref, 1e-15);
    EXPECT_EQ(lif_rate(p, 150.0), 0.0);
}

// --- QIF -------------------------------------------------------------------------------------------

// Time from V_from to V_to of dV/dt = f(V) by classical RK4 with dt = 1e-4 ms; the crossing step
// is bisected on its length, so the time is accurate to the RK4 global error (~dt^4, far below
// the 1e-9 tolerance used). +inf past 1e5 ms.
template <class F>
double travel_time_rk4(F f, double V_from, double V_to) {
    const auto step = [&](double V, double h) {
        const double k1 = f(V), k2 = f(V + 0.5 * h * k1), k3 = f(V + 0.5 * h * k2),
                     k4 = f(V + h * k3);
        return V + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    };
    const double dt = 1e-4;
    double V = V_from, t = 0.0;
    while (true) {
        const double Vn = step(V, dt);
        if (Vn >= V_to) break;
        V = Vn;
        t += dt;
        if (t > 1e5) return inf;
    }
    double lo = 0.0, hi = dt;
    for (int i = 0; i < 60; ++i) {
        const double mid = 0.5 * (lo + hi);
        (step(V, mid) >= V_to ? hi : lo) = mid;
    }
    return t + 0.5 * (lo + hi);
}

// C_m dV/dt = k (V - E_L)(V - V_c) + I from V_reset to V_peak.
double qif_travel_time_rk4(const neuron_params& p, double I) {
    return travel_time_rk4([&](double V) { return (p.k * (V - p.E_L) * (V - p.V_c) + I) / p.C_m; }, p.V_reset,
                           p.V_peak);
}

neuron_params qif_params() {
    neuron_params p;  // E_L = -70, V_c = -50 mV, k = 1 nS/mV, C_m = 200 pF: I_rheo = 100 pA
    p.V_peak = 20.0;
    return p;
}

TEST(qif, rheobase) { EXPECT_DOUBLE_EQ(qif_rheobase(qif_params()), 100.0); }

TEST(qif, rate_matches_direct_integration_of_the_ode) {
    for (double I : {100.5, 110.0, 150.0, 300.0, 1000.0, 5000.0}) {
        SCOPED_TRACE(I);
        const auto p = qif_params();
        expect_rel(qif_rate(p, I), 1000.0 / (p.t_ref + qif_travel_time_rk4(p, I)), 1e-9);
    }
}

TEST(qif, default_v_peak_is_plus_20_mv) {
    auto p = qif_params();
    const double r = qif_rate(p, 300.0);
    p.V_peak = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(qif_rate(p, 300.0), r);
}

TEST(qif, zero_at_and_below_rheobase_when_reset_below_the_unstable_point) {
    const auto p = qif_params();  // V_reset = -60 mV = V_m
    EXPECT_EQ(qif_rate(p, 100.0), 0.0);
    EXPECT_EQ(qif_rate(p, 99.0), 0.0);
    EXPECT_EQ(qif_rate(p, 0.0), 0.0);
    EXPECT_GT(qif_rate(p, 100.0 + 1e-9), 0.0);
}

TEST(qif, fires_below_rheobase_when_reset_above_the_unstable_point) {
    auto p = qif_params();
    p.V_reset = -52.0;  // unstable fixed point at I = 90 pA: -60 + sqrt(10) = -56.8 mV
    for (double I : {90.0, 99.999, 100.0}) {
        SCOPED_TRACE(I);
        expect_rel(qif_rate(p, I), 1000.0 / (p.t_ref + qif_travel_time_rk4(p, I)), 1e-9);
    }
    p.V_reset = -57.0;  // below it at 90 pA, above it at 95 pA (-60 + sqrt(5) = -57.76)
    EXPECT_EQ(qif_rate(p, 90.0), 0.0);
    EXPECT_GT(qif_rate(p, 95.0), 0.0);
}

TEST(qif, sqrt_onset_and_the_infinite_peak_limit) {
    auto p = qif_params();
    p.t_ref = 0.0;
    // V_peak -> +inf, V_reset -> -inf: r = k Delta/(pi C_m); the finite range corrects it by
    // ~ (2/pi) Delta/|V|, here < 1e-8.
    p.V_peak = 1e10;
    p.V_reset = -1e10;
    for (double I : {100.01, 101.0, 150.0, 1000.0}) {
        SCOPED_TRACE(I);
        const double Delta = std::sqrt((I - 100.0) / p.k);
        expect_rel(qif_rate(p, I), 1000.0 * p.k * Delta / (std::numbers::pi * p.C_m), 1e-8);
    }
    // With the default finite V_peak and V_reset the onset still goes like sqrt(I - I_rheo):
    // quadrupling the excess doubles the rate, up to O(Delta) corrections.
    p = qif_params();
    p.t_ref = 0.0;
    const double eps = 1e-8;
    expect_rel(qif_rate(p, 100.0 + 4.0 * eps) / qif_rate(p, 100.0 + eps), 2.0, 1e-4);
}

// --- Siegert rate and CV -------------------------------------------------------------------------

struct siegert_case {
    double tau_m, t_ref, theta, V_r, mu, sigma;  // ms, ms, mV (from E_L), mV, mV, mV
    double rate_Hz, cv;                          // mpmath, 30-40 digits (file header)
};

constexpr siegert_case siegert_refs[] = {
    // moderately subthreshold mean, fluctuation-driven (Brunel-like)
    {20, 2, 20, 10, 15, 5, 9.460799805759126099464799, 0.81475721165944953938},
    // suprathreshold mean, weak noise: regular
    {20, 2, 20, 10, 25, 2, 42.8496137992101470606371, 0.20830798987308697778},
    // far below threshold (y_th = 3): Poisson-like
    {20, 0, 20, 10, 5, 5, 0.00977586820889095661123649, 1.0005389120894202964},
    // negative mean, y_th = 3.75
    {10, 1, 20, 10, -10, 8, 0.0001589713927269681795889409, 1.0006453214835163252},
};

TEST(siegert, rate_matches_mpmath) {
    for (const auto& c : siegert_refs) {
        SCOPED_TRACE(c.mu);
        expect_rel(siegert_rate(c.tau_m, c.t_ref, c.theta, c.V_r, c.mu, c.sigma), c.rate_Hz, 1e-11);
    }
}

TEST(siegert, cv_matches_mpmath) {
    for (const auto& c : siegert_refs) {
        SCOPED_TRACE(c.mu);
        expect_rel(siegert_cv(c.tau_m, c.t_ref, c.theta, c.V_r, c.mu, c.sigma), c.cv, 1e-11);
    }
}

TEST(siegert, neuron_params_overload_uses_sigma_sqrt2_sigma_v) {
    // Defaults, I = 150 pA (mu = 15 mV), sigma_V = 4 mV (sigma = 4 sqrt 2); mpmath: 11.67613882879180944371116 Hz,
    // CV 0.81517989840783402339
    const neuron_params p;
    expect_rel(siegert_rate(p, 150.0, 4.0), 11.67613882879180944371116, 1e-11);
    expect_rel(siegert_cv(p, 150.0, 4.0), 0.81517989840783402339, 1e-11);
}

TEST(siegert, small_noise_approaches_the_deterministic_lif) {
    const neuron_params p;  // I = 300 pA: mu = 30 mV, suprathreshold
    const double r0 = lif_rate(p, 300.0);
    EXPECT_EQ(siegert_rate(p, 300.0, 0.0), r0);
    EXPECT_EQ(siegert_cv(p, 300.0, 0.0), 0.0);
    // Weak noise, to first order: the crossing time jitters by the free OU deviation at the
    // crossing, sd sigma_V sqrt(1 - exp(-2T/tau_m)), over the slope (V_inf - V_th)/tau_m there, so
    // CV = sigma_V sqrt(1 - exp(-2T/tau_m)) tau_m / ((V_inf - V_th)(t_ref + T)); with T = tau_m ln 2
    // here, sqrt(3/4) * 20 / (10 (2 + 20 ln 2)). Both rate and CV deviate from their limits by
    // O(sigma_V^2) (observed: rate 4.7e-3 sigma_V^2, CV 1.1e-2 sigma_V^2 relative).
    const double cv_per_mV = std::sqrt(0.75) * 20.0 / (10.0 * (2.0 + 20.0 * std::numbers::ln2));
    for (double sV : {1.0, 0.1, 0.01, 0.001}) {
        SCOPED_TRACE(sV);
        expect_rel(siegert_rate(p, 300.0, sV), r0, 0.01 * sV * sV);
        expect_rel(siegert_cv(p, 300.0, sV), cv_per_mV * sV, 0.02 * sV * sV);
    }
    // subthreshold mean without noise: silent
    EXPECT_EQ(siegert_rate(p, 150.0, 0.0), 0.0);
    EXPECT_TRUE(std::isnan(siegert_cv(p, 150.0, 0.0)));
}

TEST(siegert, far_below_threshold_is_poisson_like_and_never_overflows) {
    // y_th from 3 to 25: rates from mHz down to ~1e-270 Hz, each finite and positive; CV -> 1.
    // exp(y_th^2) alone overflows beyond y_th = 26.6, and exp(2 y_th^2) in the CV beyond 18.8.
    double previous = inf;
    for (double y_th : {3.0, 5.0, 10.0, 18.0, 20.0, 25.0}) {
        SCOPED_TRACE(y_th);
        const double sigma = 20.0 / y_th;  // mu = 0, theta = 20 mV
        const double r = siegert_rate(20.0, 2.0, 20.0, 10.0, 0.0, sigma);
        EXPECT_GT(r, 0.0);
        EXPECT_LT(r, previous);
        previous = r;
        const double cv = siegert_cv(20.0, 2.0, 20.0, 10.0, 0.0, sigma);
        EXPECT_TRUE(std::isfinite(cv));
        EXPECT_NEAR(cv, 1.0, 0.01);
    }
    // so far out that the rate underflows: 0, and an undefined CV
    EXPECT_EQ(siegert_rate(20.0, 2.0, 20.0, 10.0, 0.0, 20.0 / 40.0), 0.0);
    // ... however far: y_th in the thousands, where one interval's nodes all missed the peak at
    // y_th and the rate came out 0/0 (a sigma_V of 0.01 mV), and beyond the double range of y_th^2.
    for (double sigma : {0.02, 0.01, 1e-3, 1e-10, 1e-300, 1e-310}) {
        SCOPED_TRACE(sigma);
        EXPECT_EQ(siegert_rate(20.0, 2.0, 20.0, 10.0, 0.0, sigma), 0.0);
        EXPECT_TRUE(std::isnan(siegert_cv(20.0, 2.0, 20.0, 10.0, 0.0, sigma)));
    }
    // Weak noise with the reset far below threshold, y_r = -1e9: one interval's nodes missed the
    // peak at y_th (500 Hz and CV 0 for y_th = 20), and at y_th = 0 an absolute tolerance cut the
    // tails short (CV 0.3 % low). References: mpmath, 30 digits (a review's script).
    for (double y_th : {15.0, 20.0, 27.0}) {
        SCOPED_TRACE(y_th);
        const double sigma = 1e-8, mu = 20.0 - y_th * sigma;  // y_r = (10 - mu) / sigma ~ -1e9
        const double r = siegert_rate(20.0, 2.0, 20.0, 10.0, mu, sigma);
        EXPECT_GT(r, 0.0);
        EXPECT_LT(r, 1e-90);
        EXPECT_NEAR(siegert_cv(20.0, 2.0, 20.0, 10.0, mu, sigma), 1.0, 1e-6);
    }
    expect_rel(siegert_rate(20.0, 2.0, 20.0, 10.0, 20.0, 1e-8), 2.29304985966562, 1e-12);
    expect_rel(siegert_cv(20.0, 2.0, 20.0, 10.0, 20.0, 1e-8), 0.050938760489274, 1e-10);
    // Just below threshold the weak-noise rate is still positive; above it, the deterministic one.
    EXPECT_GT(siegert_rate(20.0, 2.0, 20.0, 10.0, 19.99, 1e-3), 0.0);
    for (double sigma : {1e-3, 1e-300, 1e-310}) {
        SCOPED_TRACE(sigma);
        expect_rel(siegert_rate(20.0, 2.0, 20.0, 10.0, 25.0, sigma), siegert_rate(20.0, 2.0, 20.0, 10.0, 25.0, 0.0), 1e-6);
    }
}

TEST(siegert, rate_increases_with_mean_and_cv_falls_into_the_suprathreshold_regime) {
    double r_prev = 0.0, cv_prev = inf;
    for (double mu = 5.0; mu <= 40.0; mu += 5.0) {
        SCOPED_TRACE(mu);
        const double r = siegert_rate(20.0, 2.0, 20.0, 10.0, mu, 3.0);
        const double cv = siegert_cv(20.0, 2.0, 20.0, 10.0, mu, 3.0);
        EXPECT_GT(r, r_prev);
        EXPECT_LT(cv, cv_prev);
        r_prev = r;
        cv_prev = cv;
    }
    EXPECT_LT(cv_prev, 0.2);  // mu = 40 mV, sigma = 3 mV: 0.154
}

TEST(siegert, rejects_bad_arguments) {
    EXPECT_THROW(siegert_rate(0.0, 2.0, 20.0, 10.0, 15.0, 5.0), config_error);
    EXPECT_THROW(siegert_rate(20.0, -1.0, 20.0, 10.0, 15.0, 5.0), config_error);
    EXPECT_THROW(siegert_rate(20.0, 2.0, 20.0, 10.0, 15.0, -5.0), config_error);
    EXPECT_THROW(siegert_cv(20.0, 0.0, 20.0, 20.0, 15.0, 5.0), config_error);
    EXPECT_THROW(siegert_rate(20.0, 2.0, 20.0, 10.0, std::numeric_limits<double>::quiet_NaN(), 5.0),
                 config_error);
}

// --- adaptation ----------------------------------------------------------------------------------

// The adapted rate r of `steady` solves r = f(I - b tau_w r) on the curve `f` of the model
// without adaptation: <w> = 20 pA * 100 ms * r[Hz] / 1000 with the defaults (a = 0).
template <class Steady, class Curve>
void expect_self_consistent(Steady steady, Curve f) {
    const neuron_params p;
    for (double I : {250.0, 300.0, 500.0, 1000.0}) {
        SCOPED_TRACE(I);
        const double r = steady(p, I);
        EXPECT_GT(r, 0.0);
        EXPECT_LT(r, f(p, I));
        expect_rel(f(p, I - p.b * p.tau_w * r / 1000.0), r, 1e-12);
    }
}

TEST(alif, steady_rate_is_self_consistent) {
    expect_self_consistent(alif_steady_rate, lif_rate);
    neuron_params p;
    EXPECT_EQ(alif_steady_rate(p, 150.0), 0.0);
    p.b = 0.0;
    EXPECT_EQ(alif_steady_rate(p, 300.0), lif_rate(p, 300.0));
}

// --- EIF -------------------------------------------------------------------------------------------

// C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T) + I from V_reset to V_peak.
double eif_travel_time_rk4(const neuron_params& p, double I) {
    const double V_peak = std::isnan(p.V_peak) ? p.V_T + 5.0 * p.Delta_T : p.V_peak;
    return travel_time_rk4(
        [&](double V) {
            return (-p.g_L * (V - p.E_L) + p.g_L * p.Delta_T * std::exp((V - p.V_T) / p.Delta_T) + I) / p.C_m;
        },
        p.V_reset, V_peak);
}

// Defaults: E_L = -70, V_T = -50, Delta_T = 2 mV, g_L = 10 nS: rheobase 10 (20 - 2) = 180 pA.
TEST(eif, rheobase) { EXPECT_DOUBLE_EQ(eif_rheobase(neuron_params{}), 180.0); }

TEST(eif, rate_matches_direct_integration_of_the_ode) {
    const neuron_params p;
    for (double I : {180.5, 200.0, 250.0, 300.0, 500.0, 1000.0, 5000.0}) {
        SCOPED_TRACE(I);
        expect_rel(eif_rate(p, I), 1000.0 / (p.t_ref + eif_travel_time_rk4(p, I)), 1e-9);
    }
    // and scipy's LSODA (rtol 1e-11) on the same equation: ISIs of 33.9873, 23.2409, 11.4810 ms
    for (const auto& [I, isi] : {std::pair{250.0, 33.9873}, std::pair{300.0, 23.2409}, std::pair{500.0, 11.4810}})
        expect_rel(1000.0 / eif_rate(p, I), isi, 5e-6);
}

// A small Delta_T far from V_reset: the exponential's layer, some Delta_T wide below V_T, fell
// between the quadrature's nodes (3.3e-8 off). Against mpmath.quad (30 digits, split at the layer).
TEST(eif, a_thin_exponential_layer_is_integrated) {
    neuron_params p;
    p.Delta_T = 0.001;
    expect_rel(eif_rate(p, 250.0), 41.680319416623869709, 1e-10);
}

TEST(eif, zero_at_and_below_rheobase_with_a_continuous_onset) {
    const neuron_params p;
    EXPECT_EQ(eif_rate(p, 180.0), 0.0);
    EXPECT_EQ(eif_rate(p, 100.0), 0.0);
    EXPECT_EQ(eif_rate(p, -100.0), 0.0);
    // Type I: the rate falls to 0 as I -> rheobase (the ISI diverges as 1/sqrt(I - I_rheo)).
    double previous = eif_rate(p, 181.0);
    for (const double excess : {1e-1, 1e-2, 1e-3, 1e-4, 1e-6}) {
        const double r = eif_rate(p, 180.0 + excess);
        EXPECT_GT(r, 0.0) << excess;
        EXPECT_LT(r, previous) << excess;
        previous = r;
    }
    EXPECT_LT(previous, 0.2);
}

TEST(eif, fires_below_rheobase_when_reset_above_the_unstable_point) {
    neuron_params p;
    p.V_reset = -47.0;  // at 170 pA the unstable fixed point is near -48.3 mV: F(-47 mV) = +29.6 pA
    expect_rel(eif_rate(p, 170.0), 1000.0 / (p.t_ref + eif_travel_time_rk4(p, 170.0)), 1e-9);
    p.V_reset = -49.0;  // below it: held at the fixed point
    EXPECT_EQ(eif_rate(p, 170.0), 0.0);
}

TEST(eif, tends_to_the_lif_as_delta_t_vanishes) {
    neuron_params p;  // V_T = V_th = -50 mV
    for (const double I : {250.0, 500.0}) {
        double previous = INFINITY;
        for (const double delta : {1.0, 0.1, 0.01, 0.001}) {
            p.Delta_T = delta;
            const double gap = std::abs(eif_rate(p, I) / lif_rate(p, I) - 1.0);
            EXPECT_LT(gap, previous) << "I = " << I << ", Delta_T = " << delta;
            previous = gap;
        }
        EXPECT_LT(previous, 1e-3) << "I = " << I;
    }
}

// Brunel (2000) model A's self-consistent rate, nu = siegert(mu(nu), sigma(nu)) with
// mu = C_E J tau (eta nu_thr + nu (1 - g/4)), sigma^2 = J^2 C_E tau (eta nu_thr + nu (1 + g^2/4)),
// against mpmath.findroot on the same equation (quad, tanh-sinh, 40 digits): Fig. 8B's state
// (g = 6, eta = 4, the benchmark's) and Fig. 8C's, the AI state of examples/brunel.toml (g = 5, eta = 2).
TEST(brunel, self_consistent_rate_matches_mpmath) {
    for (const auto& [g, eta, want] : {std::tuple{6.0, 4.0, 55.84126237620438}, std::tuple{5.0, 2.0, 37.94969708576336}}) {
        brunel_network n;
        n.g = g;
        n.nu_ext_Hz = eta * brunel_threshold_rate(n);
        EXPECT_DOUBLE_EQ(brunel_threshold_rate(n), 10.0);
        expect_rel(brunel_rate(n), want, 1e-9);
    }
}

TEST(adex, steady_rate_is_self_consistent_with_the_eif_curve) {
    expect_self_consistent(adex_steady_rate, eif_rate);
    const neuron_params p;
    EXPECT_EQ(adex_steady_rate(p, 170.0), 0.0);
    neuron_params coupled = p;
    coupled.a = 2.0;
    EXPECT_THROW(adex_steady_rate(coupled, 300.0), config_error);
}

TEST(alif, requires_a_zero) {
    neuron_params p;
    p.a = 2.0;
    EXPECT_THROW(alif_steady_rate(p, 300.0), config_error);
}

}  // namespace

}  // namespace ifsim::analysis
