// The predicted stationary rate of every neuron of a run, where ifsim has a theory for it:
//   lif/alif(a = 0) without noise: the F-I curve (aLIF: its self-consistent adapted rate);
//   lif with white noise only:     the Siegert rate;
//   qif without noise:             the exact QIF F-I curve.
// Other populations (OU or Poisson input, step currents, eif, adex) have no row.
#pragma once

#include <string>

#include "ifsim/spec.hpp"

namespace ifsim {

// CSV with header "population,neuron,I_e_pA,rate_theory_Hz".
std::string theory_csv(const run_spec& spec);

}  // namespace ifsim
