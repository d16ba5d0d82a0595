// Per-neuron theory for a run, from the same realised parameters and currents the backends use.
#include "ifsim/theory_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "ifsim/analysis.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/units.hpp"

namespace ifsim {
namespace {

// Why a neuron of `pop` without Poisson input has no theory here; empty when it has one.
std::string without_theory(const population_spec& pop, const neuron_params& p, double sigma_V, double sigma_I) {
    const input_spec& in = pop.input;
    if (!in.steps.time_ms.empty()) return "a step current: the rate is not stationary";
    if (sigma_I > 0.0) {
        if (pop.model != model_kind::lif) return "coloured (OU) noise: a rate for the lif only";
        if (sigma_V > 0.0) return "coloured (OU) and white noise together: a rate for one of them only";
        if (in.tau_I_ms > analysis::max_filter_over_tau_m * p.C_m / p.g_L)
            return "coloured (OU) noise of tau_I " + format_number(in.tau_I_ms) + " ms, tau_m " +
                   format_number(p.C_m / p.g_L) +
                   " ms: Fourcaud & Brunel's first-order shift holds for tau_I << tau_m (here at most tau_m / 4)";
    }
    const std::string model(model_name(pop.model));
    switch (pop.model) {
        case model_kind::lif: return {};
        case model_kind::alif:
        case model_kind::adex:
            if (p.a != 0.0) return model + " with a != 0: the adapted rate is for a = 0";
            if (p.b < 0.0) return model + " with b < 0 (positive feedback): the adapted rate is for b >= 0";
            if (sigma_V > 0.0) return model + " with noise: the adapted rate is for sigma_V = 0";
            return {};
        case model_kind::qif:
        case model_kind::eif:
            if (sigma_V > 0.0) return model + " with noise: its F-I curve is for sigma_V = 0";
            return {};
    }
    return "no rate for model " + model;
}

double predicted_rate(const population_spec& pop, const neuron_params& p, double I, double sigma_V, double sigma_I) {
    switch (pop.model) {
        case model_kind::alif: return analysis::alif_steady_rate(p, I);
        case model_kind::adex: return analysis::adex_steady_rate(p, I);
        case model_kind::qif: return analysis::qif_rate(p, I);
        case model_kind::eif: return analysis::eif_rate(p, I);
        default:
            if (sigma_I > 0.0) return analysis::coloured_noise_rate(p, I, sigma_I, pop.input.tau_I_ms);
            return sigma_V > 0.0 ? analysis::siegert_rate(p, I, sigma_V) : analysis::lif_rate(p, I);
    }
}

void add_row(theory_table& table, const std::string& population, std::uint64_t neuron, double I, double rate) {
    if (!std::isfinite(rate))  // the callers say why instead; never a NaN in the table
        throw runtime_failure("the theory of population '" + population + "' gave no finite rate for neuron " +
                              std::to_string(neuron));
    table.rate_Hz[population].push_back(rate);  // rows come in neuron order from 0
    if (table.csv.empty()) return;              // the rates alone (it has its header otherwise)
    char row[256];
    std::snprintf(row, sizeof row, "%s,%llu,%.17g,%.17g\n", population.c_str(), (unsigned long long)neuron, I, rate);
    table.csv += row;
}

// The largest mean voltage jump [mV] of a delta input into `pop`: its Poisson input's, or a delta
// projection's (mean weight), 0 without any.
double largest_delta_jump(const run_spec& spec, const population_spec& pop) {
    double J = pop.input.poisson_on() && pop.input.poisson_synapse == synapse_kind::delta
                   ? std::fabs(pop.input.poisson_weight)
                   : 0.0;
    for (const auto& pr : spec.projections)
        if (pr.target == pop.name && pr.synapse == synapse_kind::delta) {
            const synapse_distribution& w = pr.weight;  // a is the mean but for uniform's [a, b]
            J = std::max(J, std::fabs(w.type == synapse_distribution::kind::uniform ? 0.5 * (w.a + w.b) : w.a));
        }
    return J;
}

// The mean field of `spec` (a network, or one population with Poisson input) as rows of every
// neuron of its populations, or why it has none.
void add_mean_field(theory_table& table, const run_spec& spec, const std::string& what) {
    const std::string limit = mean_field_limit(spec);
    std::vector<double> cv, high, on_grid;
    std::string failed = limit;
    std::optional<std::vector<double>> rates;
    if (failed.empty()) {
        try {
            rates = network_mean_field(spec, &cv, &high, &on_grid);
        } catch (const config_error& e) {  // parameters beyond a formula's range
            failed = e.what();
        }
        if (failed.empty() && !rates) failed = "the mean-field iteration did not converge";
        if (failed.empty() && !std::all_of(rates->begin(), rates->end(), [](double r) { return std::isfinite(r); }))
            failed = "its parameters are beyond the theory's range (no finite rate)";
    }
    if (!failed.empty()) {
        table.notes.push_back(what + ": " + failed);
        return;
    }
    if (!high.empty()) {
        std::string other;
        for (std::size_t k = 0; k < high.size(); ++k)
            other += (k ? ", " : "") + spec.populations[k].name + " " + format_number(std::round(high[k] * 10.0) / 10.0) + " Hz";
        table.notes.push_back("the mean field has a second stable state, " + other +
                              " (iterated from high rates; the rates listed are the one from rest): a run may "
                              "settle there instead, depending on its start");
    }
    std::map<double, std::string> filtered;  // tau_syn -> the populations with exp_current input of it
    for (std::size_t k = 0; k < spec.populations.size(); ++k) {
        const population_spec& pop = spec.populations[k];
        for (std::uint64_t i = 0; i < pop.size; ++i) add_row(table, pop.name, i, pop.input.I_e.a, (*rates)[k]);
        if (!std::isnan(cv.at(k))) table.cv[pop.name] = cv[k];
        // Strong delta input held off by a bias: its jumps' grid offset matters (by 5 %, and by
        // more than a run could tell from silence: 0 Hz against 1e-77 is none).
        const double rate = (*rates)[k], grid = on_grid.at(k);
        if (std::fabs(grid - rate) > std::max(0.05 * rate, 0.05))
            table.notes.push_back("population '" + pop.name + "': its input spikes land at each step's end, so the "
                                  "threshold sees V's sawtooth at its top, |D| dt / 2 above the mean (D their summed "
                                  "drive); the theory at that mean gives " + format_number(std::round(grid * 100.0) / 100.0) +
                                  " Hz against " + format_number(std::round(rate * 100.0) / 100.0) +
                                  " Hz: a run at this dt fires above the rate listed, up to about that; a smaller "
                                  "dt closes the gap (docs/models.md)");
        // The diffusion approximation assumes jumps small against the way from reset to threshold
        // (an inhibition-only input of -100 mV jumps was given 36 Hz, where a run cannot fire).
        const neuron_params p = realize_params(pop, spec.simulation, 0).at(0);  // constant: one set
        if (const double J = largest_delta_jump(spec, pop); J > 0.2 * (p.V_th - p.V_reset))
            table.notes.push_back("population '" + pop.name + "': its input jumps V by up to " + format_number(J) +
                                  " mV, against V_th - V_reset = " + format_number(p.V_th - p.V_reset) +
                                  " mV: the diffusion approximation assumes jumps much smaller than that, so the "
                                  "rate listed may be far off");
        if (const double tau_syn = mean_field_tau_syn(spec, pop); tau_syn > 0.0) {
            std::string& names = filtered[tau_syn];
            names += (names.empty() ? "'" : ", '") + pop.name + "'";
        }
    }
    for (const auto& [tau_syn, names] : filtered)
        table.notes.push_back("exp_current (or OU) input (tau_syn " + format_quantity(tau_syn, dimension::time) +
                              ") into " + names +
                              ": the rate with Fourcaud & Brunel (2002)'s threshold shift, for tau_syn << tau_m; no CV");
}

// At most the bytes of a CSV row, "name,neuron,I,rate\n" with %.17g numbers (up to 24 characters).
std::size_t max_row_bytes(const population_spec& pop) { return pop.name.size() + 20 + 2 * 24 + 4; }

// The table holds a rate per neuron (a vector that doubles as it grows: up to 3 at the peak) and
// with `csv` a CSV row (its capacity reserved), and while a population is worked on, its neurons'
// parameters and currents where they differ. Where that does not fit, it is refused as a run is,
// before anything is made (2^32 neurons had the process killed by the kernel).
void require_table_memory(const run_spec& spec, bool csv) {
    memory_estimate m;
    double most_drawn = 0.0;
    for (const auto& pop : spec.populations) {
        const double bytes = double(pop.size) * double((csv ? max_row_bytes(pop) : 0) + 3 * sizeof(double));
        m.bytes += bytes;
        if (bytes > m.largest) m.largest = bytes, m.largest_part = "population '" + pop.name + "'";
        if (pop.neurons_differ())  // realize_params' sets, and the bias, sigma_V and sigma_I
            most_drawn = std::max(most_drawn, double(pop.size) * double(sizeof(neuron_params) + 3 * sizeof(double)));
    }
    m.bytes += most_drawn;
    const std::uint64_t available = available_memory();
    if (fits_in_memory(m, available)) return;
    throw runtime_failure(std::string(csv ? "the theory's table, a row per neuron," : "the theory's rates, one per neuron,") +
                          " needs at least about " + format_bytes(m.bytes) +
                          but_available(available) + "; the largest part is " + m.largest_part + " (" +
                          format_bytes(m.largest) + "). " + populations_advice + ".");
}

}  // namespace

theory_table make_theory_table(const run_spec& spec, theory_parts parts) {
    const bool csv = parts == theory_parts::rates_and_csv;
    require_table_memory(spec, csv);
    theory_table table;
    if (csv) {
        table.csv = "population,neuron,I_e_pA,rate_theory_Hz\n";
        std::size_t csv_bytes = table.csv.size();
        for (const auto& pop : spec.populations) csv_bytes += pop.size * max_row_bytes(pop);
        table.csv.reserve(csv_bytes);  // no copies as it grows: the peak the check above counts
    }
    if (!spec.projections.empty()) {
        add_mean_field(table, spec, "the network's mean field does not apply");
        return table;
    }
    std::uint64_t first_id = 0;
    for (const auto& pop : spec.populations) {
        const std::string name = "population '" + pop.name + "'";
        if (pop.input.poisson_on()) {
            // Poisson input: the diffusion approximation of the population on its own.
            run_spec alone = spec;
            alone.populations = {pop};
            alone.generators.clear();
            add_mean_field(table, alone, name + " (Poisson input, diffusion approximation)");
            first_id += pop.size;
            continue;
        }
        const auto params = realize_params(pop, spec.simulation, first_id);
        const auto bias = realize_bias(pop, spec.simulation, first_id);
        check_drives(pop, spec.simulation, params, bias);  // refused as a run refuses it
        const auto sigma = realize_checked(pop.input.sigma_V, sigma_V_key, pop, spec.simulation, first_id);
        const auto ou = realize_checked(pop.input.sigma_I, sigma_I_key, pop, spec.simulation, first_id);
        std::uint64_t i = 0, fastest = 0;  // the neuron with the highest rate
        double top_rate = 0.0;
        // Neurons all alike have one rate, computed once (the AdEx's is a bisection of quadratures).
        const bool all_alike = params.size() == 1 && bias.size() == 1 && sigma.size() == 1 && ou.size() == 1;
        double first_rate = 0.0;
        for (; i < pop.size; ++i) {
            const neuron_params& p = params[params.size() > 1 ? i : 0];
            const double I = detail::pick(bias, i), sigma_V = detail::pick(sigma, i), sigma_I = detail::pick(ou, i);
            if (all_alike && i > 0) {
                add_row(table, pop.name, i, I, first_rate);
                continue;
            }
            std::string why = without_theory(pop, p, sigma_V, sigma_I);
            double rate = 0.0;
            if (why.empty()) {
                // Parameters a run takes can still be beyond a formula's range (tau_m = C_m / g_L
                // overflowing to inf): said, not a failed command.
                try {
                    rate = predicted_rate(pop, p, I, sigma_V, sigma_I);
                } catch (const config_error& e) {
                    why = e.what();
                }
                if (why.empty() && !std::isfinite(rate))
                    why = "its parameters are beyond the theory's range (no finite rate)";
            }
            if (!why.empty()) {
                table.notes.push_back(name + (i > 0 ? " from neuron " + std::to_string(i) : "") + ": " + why);
                break;
            }
            add_row(table, pop.name, i, I, rate);
            if (i == 0) first_rate = rate;
            if (rate > top_rate) top_rate = rate, fastest = i;
        }
        // One spike per step at most: an ISI below dt (t_ref < dt) is held to dt in a run.
        const double max_rate_Hz = 1e3 / spec.simulation.dt_ms;
        if (top_rate > max_rate_Hz)
            table.notes.push_back(name + ": up to " + format_number(std::round(top_rate)) + " Hz (neuron " +
                                  std::to_string(fastest) + "), above 1/dt = " + format_number(max_rate_Hz) +
                                  " Hz: a run fires at most once per step, so it shows at most that");
        if (i == pop.size && (ou.size() > 1 || ou[0] > 0.0))
            table.notes.push_back(name + ": coloured (OU) noise: the rate with Fourcaud & Brunel (2002)'s threshold "
                                         "shift, for tau_I << tau_m; no CV");
        const bool one_neuron_type = params.size() == 1 && bias.size() == 1 && sigma.size() == 1;
        if (pop.model == model_kind::lif && one_neuron_type && sigma[0] > 0.0 && i == pop.size)
            table.cv[pop.name] = analysis::siegert_cv(params[0], bias[0], sigma[0]);
        if ((pop.model == model_kind::alif || pop.model == model_kind::adex) && i > 0)
            table.notes.push_back(name + ": the mean-adaptation rate r = f(I - b tau_w r), close where tau_w >> ISI");
        first_id += pop.size;
    }
    return table;
}

}  // namespace ifsim
