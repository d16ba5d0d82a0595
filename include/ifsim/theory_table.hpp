// The predicted stationary rate of every neuron of a run, where ifsim has a theory for it:
//   lif/alif(a = 0) without noise: the F-I curve (aLIF: its mean-adaptation rate, for tau_w >> ISI);
//   lif with white noise only:     the Siegert rate;
//   lif with Poisson input:        the diffusion approximation (Siegert), parameters constant;
//                                   into exp_current synapses, with Fourcaud & Brunel's shift;
//   qif without noise:             the exact QIF F-I curve;
//   a network (any [[projection]]): the mean-field rate of its population, for every neuron, where
//                                   network_mean_field applies; otherwise no rows at all.
// Other populations (OU input, step currents, eif, adex) have no row, and the table says why.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// What make_theory_table makes: the CSV besides the rates, or the rates alone (stats reads those,
// and the CSV takes about 100 bytes a neuron).
enum class theory_parts { rates, rates_and_csv };

struct theory_table {
    std::string csv;                  // header "population,neuron,I_e_pA,rate_theory_Hz", a row per neuron
                                      // (empty where only the rates were asked for)
    // A line per population without rows (why) or with an approximate theory (which), or one for
    // a network: "population 'E': coloured (OU) noise has no closed-form rate here".
    std::vector<std::string> notes;
    // Per population with rows: each neuron's predicted rate [Hz] (the rows, in neuron order from
    // 0), and where the diffusion theory gives it (a noisy LIF with one parameter set, a network's
    // mean field), the ISI CV.
    std::map<std::string, std::vector<double>> rate_Hz;
    std::map<std::string, double> cv;
};
// Refused (runtime_failure) where it cannot fit in memory.
theory_table make_theory_table(const run_spec& spec, theory_parts parts = theory_parts::rates_and_csv);

// The stationary rate [Hz] of every population of a network in the diffusion approximation
// (Brunel 2000, generalised): for population p,
//   mu_p = I_e/g_L + tau_m (sum_inputs rate K E[J]),
//   sigma_p^2 = 2 sigma_V^2 + 2 (sigma_I / g_L)^2 tau_I / tau_m + tau_m (sum_inputs rate K E[J^2]),
//   nu_p = siegert(mu_p, sigma_p),
// summing the Poisson inputs (count, rate, weight) and every projection (mean in-degree K of its
// rule, weight moments of its distribution; a from_file projection's rows over its targets and its
// weight column's moments, where it has one; the source's rate: a Poisson generator's is its
// rate); J is a delta synapse's weight, an exp_current synapse's jump of the same charge,
// w tau_syn / C_m, and its filtering shifts the Siegert threshold and reset by
// sigma_p (alpha / 2) sqrt(tau_syn / tau_m), alpha = sqrt(2) |zeta(1/2)| (Fourcaud & Brunel 2002,
// for tau_syn << tau_m). Solved by damped fixed-point iteration from rest. Nothing (nullopt) where
// mean_field_limit names a reason, or where the iteration does not converge. With `cv`, also
// each population's ISI CV at those rates (Siegert's, Brunel 2000 appendix; NaN for a population
// with exp_current input, for which there is no such result here). With `high`, the fixed point the
// iteration reaches from near the populations' highest rates (0.9 / max(t_ref, 1 ms)) where it is
// another one (a bistable network: a run may settle there instead), else empty. With `on_grid`,
// each population's rate at those input rates with mu raised by |D| dt / 2, D its delta jumps'
// summed drive [mV/ms]: in a run every jump lands at its step's end, so the threshold sees V's
// sawtooth at its top, that much above the diffusion's mean (docs/models.md); the rate itself for
// exp_current input, whose charge arrives within the steps.
std::optional<std::vector<double>> network_mean_field(const run_spec& spec, std::vector<double>* cv = nullptr,
                                                      std::vector<double>* high = nullptr,
                                                      std::vector<double>* on_grid = nullptr);

// Empty where network_mean_field applies: every population a LIF with constant parameters, bias,
// white and OU noise and no step current, every projection a delta or exp_current synapse, each
// population's input (Poisson input, projections, white noise as delta, OU noise as exp_current
// of tau_syn = tau_I) of one kind and, for exp_current, one tau_syn of at most tau_m / 4, every
// generator Poisson throughout the run. Otherwise the first obstacle, as "population 'E' is model eif (lif only)".
std::string mean_field_limit(const run_spec& spec);

// The tau_syn of the exp_current input to `pop` [ms], 0 for delta (where mean_field_limit is empty).
double mean_field_tau_syn(const run_spec& spec, const population_spec& pop);

}  // namespace ifsim
