// The theory that ifsim ships beside its simulations: F-I curves of the deterministic LIF, QIF and EIF,
// the Siegert rate and ISI CV of the LIF driven by white noise, the adaptation self-consistency, and
// the statistics of recorded spike trains (rate, ISI CV, serial correlation, Fano factor, population
// rate). All double precision, in the default units: mV, ms, pA, pF, nS; rates in Hz.
// Every function is deterministic (same inputs, same bits) and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ifsim/models/params.hpp"

namespace ifsim::analysis {

// ---- special functions ------------------------------------------------------------------------

// Scaled complementary error function erfcx(x) = exp(x^2) erfc(x), to a few ulp for every real x.
// Decays like 1/(x sqrt(pi)) for x -> +inf (0 at +inf); grows like 2 exp(x^2) for x -> -inf and
// returns +inf where that overflows a double (x < -26.64). NaN gives NaN.
double erfcx(double x);

// ---- deterministic F-I curves -----------------------------------------------------------------

// Time [ms] for the LIF (C_m, g_L, E_L, V_th of p) driven by the constant current I_pA to go from
// V0_mV to V_th: tau_m ln((V_inf - V0)/(V_inf - V_th)), V_inf = E_L + I/g_L. 0 if V0 >= V_th;
// +inf if V_inf <= V_th (it never gets there).
double lif_first_spike_time(const neuron_params& p, double I_pA, double V0_mV);

// Firing rate [Hz] of the LIF under constant current I_pA: 1/(t_ref + T(V_reset -> V_th)), where T
// is lif_first_spike_time; 0 when V_inf <= V_th. Continuous at rheobase g_L (V_th - E_L) (the ISI
// diverges like tau_m ln(1/(I - I_rheo))). If V_reset >= V_th (allowed with t_ref > 0) the rate
// above rheobase is 1/t_ref.
double lif_rate(const neuron_params& p, double I_pA);

// Rheobase [pA] of the QIF, k (V_c - E_L)^2 / 4.
double qif_rheobase(const neuron_params& p);

// Exact firing rate [Hz] of the QIF C_m dV/dt = k (V - E_L)(V - V_c) + I under constant current:
// 1/(t_ref + travel time from V_reset to V_peak). V_peak = NaN means the model default (+20 mV).
// Above rheobase the travel time is C_m/(k Delta) [atan((V_peak - V_m)/Delta) - atan((V_reset -
// V_m)/Delta)], V_m = (E_L + V_c)/2, Delta = sqrt((I - I_rheo)/k) (evaluated as one atan2 so it
// does not cancel). At or below rheobase the rate is 0, except when V_reset lies above the unstable
// fixed point V_m + sqrt((I_rheo - I)/k): then the neuron still fires periodically and the travel
// time is the exact hyperbolic one (C_m/(2 k D)) ln[(a - D)(b + D)/((a + D)(b - D))] with
// a = V_peak - V_m, b = V_reset - V_m, D = sqrt((I_rheo - I)/k).
double qif_rate(const neuron_params& p, double I_pA);

// Rheobase [pA] of the EIF, g_L (V_T - E_L - Delta_T): the least current with no fixed point.
double eif_rheobase(const neuron_params& p);

// Firing rate [Hz] of the EIF C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T) + I
// under constant current: 1/(t_ref + travel time from V_reset to V_peak), the travel time
// Int C_m dV / F(V) by adaptive quadrature to ~1e-10 relative (V_peak = NaN: the model default,
// V_T + 5 Delta_T). 0 when a fixed point lies between V_reset and V_peak (below rheobase, unless
// V_reset lies above the unstable one). The onset at rheobase is continuous (type I).
double eif_rate(const neuron_params& p, double I_pA);

// ---- LIF driven by white noise (Brunel 2000, Brunel & Hakim 1999) -----------------------------
//
// The model is tau_m dV/dt = -V + mu + sigma sqrt(tau_m) xi(t) with V measured from E_L; mu =
// V_inf - E_L [mV] and sigma = sqrt(2) sigma_V [mV], sigma_V being the stationary standard deviation
// of the free membrane potential (SCIENCE.md). V_th_rel and V_reset_rel are measured from E_L.
// y_th = (V_th_rel - mu)/sigma, y_r = (V_reset_rel - mu)/sigma.

// Stationary rate [Hz] (Siegert; Brunel 2000 eq. 21):
//   1/r = t_ref + tau_m sqrt(pi) Int_{y_r}^{y_th} exp(u^2)(1 + erf u) du,
// integrated as erfcx(-u), adaptively to ~1e-10 relative, with the integrand scaled by
// exp(-max(y_th, 0)^2) so that it never overflows: far below threshold the rate underflows to 0
// gracefully. sigma = 0 gives the deterministic LIF rate; V_reset_rel >= V_th_rel (with t_ref > 0)
// gives 1/t_ref. Throws config_error for tau_m <= 0, t_ref < 0, sigma < 0, V_reset_rel >= V_th_rel
// with t_ref = 0, or non-finite inputs.
double siegert_rate(double tau_m_ms, double t_ref_ms, double V_th_rel_mV, double V_reset_rel_mV,
                    double mu_mV, double sigma_mV);
// The same for the LIF of p under mean current I_pA and white noise of stationary std sigma_V_mV:
// mu = I/g_L, sigma = sqrt(2) sigma_V, thresholds relative to E_L.
double siegert_rate(const neuron_params& p, double I_pA, double sigma_V_mV);

// Coefficient of variation of the interspike intervals of the same process (Brunel 2000 appendix A):
//   CV^2 = 2 pi (r tau_m)^2 Int_{y_r}^{y_th} e^{x^2} dx Int_{-inf}^{x} e^{y^2} (1 + erf y)^2 dy,
// with r the Siegert rate (t_ref included: it shifts the mean ISI, not its variance). Evaluated in
// scaled form (every exponential combined in one exponent, divided by exp(2 max(y_th, 0)^2)), so it
// is finite for any thresholds: -> 1 far below threshold, -> 0 for sigma -> 0 above it (0 at
// sigma = 0 when the deterministic neuron fires; NaN when the rate is 0). Same arguments and
// errors as siegert_rate.
double siegert_cv(double tau_m_ms, double t_ref_ms, double V_th_rel_mV, double V_reset_rel_mV,
                  double mu_mV, double sigma_mV);
double siegert_cv(const neuron_params& p, double I_pA, double sigma_V_mV);

// Filtered noise (exponential synapses, or an OU current) of correlation time tau_s << tau_m:
// Fourcaud & Brunel (2002) shift the Siegert threshold and reset by sigma (alpha / 2)
// sqrt(tau_s / tau_m), alpha = sqrt(2) |zeta(1/2)|, to first order in sqrt(tau_s / tau_m).
// Beyond max_filter_over_tau_m (sqrt > 0.5) the first-order shift is no prediction to stand by.
inline constexpr double max_filter_over_tau_m = 0.25;
double fourcaud_brunel_shift(double sigma_mV, double tau_s_ms, double tau_m_ms);

// The Siegert sigma [mV] of an OU current of std sigma_I [pA] and correlation time tau_I into the
// LIF of p: its white-noise limit, sigma^2 = 2 (sigma_I / g_L)^2 tau_I / tau_m.
double ou_sigma(const neuron_params& p, double sigma_I_pA, double tau_I_ms);

// Stationary rate [Hz] of the LIF of p under mean current I_pA and an OU current (sigma_I,
// tau_I): Siegert at ou_sigma with Fourcaud & Brunel's shift (tau_I <= max_filter_over_tau_m
// tau_m: within 1.5 % of a simulation at tau_I = tau_m / 10, 4 % at tau_m / 4).
double coloured_noise_rate(const neuron_params& p, double I_pA, double sigma_I_pA, double tau_I_ms);

// ---- sparse balanced network (Brunel 2000, model A) --------------------------------------------
//
// N_E excitatory and N_I inhibitory LIF neurons, each receiving C_E excitatory synapses of J [mV],
// C_I inhibitory ones of -g J (delta synapses) and C_E external Poisson inputs at nu_ext of J. In
// the asynchronous-irregular state every neuron fires at the rate nu that solves
//   nu = siegert(mu(nu), sigma(nu)),  mu = C_E J tau_m (nu_ext + nu (1 - g gamma)),
//   sigma^2 = J^2 C_E tau_m (nu_ext + nu (1 + g^2 gamma)),  gamma = C_I / C_E
// (Brunel 2000, eqs. 4, 5 and 21; thresholds relative to E_L).
struct brunel_network {
    double tau_m_ms = 20.0, t_ref_ms = 2.0;
    double V_th_rel_mV = 20.0, V_reset_rel_mV = 10.0;  // from E_L
    double J_mV = 0.1;
    double g = 5.0;          // relative strength of inhibition
    double C_E = 1000.0, C_I = 250.0;
    double nu_ext_Hz = 20.0; // rate of each external input
};
// nu_thr = V_th_rel / (C_E J tau_m): the external rate that brings mu to threshold alone.
double brunel_threshold_rate(const brunel_network& n);
// The self-consistent rate [Hz]: the lowest root of siegert - nu on [0, 1/t_ref], bracketed on a
// grid and bisected to round-off. Throws config_error for non-positive J, C_E, tau_m or negative
// g, C_I, nu_ext.
double brunel_rate(const brunel_network& n);
// The ISI CV at that rate (siegert_cv at the same mu, sigma).
double brunel_cv(const brunel_network& n);

// ---- adaptation ---------------------------------------------------------------------------------

// Steady rate [Hz] of the adaptive LIF (aLIF with a = 0) under constant current, for tau_w much
// longer than the ISI: the solution of r = lif_rate(p, I - b tau_w r) (mean adaptation current
// <w> = b tau_w r, SCIENCE.md), found by bisection to round-off. The right-hand side decreases in r,
// so the solution is unique. Throws config_error if p.a != 0 (then <w> also depends on <V>).
double alif_steady_rate(const neuron_params& p, double I_pA);
// The same for the AdEx (a = 0), with eif_rate for lif_rate.
double adex_steady_rate(const neuron_params& p, double I_pA);

// ---- spike-train statistics ---------------------------------------------------------------------
//
// Spike times are in ms and sorted ascending. Only spikes with t_start_ms <= t < t_stop_ms count,
// and ISIs are taken between consecutive counted spikes of the same train. Quantities that need
// more data than there is (a CV from fewer than 2 ISIs, a correlation from fewer than 2 pairs or of
// constant ISIs) are NaN. Throws config_error unless t_start_ms < t_stop_ms (both finite).

struct isi_stats {
    std::uint64_t n_spikes = 0;        // spikes in the window (all trains)
    std::uint64_t n_isi = 0;           // intervals between consecutive spikes in the window
    double rate_Hz = 0.0;              // n_spikes / (n_trains (t_stop - t_start)) [Hz]
    double mean_isi_ms = 0.0;          // mean ISI [ms] (NaN without ISIs)
    double cv = 0.0;                   // sample std (n - 1 normalisation) / mean of the ISIs
    double serial_corr_1 = 0.0;        // lag-1 serial correlation coefficient of successive ISIs;
                                       // NaN for regular trains (ISI spread under 1e-4 of the mean)
    double serial_corr_1_stderr = 0.0; // 1/sqrt(n_pairs): its standard error for a renewal process;
                                       // NaN where serial_corr_1 is
};

// Statistics of one train. serial_corr_1 is the Pearson correlation of the pairs (ISI_k, ISI_k+1),
// k = 1..n_isi-1, so an alternating short/long sequence gives exactly -1. Its estimate of a
// renewal process has a bias of about -1/n_isi, well inside the stderr.
isi_stats isi_statistics(std::span<const double> times_ms, double t_start_ms, double t_stop_ms);

// How pooled_isi_statistics centres the ISI pairs for the serial correlation.
enum class serial_centring {
    // Each train on its own pair means: rate differences between neurons cannot fake a
    // correlation, but a train of n pairs biases a renewal estimate by about -1/n (-0.05 for
    // 20 ISIs per neuron), which a large population turns into many standard errors.
    per_train,
    // All trains on the population's pair means: unbiased (-1/total pairs) for neurons that share
    // one ISI distribution, the right choice for a homogeneous population.
    population
};

// Statistics of a population, one train per neuron. rate_Hz is the mean rate per neuron; mean_isi_ms
// and cv use the ISIs of all trains pooled (so rate heterogeneity across neurons raises the CV);
// serial_corr_1 pools the pairs of all trains, centred as `centring` says, and its stderr is
// 1/sqrt(total pairs) (NaN where serial_corr_1 is).
isi_stats pooled_isi_statistics(const std::vector<std::vector<double>>& trains, double t_start_ms,
                                double t_stop_ms, serial_centring centring = serial_centring::per_train);

// Fano factor of spike counts in the consecutive windows (e_j, e_j+1] of window_steps steps of dt
// each, e_j = (first_step + j window_steps) dt, as many as fit up to last_step (a partial last
// window is dropped): the within-train count variance (each train about its own mean count, n - 1
// normalisation, pooled over trains) divided by the mean count; 1 for a Poisson process. The edges
// are computed as a run computes a spike's time ((step + offset) dt), so a spike on the grid is in
// the window whose end it is, never in the next by round-off. `with_start`: a spike at e_0 itself
// counts in the first window (what a record holds at its own start). Trains sorted. NaN with fewer
// than 2 windows or no spikes in them; config_error for dt_ms <= 0, window_steps = 0 or
// last_step < first_step.
double fano_factor(const std::vector<std::vector<double>>& trains, double dt_ms, std::uint64_t first_step,
                   std::uint64_t last_step, std::uint64_t window_steps, bool with_start);

// Population rate [Hz per neuron] in bins [t_start + j bin, t_start + (j+1) bin), j = 0..n-1 with
// n = floor((t_stop - t_start)/bin) (a partial last bin is dropped): spikes in the bin over all
// trains / (n_trains bin). Throws config_error for bin_ms <= 0 or an empty population.
std::vector<double> population_rate(const std::vector<std::vector<double>>& trains, double bin_ms,
                                    double t_start_ms, double t_stop_ms);

}  // namespace ifsim::analysis
