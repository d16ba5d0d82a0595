// Closed-form and quadrature theory of the models: LIF, QIF and EIF F-I curves, the Siegert rate and
// ISI CV of the noisy LIF, and the aLIF and AdEx self-consistency.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>
#include <utility>

#include "ifsim/analysis.hpp"
#include "ifsim/units.hpp"
#include "ifsim/errors.hpp"
#include "quadrature.hpp"

namespace ifsim::analysis {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double ms_per_s = 1000.0;

// exp(-x^2) with x^2 split exactly, as in erfcx.cpp: no x^2 eps relative error for large x.
double exp_neg_sq(double x) {
    const double h = x * x;
    const double l = std::fma(x, x, -h);
    return std::exp(-h) * (1.0 - l);
}

// ln erfcx(-y) = ln[exp(y^2)(1 + erf y)], finite for every y. For y > 0 it is y^2 + ln erfc(-y),
// whose second term lies in [0, ln 2]; returned here as that second term only (the caller owns
// the y^2, to combine it with other squares without cancellation).
double log_erfc_neg(double y) { return std::log(std::erfc(-y)); }

// Reduced thresholds and the scale shared by the rate and CV integrals.
struct reduced {
    double y_r, y_th;  // (V_reset - mu)/sigma, (V_th - mu)/sigma
    double y_m;        // max(y_th, 0): integrands are divided by exp(y_m^2) (rate) or exp(2 y_m^2) (CV)
};

void check_siegert_args(double tau_m, double t_ref, double V_th, double V_reset, double mu,
                        double sigma) {
    const auto bad = [](const std::string& what) {
        throw config_error("the diffusion approximation (Siegert) does not apply: " + what);
    };
    if (!(std::isfinite(tau_m) && std::isfinite(t_ref) && std::isfinite(V_th) &&
          std::isfinite(V_reset) && std::isfinite(mu) && std::isfinite(sigma)))
        bad("all arguments must be finite numbers");
    if (!(tau_m > 0.0)) bad("tau_m = " + format_number(tau_m) + " ms must be > 0");
    if (t_ref < 0.0) bad("t_ref = " + format_number(t_ref) + " ms must be >= 0");
    if (sigma < 0.0) bad("sigma = " + format_number(sigma) + " mV must be >= 0");
    if (!(V_reset < V_th) && t_ref == 0.0)
        bad("V_reset = " + format_number(V_reset) + " mV must be below V_th = " + format_number(V_th) +
            " mV when t_ref = 0");
}

// Int_{y_r}^{y_th} f for the integrands below, which for y_th > 0 peak at y_th with a width of
// about 1/(2 y_th): in two pieces, the one within about 32 / y_th of the peak apart, so that the
// nodes find the peak however long the interval is (with weak noise y_r and y_th lie far apart:
// a single interval's nodes all fell where f underflows, and the rate came out 500 Hz, the CV 0).
// Each piece to the relative tolerance: below the peak, for y_th near 0, lie tails (1/|u| in the
// rate, 1/|x|^3 in the CV) that an absolute tolerance from the peak cut short.
double integrate_to_threshold(const std::function<double(double)>& f, const reduced& z, double rel_tol) {
    const double width = 64.0 / (std::sqrt(z.y_m * z.y_m + 64.0) + z.y_m);
    const double split = std::max(z.y_r, z.y_th - width);
    return detail::integrate(f, split, z.y_th, rel_tol).value + detail::integrate(f, z.y_r, split, rel_tol).value;
}

// The rate integral divided by exp(y_m^2): Int_{y_r}^{y_th} erfcx(-u) exp(-y_m^2) du.
double scaled_rate_integral(const reduced& z) {
    const double y_m = z.y_m;
    const double s = exp_neg_sq(y_m);
    const auto g = [y_m, s](double u) {
        if (u <= 0.0) return erfcx(-u) * s;
        return std::exp((u - y_m) * (u + y_m)) * std::erfc(-u);  // u <= y_m: exponent <= 0
    };
    return integrate_to_threshold(g, z, 1e-12);
}

// The CV double integral divided by exp(2 y_m^2):
//   Int_{y_r}^{y_th} dx Int_{-inf}^{x} exp(E(x, y)) dy,
//   E = x^2 + y^2 + 2 ln(1 + erf y) - 2 y_m^2,
// with the squares grouped so that nothing cancels (every E is <= 2 ln 2: nothing overflows). The
// inner integral runs over the distance d = x - y >= 0 below x rather than over y: where x is
// large and negative (weak noise) the integrand is a peak of width 1/(2|x|) at y = x, and
// x^2 - y^2 = d (2x - d) is then exact, whereas y itself would carry a round-off of eps |x| that
// the factor 2|x| would turn into a noisy integrand.
double scaled_cv_integral(const reduced& z) {
    const double y_m = z.y_m;
    const double c = 2.0 * y_m * y_m;
    const auto inner = [y_m, c](double x) {
        const auto h = [x, y_m, c](double d) {
            const double y = x - d;
            if (y > 0.0)  // then 0 < y <= x <= y_m
                return std::exp((x - y_m) * (x + y_m) + (y - y_m) * (y + y_m) +
                                2.0 * log_erfc_neg(y));
            // exp(y^2)(1 + erf y)^2 = exp(-y^2) erfcx(-y)^2, and erfcx(-y) <= 1 here
            const double e = erfcx(-y);
            return std::exp(d * (2.0 * x - d) - c) * (e * e);
        };
        // The integrand falls off below y = min(x, 0) at least like exp(-(2|x| d' + d'^2)) at a
        // distance d' from there; stopping where that is exp(-64) drops a relative 1e-28.
        const double ax = std::abs(std::min(x, 0.0));
        const double d_max = x > 0.0 ? x + 8.0 : 64.0 / (std::sqrt(ax * ax + 64.0) + ax);
        return detail::integrate(h, 0.0, d_max, 1e-13).value;
    };
    return integrate_to_threshold(inner, z, 1e-11);
}

// Rate [Hz] and CV with the deterministic limit handled.
struct siegert_result {
    double rate_Hz, cv;
};

siegert_result siegert(double tau_m, double t_ref, double V_th, double V_reset, double mu,
                       double sigma, bool want_cv) {
    check_siegert_args(tau_m, t_ref, V_th, V_reset, mu, sigma);
    if (!(V_reset < V_th)) return {ms_per_s / t_ref, 0.0};  // fires at once after each t_ref
    const reduced z{(V_reset - mu) / sigma, (V_th - mu) / sigma, std::max((V_th - mu) / sigma, 0.0)};
    const double s = exp_neg_sq(z.y_m);
    // No noise, or so little that exp(-y_m^2) underflows (and the rate with it, a factor of order
    // y_m / tau_m from it) or the reduced thresholds leave the double range: the deterministic limit.
    if (sigma == 0.0 || !(s > 0.0) || !std::isfinite(z.y_r)) {
        if (!(mu > V_th)) return {0.0, nan};
        const double T = t_ref + tau_m * std::log1p((V_th - V_reset) / (mu - V_th));
        return {ms_per_s / T, 0.0};
    }
    // 1/(r tau_m) = exp(y_m^2) [ (t_ref/tau_m) exp(-y_m^2) + sqrt(pi) J_s ] = exp(y_m^2) D_s
    const double D_s = (t_ref / tau_m) * s + scaled_rate_integral(z) / std::numbers::inv_sqrtpi;
    const double rate = ms_per_s * s / (tau_m * D_s);
    if (!want_cv) return {rate, nan};
    if (rate == 0.0) return {0.0, nan};
    // CV^2 = 2 pi (r tau_m)^2 K = 2 pi K_s / D_s^2 (the exp(2 y_m^2) scales cancel)
    const double K_s = scaled_cv_integral(z);
    return {rate, std::sqrt(2.0 * std::numbers::pi * K_s) / D_s};
}

}  // namespace

// ---- deterministic F-I curves -------------------------------------------------------------------

double lif_first_spike_time(const neuron_params& p, double I_pA, double V0_mV) {
    if (V0_mV >= p.V_th) return 0.0;
    const double V_inf = p.E_L + I_pA / p.g_L;
    if (!(V_inf > p.V_th)) return inf;
    const double tau_m = p.C_m / p.g_L;
    // ln((V_inf - V0)/(V_inf - V_th)) = log1p((V_th - V0)/(V_inf - V_th)): exact far above rheobase
    return tau_m * std::log1p((p.V_th - V0_mV) / (V_inf - p.V_th));
}

double lif_rate(const neuron_params& p, double I_pA) {
    const double V_inf = p.E_L + I_pA / p.g_L;
    if (!(V_inf > p.V_th)) return 0.0;
    return ms_per_s / (p.t_ref + lif_first_spike_time(p, I_pA, p.V_reset));
}

double qif_rheobase(const neuron_params& p) {
    const double d = p.V_c - p.E_L;
    return p.k * d * d / 4.0;
}

double qif_rate(const neuron_params& p_in, double I_pA) {
    const neuron_params p = with_model_defaults(p_in, model_kind::qif);
    const double V_m = 0.5 * (p.E_L + p.V_c);
    const double a = p.V_peak - V_m;  // spike detection, from the vertex of the parabola [mV]
    const double b = p.V_reset - V_m; // reset, same origin [mV]
    const double excess = (I_pA - qif_rheobase(p)) / p.k;  // [mV^2]
    double travel;                                          // V_reset -> V_peak [ms]
    if (excess > 0.0) {
        // atan(a/D) - atan(b/D) = atan2((a - b) D, D^2 + a b), in (0, pi) since a > b: no
        // cancellation when both arguments are large and of one sign.
        const double D = std::sqrt(excess);
        travel = p.C_m / (p.k * D) * std::atan2((a - b) * D, D * D + a * b);
    } else {
        // Fixed points V_m -+ D; the neuron fires only if it is reset above the unstable one.
        const double D = std::sqrt(-excess);
        if (!(b > D)) return 0.0;
        if (D == 0.0) {
            travel = p.C_m / p.k * (1.0 / b - 1.0 / a);
        } else {
            // (1/(2D)) ln[(a - D)(b + D)/((a + D)(b - D))] as two log1p of small arguments
            travel = p.C_m / (2.0 * p.k * D) *
                     (std::log1p(-2.0 * D / (a + D)) + std::log1p(2.0 * D / (b - D)));
        }
    }
    return ms_per_s / (p.t_ref + travel);
}

double eif_rheobase(const neuron_params& p) { return p.g_L * (p.V_T - p.E_L - p.Delta_T); }

double eif_rate(const neuron_params& p_in, double I_pA) {
    const neuron_params p = with_model_defaults(p_in, model_kind::eif);
    // C_m dV/dt = F(V), F convex (F'' > 0) with its least value at V_T.
    const auto F = [&](double V) {
        return -p.g_L * (V - p.E_L) + p.g_L * p.Delta_T * std::exp((V - p.V_T) / p.Delta_T) + I_pA;
    };
    const double from = p.V_reset, to = std::max(p.V_reset, p.V_peak);
    const double V_least = std::clamp(p.V_T, from, to);
    if (!(F(V_least) > 0.0)) return 0.0;  // a fixed point between reset and peak holds V
    // The travel time, split where 1/F peaks (sharply near rheobase) and where the exponential
    // sets in, 40 Delta_T below V_T: a layer of a small Delta_T far from V_reset fell between
    // the rule's nodes (3e-8 off at Delta_T = 1 uV).
    const auto dt_dV = [&](double V) { return p.C_m / F(V); };
    const double onset = std::clamp(p.V_T - 40.0 * p.Delta_T, from, V_least);
    double travel = 0.0;  // [ms]
    for (const auto& [a, b] : {std::pair{from, onset}, std::pair{onset, V_least}, std::pair{V_least, to}})
        if (b > a) travel += detail::integrate(dt_dV, a, b, 1e-12).value;
    return ms_per_s / (p.t_ref + travel);
}

// ---- noisy LIF ----------------------------------------------------------------------------------

double siegert_rate(double tau_m_ms, double t_ref_ms, double V_th_rel_mV, double V_reset_rel_mV,
                    double mu_mV, double sigma_mV) {
    return siegert(tau_m_ms, t_ref_ms, V_th_rel_mV, V_reset_rel_mV, mu_mV, sigma_mV, false).rate_Hz;
}

double siegert_rate(const neuron_params& p, double I_pA, double sigma_V_mV) {
    return siegert_rate(p.C_m / p.g_L, p.t_ref, p.V_th - p.E_L, p.V_reset - p.E_L, I_pA / p.g_L,
                        std::numbers::sqrt2 * sigma_V_mV);
}

double fourcaud_brunel_shift(double sigma_mV, double tau_s_ms, double tau_m_ms) {
    constexpr double alpha = std::numbers::sqrt2 * 1.4603545088095868;  // sqrt(2) |zeta(1/2)|
    return sigma_mV * 0.5 * alpha * std::sqrt(tau_s_ms / tau_m_ms);
}

double ou_sigma(const neuron_params& p, double sigma_I_pA, double tau_I_ms) {
    return sigma_I_pA / p.g_L * std::sqrt(2.0 * tau_I_ms * p.g_L / p.C_m);
}

double coloured_noise_rate(const neuron_params& p, double I_pA, double sigma_I_pA, double tau_I_ms) {
    const double tau_m = p.C_m / p.g_L, sigma = ou_sigma(p, sigma_I_pA, tau_I_ms);
    const double shift = fourcaud_brunel_shift(sigma, tau_I_ms, tau_m);
    return siegert_rate(tau_m, p.t_ref, p.V_th - p.E_L + shift, p.V_reset - p.E_L + shift, I_pA / p.g_L, sigma);
}

double siegert_cv(double tau_m_ms, double t_ref_ms, double V_th_rel_mV, double V_reset_rel_mV,
                  double mu_mV, double sigma_mV) {
    return siegert(tau_m_ms, t_ref_ms, V_th_rel_mV, V_reset_rel_mV, mu_mV, sigma_mV, true).cv;
}

double siegert_cv(const neuron_params& p, double I_pA, double sigma_V_mV) {
    return siegert_cv(p.C_m / p.g_L, p.t_ref, p.V_th - p.E_L, p.V_reset - p.E_L, I_pA / p.g_L,
                      std::numbers::sqrt2 * sigma_V_mV);
}

// ---- sparse balanced network --------------------------------------------------------------------

namespace {

struct brunel_input {
    double mu, sigma;  // [mV]
};

brunel_input brunel_input_at(const brunel_network& n, double nu_Hz) {
    const double gamma = n.C_I / n.C_E;
    const double tau_s = n.tau_m_ms / ms_per_s;
    return {n.C_E * n.J_mV * tau_s * (n.nu_ext_Hz + nu_Hz * (1.0 - n.g * gamma)),
            n.J_mV * std::sqrt(n.C_E * tau_s * (n.nu_ext_Hz + nu_Hz * (1.0 + n.g * n.g * gamma)))};
}

void check_brunel(const brunel_network& n) {
    if (!(n.J_mV > 0.0 && n.C_E > 0.0 && n.tau_m_ms > 0.0 && n.g >= 0.0 && n.C_I >= 0.0 && n.nu_ext_Hz >= 0.0 &&
          n.t_ref_ms > 0.0))
        throw config_error("brunel_rate: J, C_E, tau_m and t_ref must be positive and g, C_I, nu_ext non-negative");
}

double brunel_rhs(const brunel_network& n, double nu_Hz) {
    const brunel_input in = brunel_input_at(n, nu_Hz);
    return siegert_rate(n.tau_m_ms, n.t_ref_ms, n.V_th_rel_mV, n.V_reset_rel_mV, in.mu, in.sigma);
}

}  // namespace

double brunel_threshold_rate(const brunel_network& n) {
    check_brunel(n);
    return n.V_th_rel_mV / (n.C_E * n.J_mV * n.tau_m_ms / ms_per_s);
}

double brunel_rate(const brunel_network& n) {
    check_brunel(n);
    // f(nu) = rhs(nu) - nu: f(0) >= 0, f(1/t_ref) <= 0 (no neuron fires faster).
    const double top = ms_per_s / n.t_ref_ms;
    const int grid = 2000;
    double lo = 0.0, hi = top;
    for (int k = 1; k <= grid; ++k) {
        const double nu = top * k / grid;
        if (brunel_rhs(n, nu) - nu <= 0.0) {
            hi = nu;
            lo = top * (k - 1) / grid;
            break;
        }
    }
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
        const double mid = 0.5 * (lo + hi);
        (brunel_rhs(n, mid) - mid > 0.0 ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

double brunel_cv(const brunel_network& n) {
    const brunel_input in = brunel_input_at(n, brunel_rate(n));
    return siegert_cv(n.tau_m_ms, n.t_ref_ms, n.V_th_rel_mV, n.V_reset_rel_mV, in.mu, in.sigma);
}

// ---- adaptation ---------------------------------------------------------------------------------

namespace {

// The r that solves r = rate(p, I - b tau_w r), for a = 0 and b >= 0; `model` names them in errors.
template <class Rate>
double adapted_steady_rate(const neuron_params& p, double I_pA, const char* model, Rate rate) {
    if (p.a != 0.0)
        throw config_error(std::string("the adapted rate of the ") + model + ": a = " + format_number(p.a) +
                           " nS must be 0 (with a != 0 the mean adaptation current depends on <V>)");
    if (p.b < 0.0)
        throw config_error(std::string("the adapted rate of the ") + model + ": b = " + format_number(p.b) +
                           " pA must be >= 0 (negative b is positive feedback: no unique steady state)");
    // <w> [pA] = b [pA] tau_w [ms] r [Hz] / 1000
    const double w_per_Hz = p.b * p.tau_w / ms_per_s;
    // g(r) = rate(I - w_per_Hz r) - r decreases from g(0) >= 0 to g(r_0) <= 0.
    double lo = 0.0, hi = rate(p, I_pA);
    if (hi == 0.0 || w_per_Hz == 0.0) return hi;
    while (true) {
        const double mid = 0.5 * (lo + hi);
        if (!(mid > lo && mid < hi)) break;
        if (rate(p, I_pA - w_per_Hz * mid) > mid)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

}  // namespace

double alif_steady_rate(const neuron_params& p, double I_pA) {
    return adapted_steady_rate(p, I_pA, "alif", [](const neuron_params& q, double I) { return lif_rate(q, I); });
}

double adex_steady_rate(const neuron_params& p_in, double I_pA) {
    const neuron_params p = with_model_defaults(p_in, model_kind::adex);
    return adapted_steady_rate(p, I_pA, "adex", [](const neuron_params& q, double I) { return eif_rate(q, I); });
}

}  // namespace ifsim::analysis
