// The mean-field (diffusion-approximation) rates of a network of LIF populations with delta or
// exponential current synapses: Brunel (2000) generalised to any number of populations, projection
// rules and weight distributions, and Fourcaud & Brunel (2002) for the synaptic filtering
// (theory_table.hpp).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "ifsim/analysis.hpp"
#include "ifsim/network.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/theory_table.hpp"
#include "ifsim/units.hpp"

namespace ifsim {
namespace {

constexpr double ms_per_s = 1000.0;

// The kind and tau_syn of every input to `pop` (white noise counts as delta, an OU current as
// filtered input of tau_syn = tau_I): one kind, and for filtered input one tau_syn, or why not.
struct input_kind {
    double tau_syn_ms = 0.0;  // 0: delta
    std::string problem;
};
input_kind input_kind_of(const run_spec& spec, const population_spec& pop) {
    bool delta = pop.input.sigma_V.a > 0.0;
    std::vector<double> taus;  // of its exp_current inputs
    const auto add = [&](synapse_kind kind, double tau_syn_ms) {
        if (kind == synapse_kind::delta) delta = true;
        else if (std::find(taus.begin(), taus.end(), tau_syn_ms) == taus.end()) taus.push_back(tau_syn_ms);
    };
    if (pop.input.poisson_on()) add(pop.input.poisson_synapse, pop.input.poisson_tau_syn_ms);
    if (pop.input.sigma_I.a > 0.0) add(synapse_kind::exp_current, pop.input.tau_I_ms);
    for (const auto& pr : spec.projections)
        if (pr.target == pop.name) add(pr.synapse, pr.tau_syn_ms);
    if (delta && !taus.empty())
        return {0.0, "both delta (or white-noise) and exp_current (or OU) input (one kind only)"};
    if (taus.size() > 1)
        return {0.0, "exp_current synapses or OU noise of " + std::to_string(taus.size()) +
                         " time constants (one tau_syn = tau_I only)"};
    return {taus.empty() ? 0.0 : taus[0], {}};
}

// The factor that makes an input's weight the voltage jump of the same charge [mV per unit]: 1
// for delta, tau_syn / C_m for exp_current.
double jump_per_weight(synapse_kind kind, double tau_syn_ms, const neuron_params& p) {
    return kind == synapse_kind::exp_current ? tau_syn_ms / p.C_m : 1.0;
}

// E[w] and E[w^2] of a weight distribution (synapses.hpp's draws).
struct moments {
    double m1, m2;
};

moments weight_moments(const synapse_distribution& d) {
    using kind = synapse_distribution::kind;
    switch (d.type) {
        case kind::constant: return {d.a, d.a * d.a};
        case kind::uniform: return {0.5 * (d.a + d.b), (d.a * d.a + d.a * d.b + d.b * d.b) / 3.0};
        case kind::normal: {  // max(0, N(|a|, b)), sign of a
            const double m = std::fabs(d.a), s = d.b;
            if (s == 0.0) return {d.a, d.a * d.a};
            const double z = m / s;
            const double Phi = 0.5 * std::erfc(-z / std::numbers::sqrt2);
            const double phi = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
            const double m1 = m * Phi + s * phi;
            const double m2 = (m * m + s * s) * Phi + m * s * phi;
            return {d.a < 0 ? -m1 : m1, m2};
        }
        case kind::lognormal: return {d.a, d.a * d.a + d.b * d.b};
    }
    return {0.0, 0.0};
}

// A projection's synapse count (its rule's mean) and weights' first two moments; a from_file
// projection's from its file (its weight column, else the config's weight).
struct synapse_moments {
    double synapses;
    moments weight;
};

synapse_moments projection_moments(const run_spec& spec, std::size_t k, std::uint64_t sources, std::uint64_t targets) {
    const projection_spec& pr = spec.projections[k];
    if (pr.rule.kind != rule_kind::from_file)
        return {expected_synapses(pr.rule, double(sources), double(targets), pr.source == pr.target),
                weight_moments(pr.weight)};
    const synapse_table file = read_projection_file(spec, k);
    if (file.weight.empty()) return {double(file.source.size()), weight_moments(pr.weight)};
    moments w{0.0, 0.0};
    for (const double x : file.weight) w.m1 += x, w.m2 += x * x;
    const double n = double(file.weight.size());
    return {n, {w.m1 / n, w.m2 / n}};
}

}  // namespace

std::string mean_field_limit(const run_spec& spec) {
    for (const auto& p : spec.populations) {
        const std::string pop = "population '" + p.name + "'";
        if (p.model != model_kind::lif) return pop + " is model " + std::string(model_name(p.model)) + " (lif only)";
        if (!p.input.I_e.is_constant()) return pop + ": I_e varies across neurons";
        if (!p.input.sigma_V.is_constant()) return pop + ": noise.sigma_V varies across neurons";
        if (!p.input.sigma_I.is_constant()) return pop + ": input.ou.sigma_I varies across neurons";
        if (!p.input.steps.time_ms.empty()) return pop + ": a step current (no stationary rate)";
        if (p.input.poisson_synapse == synapse_kind::exp_conductance && p.input.poisson_on())
            return pop + ": input.poisson has exp_conductance synapses (delta or exp_current only)";
        for (const auto& [name, d] : p.params)
            if (!d.is_constant()) return pop + ": params." + name + " varies across neurons";
    }
    for (const auto& g : spec.generators) {
        if (!sends_spikes(spec, g)) continue;
        if (g.type != generator_spec::kind::poisson) return "generator '" + g.name + "' lists spike times";
        if (g.start_ms > 0.0 || g.stop_ms < spec.simulation.duration_ms)
            return "generator '" + g.name + "' fires during part of the run only";
    }
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const auto& pr = spec.projections[k];
        const std::string proj = describe_projection(pr, k);
        if (pr.synapse == synapse_kind::exp_conductance)
            return proj + " has exp_conductance synapses (delta or exp_current only)";
    }
    for (const auto& p : spec.populations) {
        const input_kind in = input_kind_of(spec, p);
        if (!in.problem.empty()) return "population '" + p.name + "' receives " + in.problem;
        const neuron_params params = realize_params(p, spec.simulation, 0).at(0);  // constant: one set
        if (in.tau_syn_ms > analysis::max_filter_over_tau_m * params.C_m / params.g_L)
            return "population '" + p.name + "' has exp_current (or OU) input of tau_syn " + format_number(in.tau_syn_ms) +
                   " ms, tau_m " + format_number(params.C_m / params.g_L) +
                   " ms: Fourcaud & Brunel's first-order shift holds for tau_syn << tau_m (here at most tau_m / 4)";
    }
    return {};
}

double mean_field_tau_syn(const run_spec& spec, const population_spec& pop) {
    return input_kind_of(spec, pop).tau_syn_ms;
}

std::optional<std::vector<double>> network_mean_field(const run_spec& spec, std::vector<double>* cv,
                                                      std::vector<double>* high, std::vector<double>* on_grid) {
    if (!mean_field_limit(spec).empty()) return std::nullopt;
    const auto& pops = spec.populations;
    const auto index = [&](const std::string& name) {
        std::size_t i = 0;
        while (pops[i].name != name) ++i;
        return i;
    };
    struct population_theory {
        neuron_params p;
        double tau_syn_ms;           // of its exp_current input, 0 for delta
        double mu_fixed, var_fixed;  // from bias, white noise and Poisson input [mV, mV^2]
        double drive_fixed;          // the Poisson input's (and generators') jumps per second [mV/s]
        std::vector<std::size_t> source;
        std::vector<double> k_m1, k_m2;  // K E[J], K E[J^2] per incoming projection, J its jump [mV]
    };
    std::vector<population_theory> th(pops.size());
    std::uint64_t first_id = 0;
    for (std::size_t k = 0; k < pops.size(); ++k) {
        const population_spec& pop = pops[k];
        const neuron_params p = realize_params(pop, spec.simulation, first_id).at(0);  // constant: one set
        first_id += pop.size;
        const double tau_s = p.C_m / p.g_L / ms_per_s;
        const double sigma_V = pop.input.sigma_V.a;
        const input_spec& in = pop.input;
        const double poisson = double(in.poisson_count) * in.poisson_rate_Hz;
        const double J = in.poisson_weight * jump_per_weight(in.poisson_synapse, in.poisson_tau_syn_ms, p);
        th[k].p = p;
        th[k].tau_syn_ms = mean_field_tau_syn(spec, pop);
        th[k].mu_fixed = in.I_e.a / p.g_L + tau_s * poisson * J;
        th[k].drive_fixed = poisson * J;
        const double ou = in.sigma_I.a > 0.0 ? analysis::ou_sigma(p, in.sigma_I.a, in.tau_I_ms) : 0.0;
        th[k].var_fixed = 2.0 * sigma_V * sigma_V + tau_s * poisson * J * J + ou * ou;
    }
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        const std::size_t t = index(pr.target);
        const double jump = jump_per_weight(pr.synapse, pr.tau_syn_ms, th[t].p);
        const auto g = std::find_if(spec.generators.begin(), spec.generators.end(),
                                    [&](const generator_spec& x) { return x.name == pr.source; });
        const bool from_generator = g != spec.generators.end();
        const std::uint64_t sources = from_generator ? g->size : pops[index(pr.source)].size;
        const synapse_moments m = projection_moments(spec, k, sources, pops[t].size);
        const moments w{m.weight.m1 * jump, m.weight.m2 * jump * jump};
        const double K = m.synapses / double(pops[t].size);  // the mean in-degree
        // From a Poisson generator: K inputs at its fixed rate, like the population's Poisson input.
        if (from_generator) {
            const double tau_s = th[t].p.C_m / th[t].p.g_L / ms_per_s;
            th[t].mu_fixed += tau_s * K * w.m1 * g->rate_Hz;
            th[t].drive_fixed += K * w.m1 * g->rate_Hz;
            th[t].var_fixed += tau_s * K * w.m2 * g->rate_Hz;
            continue;
        }
        const std::size_t s = index(pr.source);
        th[t].source.push_back(s);
        th[t].k_m1.push_back(K * w.m1);
        th[t].k_m2.push_back(K * w.m2);
    }
    // Each population's rate, or with `cvs` its ISI CV, at the input the rates nu give; `grid`:
    // with the delta jumps' offset on the step grid (on_grid above).
    const double half_step_s = 0.5 * spec.simulation.dt_ms / ms_per_s;
    const auto transfer = [&](const std::vector<double>& nu, bool cvs = false, bool grid = false) {
        std::vector<double> out(nu.size());
        for (std::size_t k = 0; k < nu.size(); ++k) {
            const population_theory& t = th[k];
            const double tau_s = t.p.C_m / t.p.g_L / ms_per_s;
            double mu = t.mu_fixed, var = t.var_fixed, drive = t.drive_fixed;
            for (std::size_t j = 0; j < t.source.size(); ++j) {
                mu += tau_s * t.k_m1[j] * nu[t.source[j]];
                var += tau_s * t.k_m2[j] * nu[t.source[j]];
                drive += t.k_m1[j] * nu[t.source[j]];
            }
            // The threshold sees each step's sawtooth at its top, whichever way the jumps go: after
            // excitatory ones, before inhibitory ones (on the drift that they then undo).
            if (grid && t.tau_syn_ms == 0.0) mu += std::fabs(drive) * half_step_s;
            const double tau_m = t.p.C_m / t.p.g_L, sigma = std::sqrt(var);
            const double shift = analysis::fourcaud_brunel_shift(sigma, t.tau_syn_ms, tau_m);
            const double th = t.p.V_th - t.p.E_L + shift, reset = t.p.V_reset - t.p.E_L + shift;
            // The shift is Fourcaud & Brunel's result for the rate; the CV has no such one here.
            out[k] = cvs ? (t.tau_syn_ms > 0.0 ? NAN : analysis::siegert_cv(tau_m, t.p.t_ref, th, reset, mu, sigma))
                         : analysis::siegert_rate(tau_m, t.p.t_ref, th, reset, mu, sigma);
        }
        return out;
    };
    // Damped fixed-point iteration from `start`; the stable asynchronous state it reaches, if it
    // converges.
    const auto settle = [&](std::vector<double> nu) -> std::optional<std::vector<double>> {
        for (int it = 0; it < 20000; ++it) {
            const std::vector<double> next = transfer(nu);
            double change = 0.0;
            for (std::size_t k = 0; k < nu.size(); ++k) {
                const double v = nu[k] + 0.1 * (next[k] - nu[k]);
                if (!std::isfinite(v)) return std::nullopt;  // ran away: no refractory period bounds it
                change = std::max(change, std::fabs(v - nu[k]) / std::max(1.0, v));
                nu[k] = v;
            }
            if (change < 1e-13) return nu;
        }
        return std::nullopt;
    };
    const auto nu = settle(std::vector<double>(pops.size(), 0.0));  // from rest
    if (!nu) return std::nullopt;
    if (cv) *cv = transfer(*nu, true);
    if (on_grid) *on_grid = transfer(*nu, false, true);
    if (high) {
        // From near each population's highest rate: a recurrent excitation strong enough to hold
        // a high state has a second stable fixed point there, which a run may reach instead.
        std::vector<double> start(pops.size());
        for (std::size_t k = 0; k < pops.size(); ++k) start[k] = 0.9 / std::max(th[k].p.t_ref, 1.0) * ms_per_s;
        high->clear();
        if (const auto other = settle(start)) {
            bool differs = false;
            for (std::size_t k = 0; k < pops.size(); ++k)
                differs = differs || std::fabs((*other)[k] - (*nu)[k]) > 1e-3 * std::max(1.0, (*nu)[k]);
            if (differs) *high = *other;
        }
    }
    return nu;
}

}  // namespace ifsim
