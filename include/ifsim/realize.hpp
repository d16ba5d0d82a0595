// Per-neuron values from a `distribution` (spec.hpp): constants, linspace, uniform, normal and
// arrays become one double per neuron. Random rules draw from the stateless RNG (random.hpp) with
// neuron i of the population using id first_id + i, step 0 and purpose init, so the values do not
// depend on threads, backend or how the population is split; callers give each parameter its own
// stream so that different parameters of one neuron are independent.
#pragma once

#include <cstdint>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// One value per neuron, n of them:
//   constant  a for every neuron
//   linspace  n points from a to b inclusive, endpoints exact; n == 1 gives a
//   uniform   [a, b) from a 53-bit uniform (words x, y of the init block)
//   normal    mean a, standard deviation b (Box-Muller in double, words z, w of the init block)
//   array     d.values, which must hold n values (throws config_error otherwise)
// Deterministic: same (seed, stream, first_id) gives the same values; realize_one(d, n, i, ...)
// equals realize(d, n, ...)[i].
std::vector<double> realize(const distribution& d, std::uint64_t n, std::uint64_t seed,
                            std::uint32_t stream, std::uint64_t first_id);

// Value of neuron i (0 <= i < n) alone.
double realize_one(const distribution& d, std::uint64_t n, std::uint64_t i, std::uint64_t seed,
                   std::uint32_t stream, std::uint64_t first_id);

}  // namespace ifsim
