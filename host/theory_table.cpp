// Per-neuron theory for a run, from the same realised parameters and currents the backends use.
#include "ifsim/theory_table.hpp"

#include <cstdio>
#include <optional>

#include "ifsim/analysis.hpp"
#include "ifsim/population_setup.hpp"

namespace ifsim {
namespace {

// The theory that applies to a neuron of `pop`, or nothing.
std::optional<double> predicted_rate(const population_spec& pop, const neuron_params& p, double I, double sigma_V) {
    const input_spec& in = pop.input;
    const bool only_white = in.sigma_I.is_constant() && in.sigma_I.a == 0.0 && in.poisson_count == 0 &&
                            in.steps.time_ms.empty();
    if (!only_white) return std::nullopt;
    switch (pop.model) {
        case model_kind::lif:
            return sigma_V > 0.0 ? analysis::siegert_rate(p, I, sigma_V) : analysis::lif_rate(p, I);
        case model_kind::alif:
            if (sigma_V == 0.0 && p.a == 0.0) return analysis::alif_steady_rate(p, I);
            return std::nullopt;
        case model_kind::qif:
            if (sigma_V == 0.0) return analysis::qif_rate(p, I);
            return std::nullopt;
        default: return std::nullopt;
    }
}

}  // namespace

std::string theory_csv(const run_spec& spec) {
    std::string csv = "population,neuron,I_e_pA,rate_theory_Hz\n";
    if (!spec.projections.empty()) {
        const auto rates = network_mean_field(spec);
        if (!rates) return csv;
        char row[256];
        for (std::size_t k = 0; k < spec.populations.size(); ++k) {
            const population_spec& pop = spec.populations[k];
            for (std::uint64_t i = 0; i < pop.size; ++i) {
                std::snprintf(row, sizeof row, "%s,%llu,%.17g,%.17g\n", pop.name.c_str(), (unsigned long long)i,
                              pop.input.I_e.a, (*rates)[k]);
                csv += row;
            }
        }
        return csv;
    }
    std::uint64_t first_id = 0;
    char line[256];
    for (const auto& pop : spec.populations) {
        const auto params = realize_params(pop, spec.simulation, first_id);
        const auto bias = realize_bias(pop, spec.simulation, first_id);
        const auto sigma = detail::values_of(pop.input.sigma_V, pop.size, spec.simulation.seed,
                                             value_stream::sigma_V, first_id);
        for (std::uint64_t i = 0; i < pop.size; ++i) {
            const double I = detail::pick(bias, i);
            const auto rate = predicted_rate(pop, params[params.size() > 1 ? i : 0], I, detail::pick(sigma, i));
            if (!rate) break;  // the same for every neuron of the population
            std::snprintf(line, sizeof line, "%s,%llu,%.17g,%.17g\n", pop.name.c_str(), (unsigned long long)i, I, *rate);
            csv += line;
        }
        first_id += pop.size;
    }
    return csv;
}

}  // namespace ifsim
