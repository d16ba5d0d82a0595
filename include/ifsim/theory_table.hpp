// The predicted stationary rate of every neuron of a run, where ifsim has a theory for it:
//   lif/alif(a = 0) without noise: the F-I curve (aLIF: its self-consistent adapted rate);
//   lif with white noise only:     the Siegert rate;
//   qif without noise:             the exact QIF F-I curve.
//   a network (any [[projection]]): the mean-field rate of its population, for every neuron, where
//                                   network_mean_field applies; otherwise no rows at all.
// Other populations (OU or Poisson input, step currents, eif, adex) have no row.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// CSV with header "population,neuron,I_e_pA,rate_theory_Hz".
std::string theory_csv(const run_spec& spec);

// The stationary rate [Hz] of every population of a network in the diffusion approximation
// (Brunel 2000, generalised): for population p,
//   mu_p = I_e/g_L + tau_m (sum_inputs rate K E[w]),  sigma_p^2 = 2 sigma_V^2 + tau_m (sum_inputs rate K E[w^2]),
//   nu_p = siegert(mu_p, sigma_p),
// summing the Poisson inputs (count, rate, weight) and every projection (mean in-degree K of its
// rule, weight moments of its distribution, the source's rate: a Poisson generator's is its
// rate). Solved by damped fixed-point iteration from rest. Nothing (nullopt) unless every
// population is a LIF with constant parameters, bias and white noise and no OU or step current,
// every projection is a delta synapse, every generator is Poisson throughout the run, and the
// iteration converges.
std::optional<std::vector<double>> network_mean_field(const run_spec& spec);

}  // namespace ifsim
