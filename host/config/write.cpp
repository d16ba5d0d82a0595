// to_toml: a run_spec written back as the config that reproduces it, every default spelled out.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "config_detail.hpp"
#include "ifsim/config.hpp"

namespace ifsim {

namespace {

// A TOML basic string (a file name may hold control characters, which TOML allows none of raw).
std::string quote(std::string_view s) {
    std::string out = "\"";  // appended piece by piece: "\"" + ... trips gcc 12's -Wrestrict
    out += toml_escaped(s);
    out += '"';
    return out;
}

std::string q(double v, dimension d) { return quote(format_quantity(v, d)); }

// A long list breaks after every `per_line` items, indented.
template <class T, class F>
std::string list(const std::vector<T>& items, F item, std::size_t per_line = 8) {
    if (items.empty()) return "[]";
    if (items.size() <= per_line) {
        std::string out = "[";
        for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + item(items[i]);
        return out + "]";
    }
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i % per_line == 0) out += "\n    ";
        out += item(items[i]) + ",";
        if (i % per_line != per_line - 1 && i + 1 != items.size()) out += " ";
    }
    return out + "\n]";
}

std::string dist(const distribution& x, dimension d) {
    switch (x.type) {
        case distribution::kind::constant: return q(x.a, d);
        case distribution::kind::linspace: return "{ linspace = [" + q(x.a, d) + ", " + q(x.b, d) + "] }";
        case distribution::kind::uniform: return "{ uniform = [" + q(x.a, d) + ", " + q(x.b, d) + "] }";
        case distribution::kind::normal:
            return "{ normal = { mean = " + q(x.a, d) + ", std = " + q(x.b, d) + " } }";
        case distribution::kind::array:
            return list(x.values, [d](double v) { return q(v, d); }, 6);
    }
    return "";
}

std::string dist(const synapse_distribution& x, dimension d) {
    using K = synapse_distribution::kind;
    switch (x.type) {
        case K::constant: return q(x.a, d);
        case K::uniform: return "{ uniform = [" + q(x.a, d) + ", " + q(x.b, d) + "] }";
        case K::normal: return "{ normal = { mean = " + q(x.a, d) + ", std = " + q(x.b, d) + " } }";
        case K::lognormal: return "{ lognormal = { mean = " + q(x.a, d) + ", std = " + q(x.b, d) + " } }";
    }
    return "";
}

// Always the table form, so that the flags are spelt out.
std::string rule(const connection_rule& r) {
    std::string head;
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli: head = "pairwise_bernoulli = " + format_number(r.p); break;
        case rule_kind::fixed_indegree: head = "fixed_indegree = " + std::to_string(r.degree); break;
        case rule_kind::fixed_outdegree: head = "fixed_outdegree = " + std::to_string(r.degree); break;
        case rule_kind::fixed_total: head = "fixed_total = " + std::to_string(r.degree); break;
        case rule_kind::all_to_all: head = "all_to_all = true"; break;
        case rule_kind::one_to_one: head = "one_to_one = true"; break;
        case rule_kind::from_file: return "{ from_file = " + quote(r.file) + " }";  // the flags do not apply
    }
    return "{ " + head + ", autapses = " + (r.autapses ? "true" : "false") +
           ", multapses = " + (r.multapses ? "true" : "false") + " }";
}

// A synapse's kind and, where it has them, its time constant and reversal potential.
void write_synapse(std::ostream& o, synapse_kind k, double tau_syn_ms, double E_rev_mV) {
    o << "synapse = " << quote(synapse_names[static_cast<std::size_t>(k)]) << "\n";
    if (k != synapse_kind::delta) o << "tau_syn = " << q(tau_syn_ms, dimension::time) << "\n";
    if (k == synapse_kind::exp_conductance) o << "E_rev = " << q(E_rev_mV, dimension::voltage) << "\n";
}

std::string padded(std::string_view key, std::size_t width) {
    std::string out(key);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

// A record's start and stop where they are not the whole run's.
std::string window_keys(const record_window& w) {
    std::string out;
    if (w.start_ms != 0.0) out += "start = " + q(w.start_ms, dimension::time) + "\n";
    if (!std::isinf(w.stop_ms)) out += "stop = " + q(w.stop_ms, dimension::time) + "\n";
    return out;
}

}  // namespace

std::string to_toml(const run_spec& spec) {
    std::ostringstream o;
    // No source path here (summary.json has it): the same model read from any path, or this file
    // run again, resolves to the same bytes and so to the same config_digest.
    o << resolved_config_header << " every default filled in, quantities in mV, ms, pA, pF, nS, Hz.\n";

    const auto& s = spec.simulation;
    o << "\n[simulation]\n"
      << "dt = " << q(s.dt_ms, dimension::time) << "\n"
      << "duration = " << q(s.duration_ms, dimension::time) << "\n"
      << "seed = " << s.seed << "\n"
      << "precision = " << quote(precision_name(s.real)) << "\n"
      << "spike_timing = " << quote(s.timing == spike_timing::grid ? "grid" : "interpolated") << "\n"
      // Not the thread count: the results are the same for any, and so is the digest.
      << "# threads: as the run is given them (--threads); the results do not depend on them\n";

    for (const auto& p : spec.populations) {
        o << "\n[[population]]\n"
          << "name = " << quote(p.name) << "\n"
          << "size = " << p.size << "\n"
          << "model = " << quote(model_name(p.model)) << "\n";
        o << "\n[population.params]\n";
        for (const auto& f : param_fields) {
            const auto it = p.params.find(std::string(f.name));
            if (it == p.params.end()) continue;
            o << padded(f.name, 7) << " = " << dist(it->second, f.dim) << "  # " << f.meaning << "\n";
        }
        o << "\n[population.init]\n";
        static constexpr std::pair<const char*, dimension> init_vars[] = {
            {"V_m", dimension::voltage}, {"w", dimension::current}, {"I_noise", dimension::current}};
        for (const auto& [name, d] : init_vars)
            if (const auto it = p.init.find(name); it != p.init.end())
                o << name << " = " << dist(it->second, d) << "\n";
        const auto& in = p.input;
        const auto step_times = list(in.steps.time_ms, [](double v) { return q(v, dimension::time); });
        const auto step_amps = list(in.steps.amplitude_pA, [](double v) { return q(v, dimension::current); });
        // Sub-tables rather than inline ones: TOML forbids line breaks inside an inline table.
        o << "\n[population.input]\n"
          << "I_e = " << dist(in.I_e, dimension::current) << "  # constant current\n"
          << "\n[population.input.steps]  # current switching to amplitudes[i] at times[i]\n"
          << "times = " << step_times << "\n"
          << "amplitudes = " << step_amps << "\n"
          << "\n[population.input.noise]  # white noise on V\n"
          << "sigma_V = " << dist(in.sigma_V, dimension::voltage) << "\n"
          << "bridge = " << (in.bridge ? "true" : "false") << "\n"
          << "\n[population.input.ou]  # Ornstein-Uhlenbeck current\n"
          << "sigma_I = " << dist(in.sigma_I, dimension::current) << "\n"
          << "tau_I = " << q(in.tau_I_ms, dimension::time) << "\n"
          << "\n[population.input.poisson]  # independent Poisson inputs, each spike one synapse's\n"
          << "rate = " << q(in.poisson_rate_Hz, dimension::frequency) << "\n"
          << "count = " << in.poisson_count << "\n";
        write_synapse(o, in.poisson_synapse, in.poisson_tau_syn_ms, in.poisson_E_rev_mV);
        o << "weight = " << q(in.poisson_weight, config_detail::weight_dimension(in.poisson_synapse)) << "\n";
    }

    for (const auto& g : spec.generators) {
        o << "\n[[generator]]\n"
          << "name = " << quote(g.name) << "\n"
          << "size = " << g.size << "\n";
        if (g.type == generator_spec::kind::poisson) {
            o << "rate = " << q(g.rate_Hz, dimension::frequency) << "  # each neuron a Poisson process\n"
              << "start = " << q(g.start_ms, dimension::time) << "\n"
              << "stop = " << q(g.stop_ms, dimension::time) << "\n";
            continue;
        }
        o << "times = " << list(g.times_ms, [](double v) { return q(v, dimension::time); }) << "\n";
        if (!g.neurons.empty())
            o << "neurons = " << list(g.neurons, [](std::uint64_t v) { return std::to_string(v); }) << "\n";
    }

    for (const auto& p : spec.projections) {
        o << "\n[[projection]]\n";
        if (!p.name.empty()) o << "name = " << quote(p.name) << "\n";
        o << "source = " << quote(p.source) << "\n"
          << "target = " << quote(p.target) << "\n"
          << "rule = " << rule(p.rule) << "\n";
        write_synapse(o, p.synapse, p.tau_syn_ms, p.E_rev_mV);
        if (!p.weight_from_file) o << "weight = " << dist(p.weight, config_detail::weight_dimension(p.synapse)) << "\n";
        if (!p.delay_from_file) o << "delay = " << dist(p.delay, dimension::time) << "\n";
    }

    // Spike records, one per window of every neuron, in the order they first appear, and one per
    // record of some neurons (its indices are one population's or generator's: never merged).
    const spike_record& sr = spec.spikes;
    std::vector<std::pair<record_window, neuron_subset>> kinds;
    std::vector<std::vector<std::string>> names;  // of each kind
    for (std::size_t p = 0; p < sr.populations.size(); ++p) {
        const auto at = std::find(kinds.begin(), kinds.end(), std::pair{sr.windows[p], sr.neurons[p]});
        if (at != kinds.end() && sr.neurons[p].all()) {
            names[std::size_t(at - kinds.begin())].push_back(sr.populations[p]);
            continue;
        }
        kinds.emplace_back(sr.windows[p], sr.neurons[p]);
        names.push_back({sr.populations[p]});
    }
    for (std::size_t k = 0; k < kinds.size(); ++k) {
        const auto& [w, subset] = kinds[k];
        const std::vector<std::string>& pops = names[k];
        o << "\n[[record]]\nspikes = " << list(pops, [](const std::string& n) { return quote(n); }) << "\n";
        if (!subset.listed.empty())
            o << "neurons = " << list(subset.listed, [](std::uint64_t v) { return std::to_string(v); }, 16) << "\n";
        else if (!subset.all())
            o << "neurons = { range = [" << subset.first << ", " << subset.end << "] }  # half open\n";
        o << window_keys(w);
    }
    for (const auto& r : spec.states) {
        o << "\n[[record]]\n"
          << "name = " << quote(r.name) << "\n"
          << "state = " << quote(r.variable) << "\n"
          << "population = " << quote(r.population) << "\n";
        if (r.samples_a_channel() && r.projection == state_record::poisson_input_channel)
            o << "projection = \"input.poisson\"\n";
        else if (r.samples_a_channel())
            o << "projection = " << r.projection << "\n";
        bool contiguous = r.neurons.size() > 2;
        for (std::size_t i = 1; contiguous && i < r.neurons.size(); ++i)
            contiguous = r.neurons[i] == r.neurons[0] + i;
        if (contiguous)
            o << "neurons = { range = [" << r.neurons.front() << ", " << r.neurons.back() + 1
              << "] }  # half open\n";
        else
            o << "neurons = " << list(r.neurons, [](std::uint64_t v) { return std::to_string(v); }, 16) << "\n";
        o << "interval = " << q(r.interval_ms, dimension::time) << "\n" << window_keys(r.window);
    }
    return o.str();
}

}  // namespace ifsim
