// The CUDA backend's per-population limits, checked from the config alone (plain C++: the CLI asks
// whether or not the CUDA library was built).
#include <string>

#include "ifsim/cuda_info.hpp"
#include "ifsim/network.hpp"
#include "ifsim/spec.hpp"

namespace ifsim {

std::string cuda_cannot_run(const run_spec& spec) {
    for (const population_spec& p : spec.populations) {
        if (p.size > cuda_max_population)
            return "population '" + p.name + "' has " + std::to_string(p.size) +
                   " neurons; the CUDA backend holds at most 2^31 - 1 per population";
        if (const std::size_t n = channels_onto(spec, p).size(); n > cuda_max_channels)
            return "population '" + p.name + "' has " + std::to_string(n) +
                   " kinds of synaptic input (synapse, tau_syn, E_rev: its projections' and its input.poisson's); "
                   "the CUDA backend takes at most " + std::to_string(cuda_max_channels);
    }
    return {};
}

}  // namespace ifsim
