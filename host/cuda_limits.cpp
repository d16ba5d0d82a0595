// The CUDA backend's per-population limits, checked from the config alone (plain C++: the CLI asks
// whether or not the CUDA library was built).
#include <algorithm>
#include <cmath>
#include <string>

#include "ifsim/connectivity.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/models.hpp"
#include "ifsim/network.hpp"
#include "ifsim/spec.hpp"
#include "ifsim/synapses.hpp"

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

namespace {

// Synapses projection pr surely has: the expected count, less 5 standard deviations for
// pairwise_bernoulli (a binomial's is under the square root of its mean); 0 for a file's.
double least_synapses(const run_spec& spec, const projection_spec& pr) {
    if (pr.rule.kind == rule_kind::from_file) return 0.0;
    const double n = expected_synapses(pr.rule, double(source_size(spec, pr.source)),
                                       double(source_size(spec, pr.target)), pr.source == pr.target);
    return pr.rule.kind == rule_kind::pairwise_bernoulli ? std::max(0.0, std::floor(n - 5.0 * std::sqrt(n))) : n;
}

}  // namespace

device_memory_need least_device_memory(const run_spec& spec) {
    const std::size_t real_bytes = spec.simulation.real == precision::single ? sizeof(float) : sizeof(double);
    device_memory_need need;
    // The rings hold the longest delay drawn: at least a constant's, or a distribution's least.
    double longest = 0.0;
    for (const projection_spec& pr : spec.projections) {
        if (pr.delay_from_file || least_synapses(spec, pr) == 0.0) continue;
        const double ms = pr.delay.type == synapse_distribution::kind::constant ? pr.delay.a
                                                                                : synapse_value_extremes(pr.delay).first;
        if (std::isfinite(ms)) longest = std::max(longest, std::min(delay_steps(ms, spec.simulation.dt_ms), max_delay_steps));
    }
    need.ring_slots = std::uint32_t(longest) + 1;
    for (const population_spec& p : spec.populations) {
        const bool adaptive = with_model(p.model, []<class Model>() { return Model::adaptive; });
        const bool ou = !(p.input.sigma_I.is_constant() && p.input.sigma_I.a == 0.0);
        need.parts.push_back({"population '" + p.name + "' state", p.size * real_bytes * (2 + adaptive + ou)});
        // Named as the backend names them: rings where a projection feeds a channel, else the
        // state of one only Poisson input feeds.
        std::size_t channels = 0;
        bool rings = false;
        for (const synapse_channel& c : channels_onto(spec, p)) {
            channels += channel_bytes_per_neuron(c, need.ring_slots, real_bytes);
            rings = rings || c.has_ring;
        }
        if (channels > 0)
            need.parts.push_back({"population '" + p.name + (rings ? "' synaptic ring buffer" : "' synaptic state"),
                                  p.size * channels});
    }
    // Each synapse's target (its weight too where they differ once in fixed point, which a
    // distribution's draws may not: not counted); a row offset per source.
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        const double n = least_synapses(spec, pr);
        if (n == 0.0) continue;
        need.parts.push_back({"projection " + std::to_string(k) + " synapses",
                              std::size_t(n * 4.0 + 8.0 * double(source_size(spec, pr.source) + 1))});
    }
    return need;
}

}  // namespace ifsim
