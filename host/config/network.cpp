// [[generator]] and [[projection]]: the network's spike sources and synapses (spec.hpp), checked
// as completely as the populations: names resolve, rules fit the sizes, weights have one sign,
// files exist and have the columns the projection needs.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config_detail.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/network.hpp"
#include "ifsim/synapse_file.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim::config_detail {

namespace {

// ---- [[generator]] ----

// rate, start and stop of a Poisson generator: a rate >= 0, 0 <= start < stop (stop defaults to the
// run's duration), and no more spikes to draw ahead than max_generator_spikes.
void read_poisson_generator(const context& ctx, const toml::table& t, std::string_view path, const toml::node& rate,
                            const simulation_spec& sim, generator_spec& g) {
    g.type = generator_spec::kind::poisson;
    if (const auto* n = t.get("neurons"))
        ctx.fail(n, child_path(path, "neurons"),
                 says(child_path(path, "neurons"), *n) + "neurons goes with times; every neuron of a Poisson "
                                                         "generator fires at its rate");
    const std::string rp = child_path(path, "rate");
    g.rate_Hz = read_quantity(ctx, rate, rp, dimension::frequency);
    if (!(g.rate_Hz >= 0.0)) ctx.fail(&rate, rp, says(rp, rate) + "a rate must be >= 0 Hz");
    g.stop_ms = sim.duration_ms;
    for (auto [key, ms] : {std::pair<std::string_view, double*>{"start", &g.start_ms}, {"stop", &g.stop_ms}})
        if (const auto* n = t.get(key)) {
            const std::string kp = child_path(path, key);
            *ms = read_quantity(ctx, *n, kp, dimension::time);
            if (!(*ms >= 0.0)) ctx.fail(n, kp, says(kp, *n) + "a time must be >= 0 ms");
            check_at_most_max_steps(ctx, *n, kp, *ms, sim.dt_ms);
        }
    if (!(g.start_ms < g.stop_ms)) {
        const auto* n = t.get("stop") ? t.get("stop") : t.get("start");
        const std::string kp = child_path(path, t.get("stop") ? "stop" : "start");
        ctx.fail(n, kp,
                 says(kp, *n) + "start = \"" + format_quantity(g.start_ms, dimension::time) + "\" must be before stop = \"" +
                     format_quantity(g.stop_ms, dimension::time) + "\"" +
                     (t.get("stop") ? "" : " (the run's duration, stop's default)"));
    }
    const double spikes = expected_generator_spikes(g, sim);
    if (spikes > double(max_generator_spikes))
        ctx.fail(&rate, rp,
                 says(rp, rate) + format_number(double(g.size)) + " neurons at this rate for " +
                     format_quantity(std::min(g.stop_ms, sim.duration_ms) - g.start_ms, dimension::time) + " make about " +
                     format_number(spikes) + " spikes, more than the " + format_number(double(max_generator_spikes)) +
                     " a generator draws ahead; for independent Poisson input to each neuron of a population use its "
                     "input.poisson instead");
}

// `taken`: the populations' and earlier generators' names, each with what it names.
generator_spec read_generator(const context& ctx, const toml::table& t, std::string_view path, const run_spec& spec,
                              const std::unordered_map<std::string, const char*>& taken_names) {
    check_keys(ctx, t, path, generator_keys);
    generator_spec g;
    const toml::node* name_node = nullptr;
    g.name = read_name(ctx, t, path, "generator", name_node);
    const std::string np = child_path(path, "name");
    const auto taken = [&](const char* by) {
        ctx.fail(name_node, np,
                 says(np, *name_node) + "populations and generators need distinct names; '" + g.name +
                     "' is already used by " + by);
    };
    if (const auto it = taken_names.find(g.name); it != taken_names.end()) taken(it->second);

    g.size = static_cast<std::uint64_t>(read_integer(ctx, required(ctx, t, path, "size", "the number of neurons"),
                                                     child_path(path, "size"), 1, std::int64_t{1} << 32));

    const toml::node* rate = t.get("rate");
    const toml::node* given_times = t.get("times");
    if ((rate == nullptr) == (given_times == nullptr))
        ctx.fail(rate ? rate : &t, rate ? child_path(path, "rate") : std::string(path),
                 (rate ? says(child_path(path, "rate"), *rate) : std::string()) + std::string(path) +
                     (rate ? " has both times and rate" : " has neither times nor rate") +
                     ": a generator fires at given times (times = [\"10 ms\", ...]) or as Poisson processes "
                     "(rate = \"10 Hz\"), one of the two");
    if (rate != nullptr) {
        read_poisson_generator(ctx, t, path, *rate, spec.simulation, g);
        return g;
    }
    for (const std::string_view key : {"start", "stop"})
        if (const auto* n = t.get(key))
            ctx.fail(n, child_path(path, key),
                     says(child_path(path, key), *n) + "start and stop go with rate (a Poisson generator); a "
                                                       "generator with times fires exactly then");

    const double dt = spec.simulation.dt_ms;
    const std::string tp = child_path(path, "times");
    const auto& times = *given_times;
    if (!times.is_array()) ctx.fail(&times, tp, says(tp, times) + "expected a list of spike times, e.g. [\"10 ms\", \"12.5 ms\"]");
    for (std::size_t i = 0; i < times.as_array()->size(); ++i) {
        const std::string ip = element_path(tp, i);
        const toml::node& n = (*times.as_array())[i];
        const double ms = read_quantity(ctx, n, ip, dimension::time);
        // Rounded to the grid like a neuron's spike: step k ends at (k + 1) dt.
        const double steps = nearest_steps(ms, dt);
        if (!(steps >= 1.0))
            ctx.fail(&n, ip,
                     says(ip, n) + "spike times are rounded to the nearest step end, multiples of dt = \"" +
                         format_quantity(dt, dimension::time) + "\" (ties to even), and the earliest is dt itself: "
                         "a time must be above dt / 2");
        if (!(steps < 0x1p53)) ctx.fail(&n, ip, says(ip, n) + "a spike time must be below 2^53 steps of dt");
        g.times_ms.push_back(ms);
    }

    if (const auto* n = t.get("neurons")) {
        const std::string kp = child_path(path, "neurons");
        const auto* a = n->as_array();
        if (a == nullptr)
            ctx.fail(n, kp, says(kp, *n) + "expected a list of neuron indices, one per spike time");
        if (a->size() != g.times_ms.size())
            ctx.fail(n, kp,
                     says(kp, *n) + "neurons has " + std::to_string(a->size()) + " entries but times has " +
                         std::to_string(g.times_ms.size()) + "; spike k is neurons[k] at times[k] (leave neurons "
                         "out and every neuron fires at every time)");
        for (std::size_t i = 0; i < a->size(); ++i)
            g.neurons.push_back(static_cast<std::uint64_t>(
                read_integer(ctx, (*a)[i], element_path(kp, i), 0, static_cast<std::int64_t>(g.size) - 1)));
    }
    return g;
}

void read_generators(const context& ctx, const toml::table& root, run_spec& spec) {
    const toml::array* list = optional_tables(ctx, root, "generator");
    if (list == nullptr) return;
    if (list->size() > max_generators)
        ctx.fail(list, "generator",
                 "generator has " + std::to_string(list->size()) + " entries; at most " + std::to_string(max_generators) +
                     " [[generator]] tables are allowed (each has its own random stream)");
    // Names looked up, not searched: 65535 generators made validation quadratic (a fuzz audit).
    std::unordered_map<std::string, const char*> taken;
    for (const auto& p : spec.populations) taken.emplace(p.name, "a population");
    for (std::size_t i = 0; i < list->size(); ++i) {
        spec.generators.push_back(read_generator(ctx, *(*list)[i].as_table(), element_path("generator", i), spec, taken));
        taken.emplace(spec.generators.back().name, "an earlier generator");
    }
}

// ---- [[projection]] ----

// A projection's source or target: a population or, as a source only, a generator.
struct endpoint {
    std::string name;
    std::uint64_t size = 0;
};

// The populations and generators by name, for the projections' endpoints.
struct endpoint_index {
    std::unordered_map<std::string_view, endpoint> populations, generators;
    explicit endpoint_index(const run_spec& spec) {
        for (const auto& p : spec.populations) populations.emplace(p.name, endpoint{p.name, p.size});
        for (const auto& g : spec.generators) generators.emplace(g.name, endpoint{g.name, g.size});
    }
};

// The endpoint `key` names, with a suggestion when it names none. Generators are accepted only
// as sources (`generators_allowed`).
endpoint read_endpoint(const context& ctx, const toml::table& t, std::string_view path, std::string_view key,
                       const run_spec& spec, const endpoint_index& index, bool generators_allowed) {
    // Listed in messages only: joined for every projection, they made validation quadratic.
    const auto names = [&] {
        std::vector<std::string_view> v;
        for (const auto& p : spec.populations) v.push_back(p.name);
        if (generators_allowed)
            for (const auto& g : spec.generators) v.push_back(g.name);
        return v;
    };
    const std::string kp = child_path(path, key);
    const char* what = generators_allowed && !spec.generators.empty() ? "a population or generator name"
                                                                      : "a population name";
    const auto& n = t.contains(key) ? *t.get(key)
                                    : required(ctx, t, path, key, std::string(what) + " (" + join(names()) + ")");
    const std::string name = read_string(ctx, n, kp, what);
    if (const auto p = index.populations.find(name); p != index.populations.end()) return p->second;
    if (const auto g = index.generators.find(name); g != index.generators.end()) {
        if (generators_allowed) return g->second;
        ctx.fail(&n, kp,
                 says(kp, n) + "'" + name + "' is a generator, which only sends spikes; a target must be a population");
    }
    const std::vector<std::string_view> all = names();
    const std::string near = suggest(name, all);
    const bool either = generators_allowed && !spec.generators.empty();
    ctx.fail(&n, kp,
             says(kp, n) + (either ? "no population or generator" : "no population") + " is named '" + printable(name) + "'" +
                 (near.empty() ? "" : "; did you mean '" + near + "'?") + " (" +
                 (either ? "populations and generators" : "populations") + ": " + join(all) + ")");
}

std::string synapse_says(synapse_kind k) {
    return "synapse = \"" + std::string(synapse_names[static_cast<std::size_t>(k)]) + "\"";
}

// A quantity of dimension `d`. When a string has a unit of another dimension, the message says
// so and adds `needs` (which unit the key takes and why); otherwise read_quantity explains.
double read_synaptic_quantity(const context& ctx, const toml::node& n, std::string_view path,
                              dimension d, const std::string& needs) {
    if (n.is_string()) {
        const std::string text = n.as_string()->get();
        const auto parses_as = [&](dimension x) {
            try {
                parse_quantity(text, x, path);
                return true;
            } catch (const config_error&) {
                return false;
            }
        };
        if (!parses_as(d)) {
            static constexpr std::array<dimension, 7> others = {
                dimension::voltage,     dimension::current,   dimension::conductance,
                dimension::time,        dimension::capacitance, dimension::frequency,
                dimension::conductance_per_voltage};
            for (auto x : others)
                if (x != d && parses_as(x))
                    ctx.fail(&n, path,
                             says(path, n) + "a " + std::string(dimension_name(x)) + " (" +
                                 std::string(default_unit(x)) + "), but " + needs);
        }
    }
    return read_quantity(ctx, n, path, d);
}

// A per-synapse value: a quantity, { uniform = [low, high] }, { normal = [mean, std] } or
// { lognormal = [mean, std] } (the last two also as { mean = ..., std = ... }).
synapse_distribution read_synapse_distribution(const context& ctx, const toml::node& n,
                                               std::string_view path, dimension d,
                                               const std::string& needs) {
    const std::string lo = format_quantity(1.5, d), hi = format_quantity(2.5, d);
    const std::string forms = "a quantity such as \"" + lo + "\" or a table with exactly one of " +
                              "uniform = [low, high], normal = [mean, std], lognormal = [mean, std]";
    if (n.is_array())
        ctx.fail(&n, path,
                 says(path, n) + "an array, but a per-synapse value is " + forms +
                     " (there is no per-synapse array)");
    if (!n.is_table()) return synapse_distribution::constant(read_synaptic_quantity(ctx, n, path, d, needs));

    const auto& t = *n.as_table();
    check_keys(ctx, t, path, synapse_distribution_keys);
    if (t.size() != 1) ctx.fail(&n, path, says(path, n) + "a per-synapse value is " + forms);
    const auto first = t.begin();
    const toml::key& key = first->first;
    const toml::node& value = first->second;
    const std::string p = child_path(path, key.str());
    synapse_distribution out;
    if (key.str() == "uniform") {
        const auto* a = value.as_array();
        if (a == nullptr || a->size() != 2)
            ctx.fail(&value, p,
                     says(p, value) + "expected two values, uniform = [low, high], e.g. [\"" + lo +
                         "\", \"" + hi + "\"]" + (a ? " (got " + std::to_string(a->size()) + " values)" : ""));
        out.type = synapse_distribution::kind::uniform;
        out.a = read_synaptic_quantity(ctx, (*a)[0], element_path(p, 0), d, needs);
        out.b = read_synaptic_quantity(ctx, (*a)[1], element_path(p, 1), d, needs);
        if (!(out.a <= out.b))
            ctx.fail(&value, p,
                     says(p, value) + "low = " + format_quantity(out.a, d) + " is above high = " +
                         format_quantity(out.b, d) + "; expected [low, high] with low <= high");
        return out;
    }
    out.type = key.str() == "normal" ? synapse_distribution::kind::normal
                                     : synapse_distribution::kind::lognormal;
    const mean_std_nodes m = read_mean_std(ctx, value, p, key.str(), lo, d);
    out.a = read_synaptic_quantity(ctx, *m.mean, m.mean_path, d, needs);
    out.b = read_synaptic_quantity(ctx, *m.std_dev, m.std_path, d, needs);
    if (!(out.b >= 0.0))
        ctx.fail(m.std_dev, m.std_path, says(m.std_path, *m.std_dev) + "a standard deviation must be >= 0");
    return out;
}

// The node and key path of a distribution's table entry ("weight.uniform"), or of the value itself.
std::pair<const toml::node*, std::string> form_of(const toml::node& n, std::string_view path) {
    if (const auto* t = n.as_table(); t != nullptr && t->size() == 1)
        return {&t->begin()->second, child_path(path, t->begin()->first.str())};
    return {&n, std::string(path)};
}

// Where a per-synapse value's draws reach, for a message: "" for a constant (the value says it),
// else "its draws reach 1352114 pA (6.76 std from the mean, ...); ".
std::string reach(const synapse_distribution& v, double extreme, dimension d) {
    using K = synapse_distribution::kind;
    if (v.type == K::constant) return "";
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%.7g", extreme);  // 7 digits: a delay of 6553.55 ms is not "6.55e+03"
    // 6.76: box_muller's largest |z| in double (random.hpp)
    const char* how = v.type == K::uniform ? "its bounds"
                      : v.type == K::normal ? "6.76 std from the mean, the furthest normal draw"
                                            : "the furthest lognormal draw";
    return "its draws reach " + std::string(text.data()) + " " + std::string(default_unit(d)) + " (" + how + "); ";
}

// A table's synapse kind (a [[projection]]'s, input.poisson's): delta where it gives none.
synapse_kind read_synapse_kind(const context& ctx, const toml::table& t, std::string_view path) {
    const auto* n = t.get("synapse");
    return n ? static_cast<synapse_kind>(read_choice(ctx, *n, child_path(path, "synapse"), synapse_names))
             : synapse_kind::delta;
}

// Its tau_syn and E_rev where given, each for the kinds that have it only.
void read_synapse_constants(const context& ctx, const toml::table& t, std::string_view path, synapse_kind kind,
                            double& tau_syn_ms, double& E_rev_mV) {
    if (const auto* n = t.get("tau_syn")) {
        const std::string kp = child_path(path, "tau_syn");
        if (kind == synapse_kind::delta)
            ctx.fail(n, kp,
                     says(kp, *n) + "a delta synapse has no time constant; tau_syn is only for "
                                    "synapse = \"exp_current\" or \"exp_conductance\"");
        tau_syn_ms = read_synaptic_quantity(ctx, *n, kp, dimension::time, "tau_syn is a time (ms)");
        if (!(tau_syn_ms > 0.0)) ctx.fail(n, kp, says(kp, *n) + "tau_syn must be a time > 0 ms");
    }
    if (const auto* n = t.get("E_rev")) {
        const std::string kp = child_path(path, "E_rev");
        if (kind != synapse_kind::exp_conductance)
            ctx.fail(n, kp,
                     says(kp, *n) + "only synapse = \"exp_conductance\" has a reversal potential; " +
                         std::string(path) + " has " + synapse_says(kind));
        E_rev_mV = read_synaptic_quantity(ctx, *n, kp, dimension::voltage, "E_rev is a voltage (mV)");
        if (!(std::fabs(E_rev_mV) <= max_abs_voltage_mV))
            ctx.fail(n, kp, says(kp, *n) + std::string(voltage_range_rule));
    }
}

// Every weight of a projection has one sign (the sign of `a`); conductances are >= 0; every draw
// is finite and within max_abs_weight, and the largest is 0 or at least min_largest_abs_weight.
void check_weight(const context& ctx, const toml::node& n, std::string_view path,
                  const synapse_distribution& w, synapse_kind k) {
    using K = synapse_distribution::kind;
    const auto [at, p] = form_of(n, path);
    const std::string head = says(p, *at);
    if (k == synapse_kind::exp_conductance && w.a < 0.0) {
        const std::string what = w.type == K::constant  ? ""
                                 : w.type == K::uniform ? " (the low end is "
                                                        : " (the mean is ";
        ctx.fail(at, p,
                 head + "synapse = \"exp_conductance\" weights are conductances and must be >= 0 nS" +
                     (what.empty() ? "" : what + format_quantity(w.a, dimension::conductance) + ")") +
                     "; for inhibition give a low reversal potential, e.g. E_rev = \"-80 mV\"");
    }
    switch (w.type) {
        case K::constant: break;
        case K::uniform:
            if (w.a < 0.0 && w.b > 0.0)
                ctx.fail(at, p,
                         head + "the range straddles zero; every weight of a projection must have one "
                                "sign (low and high both >= 0 or both <= 0): split it into an "
                                "excitatory and an inhibitory projection");
            break;
        case K::normal:
            if (w.a == 0.0 && w.b > 0.0)
                ctx.fail(at, p,
                         head + "a normal weight keeps the sign of its mean (draws are clipped at 0), "
                                "so the mean must not be 0 when std > 0");
            break;
        case K::lognormal:
            if (w.a == 0.0)
                ctx.fail(at, p,
                         head + "a lognormal weight has the sign of its mean, which must not be 0");
            break;
    }
    const dimension d = weight_dimension(k);
    const auto [lo, hi] = synapse_value_extremes(w);
    if (!std::isfinite(lo) || !std::isfinite(hi))
        ctx.fail(at, p, head + "its draws overflow to infinity or NaN; the parameters are out of range");
    const double furthest = std::fabs(lo) > std::fabs(hi) ? lo : hi;
    if (std::fabs(furthest) > max_abs_weight)
        ctx.fail(at, p,
                 head + reach(w, furthest, d) + "a weight's magnitude must be at most " +
                     format_quantity(max_abs_weight, d) + ", beyond any synapse");
    if (furthest != 0.0 && std::fabs(furthest) < min_largest_abs_weight)
        ctx.fail(at, p,
                 head + reach(w, furthest, d) + "too small for fixed point: the largest weight must be 0 or of magnitude at least " +
                     format_quantity(min_largest_abs_weight, d));
}

// A delay is > 0 (for a distribution, its low end or mean), every draw finite and at most
// max_delay_steps steps of dt.
void check_delay(const context& ctx, const toml::node& n, std::string_view path,
                 const synapse_distribution& dl, double dt_ms) {
    using K = synapse_distribution::kind;
    const auto [at, p] = form_of(n, path);
    if (!(dl.a > 0.0)) {  // uniform: high >= low was checked; normal, lognormal: std >= 0
        const char* what = dl.type == K::constant  ? "a delay must be > 0 ms"
                           : dl.type == K::uniform ? "the low end of a delay range must be > 0 ms"
                                                   : "the mean of a delay must be > 0 ms";
        ctx.fail(at, p, says(p, *at) + what + " (a delay is a whole number of steps of dt, at least one)");
    }
    // As NEST: a delay shorter than the step is a mistake (it would become one step), not rounded
    // up silently; draws of a distribution are clipped to one step, as docs/networks.md says.
    if (dl.type == K::constant && dl.a < dt_ms * (1.0 - 1e-9))
        ctx.fail(at, p,
                 says(p, *at) + "a delay must be at least one step of dt = \"" + format_quantity(dt_ms, dimension::time) +
                     "\" (delays are whole steps of it)");
    const auto [lo, hi] = synapse_value_extremes(dl);
    if (!std::isfinite(lo) || !std::isfinite(hi))
        ctx.fail(at, p, says(p, *at) + "its draws overflow to infinity or NaN; the parameters are out of range");
    // A distribution that never reaches a step is the constant's mistake: every draw would be one step.
    if (dl.type != K::constant && hi < dt_ms * (1.0 - 1e-9))
        ctx.fail(at, p,
                 says(p, *at) + reach(dl, hi, dimension::time) + "every draw is under one step of dt = \"" +
                     format_quantity(dt_ms, dimension::time) +
                     "\" and would be one step: delays are whole steps of it, at least one");
    if (delay_steps(hi, dt_ms) > max_delay_steps)
        ctx.fail(at, p,
                 says(p, *at) + reach(dl, hi, dimension::time) + "a delay must be at most " +
                     format_number(max_delay_steps) + " steps of dt = \"" + format_quantity(dt_ms, dimension::time) +
                     "\" (" + format_quantity(max_delay_steps * dt_ms, dimension::time) + ")");
}

// The rule, and whether it can be realised between populations of these sizes (connect() checks
// the same, but only once the run is being set up).
connection_rule read_rule(const context& ctx, const toml::node& n, std::string_view path, const endpoint& src,
                          const endpoint& tgt) {
    connection_rule r;
    const std::string accepted =
        "\"all_to_all\", \"one_to_one\" or a table with exactly one of " + join(rule_names) +
        " (e.g. rule = { fixed_indegree = 100 }, rule = { pairwise_bernoulli = 0.1, autapses = false })";
    const auto index_of = [](std::string_view s) {
        for (std::size_t i = 0; i < rule_names.size(); ++i)
            if (rule_names[i] == s) return i;
        return rule_names.size();
    };
    const auto needs_value = [](rule_kind k) {
        return k == rule_kind::pairwise_bernoulli ? "p"
               : k == rule_kind::fixed_total      ? "N"
               : k == rule_kind::from_file        ? "\"synapses.csv\""
                                                  : "K";
    };
    if (n.is_string()) {
        const std::string s = n.as_string()->get();
        const std::size_t i = index_of(s);
        if (i == rule_names.size()) {
            const std::string near = suggest(s, rule_names);
            ctx.fail(&n, path,
                     says(path, n) + "unknown rule" + (near.empty() ? "" : "; did you mean '" + near + "'?") +
                         "; expected " + accepted);
        }
        r.kind = static_cast<rule_kind>(i);
        if (r.kind != rule_kind::all_to_all && r.kind != rule_kind::one_to_one)
            ctx.fail(&n, path,
                     says(path, n) + s + " needs a value: rule = { " + s + " = " + needs_value(r.kind) + " }");
    } else if (const auto* t = n.as_table()) {
        check_keys(ctx, *t, path, rule_keys);
        std::vector<std::string_view> named;
        for (auto&& [k, v] : *t)
            if (index_of(k.str()) < rule_names.size()) named.push_back(k.str());
        if (named.size() != 1)
            ctx.fail(&n, path,
                     says(path, n) +
                         (named.empty() ? std::string("names no rule")
                                        : "names " + std::to_string(named.size()) + " rules (" + join(named) + ")") +
                         "; expected exactly one of " + join(rule_names));
        r.kind = static_cast<rule_kind>(index_of(named[0]));
        const std::string kp = child_path(path, named[0]);
        const toml::node& v = *t->get(named[0]);
        switch (r.kind) {
            case rule_kind::pairwise_bernoulli:
                r.p = read_quantity(ctx, v, kp, dimension::dimensionless);
                if (!(r.p >= 0.0 && r.p <= 1.0))
                    ctx.fail(&v, kp, says(kp, v) + "a connection probability must be in [0, 1]");
                break;
            case rule_kind::fixed_indegree:
            case rule_kind::fixed_outdegree:
                r.degree = static_cast<std::uint64_t>(
                    read_integer(ctx, v, kp, 0, std::numeric_limits<std::int64_t>::max()));
                break;
            case rule_kind::fixed_total:
                // connect() draws at most 2^36 - 1 synapses for fixed_total.
                r.degree = static_cast<std::uint64_t>(
                    read_integer(ctx, v, kp, 0, (std::int64_t{1} << 36) - 1));
                break;
            case rule_kind::from_file: {
                r.file = read_string(ctx, v, kp, "a CSV (.csv) or HDF5 (.h5, .hdf5) file of synapses");
                if (r.file.empty())
                    ctx.fail(&v, kp, says(kp, v) + "a file name is required: a CSV (.csv) or HDF5 (.h5, .hdf5) file of synapses");
                std::filesystem::path file(r.file);
                if (file.is_relative()) file = ctx.base_dir / file;
                r.file = std::filesystem::absolute(file).lexically_normal().string();
                for (const std::string_view flag : {"autapses", "multapses"})
                    if (const auto* f = t->get(flag))
                        ctx.fail(f, child_path(path, flag),
                                 says(child_path(path, flag), *f) + "from_file makes exactly the synapses the file lists; " +
                                     std::string(flag) + " does not apply");
                break;
            }
            case rule_kind::all_to_all:
            case rule_kind::one_to_one:
                if (!v.is_boolean() || !v.as_boolean()->get())
                    ctx.fail(&v, kp,
                             says(kp, v) + "expected true: rule = { " + std::string(named[0]) +
                                 " = true } (or the string rule = \"" + std::string(named[0]) + "\")");
                break;
        }
        if (const auto* f = t->get("autapses")) r.autapses = read_bool(ctx, *f, child_path(path, "autapses"));
        if (const auto* f = t->get("multapses")) r.multapses = read_bool(ctx, *f, child_path(path, "multapses"));
    } else {
        ctx.fail(&n, path, says(path, n) + "expected " + accepted);
    }

    const bool same = src.name == tgt.name;
    const bool no_self = same && !r.autapses;
    const std::string S = std::to_string(src.size), M = std::to_string(tgt.size);
    const std::string name(rule_names[static_cast<std::size_t>(r.kind)]);
    const std::string K = std::to_string(r.degree);
    const std::string self_note = no_self ? " (autapses = false in a projection from '" + src.name + "' onto itself)" : "";
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli:
        case rule_kind::all_to_all:
        case rule_kind::from_file: break;  // the file's indices are checked when it is read
        case rule_kind::fixed_indegree:
        case rule_kind::fixed_outdegree: {
            const bool in = r.kind == rule_kind::fixed_indegree;
            const endpoint& pool_pop = in ? src : tgt;
            const std::uint64_t avail = pool_pop.size - (no_self ? 1 : 0);
            const char* what = in ? "sources" : "targets";
            if (r.degree > 0 && avail == 0)
                ctx.fail(&n, path,
                         says(path, n) + name + " = " + K + " but no " + what + " are available" + self_note);
            if (!r.multapses && r.degree > avail)
                ctx.fail(&n, path,
                         says(path, n) + name + " = " + K + " with multapses = false needs " + K +
                             " distinct " + what + ", but " + (in ? "source '" : "target '") +
                             pool_pop.name + "' offers " + std::to_string(avail) + self_note +
                             "; accepted: " + name + " <= " + std::to_string(avail) + ", or multapses = true");
            break;
        }
        case rule_kind::fixed_total: {
            // src.size, tgt.size <= 2^32: the product overflows only when both are 2^32.
            const bool huge = src.size > std::numeric_limits<std::uint64_t>::max() / tgt.size;
            const std::uint64_t pairs = huge ? std::numeric_limits<std::uint64_t>::max()
                                             : src.size * tgt.size - (no_self ? src.size : 0);
            if (r.degree > 0 && pairs == 0)
                ctx.fail(&n, path, says(path, n) + "fixed_total = " + K + " but no pair of neurons may connect" + self_note);
            if (!r.multapses && r.degree > pairs)
                ctx.fail(&n, path,
                         says(path, n) + "fixed_total = " + K + " with multapses = false exceeds the " +
                             std::to_string(pairs) + " distinct pairs of '" + src.name + "' (" + S +
                             ") and '" + tgt.name + "' (" + M + ")" + self_note +
                             "; accepted: fixed_total <= " + std::to_string(pairs) + ", or multapses = true");
            break;
        }
        case rule_kind::one_to_one:
            if (src.size != tgt.size)
                ctx.fail(&n, path,
                         says(path, n) + "one_to_one connects neuron i to neuron i and needs equal sizes, but source '" +
                             src.name + "' has " + S + " neurons and target '" + tgt.name + "' has " + M);
            if (no_self)
                ctx.fail(&n, path,
                         says(path, n) + "one_to_one within population '" + src.name +
                             "' makes only autapses i -> i, which autapses = false forbids; set autapses = true");
            break;
    }
    return r;
}

// `names`: the earlier projections' names, this one's added.
projection_spec read_projection(const context& ctx, const toml::table& t, std::string_view path,
                                const run_spec& spec, const endpoint_index& index,
                                std::unordered_set<std::string>& names) {
    check_keys(ctx, t, path, projection_keys);
    projection_spec pr;
    if (const toml::node* name_node = t.get("name")) {
        const toml::node* n = nullptr;
        pr.name = read_name(ctx, t, path, "projection", n);
        if (!names.insert(pr.name).second)
            ctx.fail(name_node, child_path(path, "name"),
                     says(child_path(path, "name"), *name_node) + "projection names must be unique; '" + pr.name +
                         "' names an earlier projection too");
    }
    const endpoint src = read_endpoint(ctx, t, path, "source", spec, index, true);
    const endpoint tgt = read_endpoint(ctx, t, path, "target", spec, index, false);
    pr.source = src.name;
    pr.target = tgt.name;

    pr.synapse = read_synapse_kind(ctx, t, path);
    const std::string kind = synapse_says(pr.synapse);

    pr.rule = read_rule(ctx,
                        required(ctx, t, path, "rule",
                                 "a connection rule (\"all_to_all\", \"one_to_one\" or a table with one of " +
                                     join(rule_names) + ")"),
                        child_path(path, "rule"), src, tgt);
    if (pr.rule.kind == rule_kind::from_file) {
        // The file's columns decide which of weight and delay the config must give.
        const toml::node* rule_node = t.get("rule")->as_table()->get("from_file");
        synapse_columns columns;
        try {
            columns = synapse_file_columns(pr.rule.file);
        } catch (const config_error& e) {
            const std::string fp = child_path(path, "rule.from_file");
            ctx.fail(rule_node, fp, says(fp, *rule_node) + e.what());
        }
        pr.weight_from_file = columns.weight;
        pr.delay_from_file = columns.delay;
        for (const auto& [key, from_file] : {std::pair{"weight", columns.weight}, std::pair{"delay", columns.delay}})
            if (const auto* n = t.get(key); n != nullptr && from_file)
                ctx.fail(n, child_path(path, key),
                         says(child_path(path, key), *n) + "the file " + pr.rule.file + " has a " + key +
                             " column, which gives every synapse its " + key + "; remove " + key + " here");
    }

    const dimension wd = weight_dimension(pr.synapse);
    const std::string wu(default_unit(wd));
    if (!pr.weight_from_file) {
        const std::string weight_needs = kind + " takes a weight in " + wu + " (a " +
                                         std::string(dimension_name(wd)) +
                                         "; delta: mV, exp_current: pA, exp_conductance: nS)";
        const auto& wn = required(ctx, t, path, "weight",
                                  "a weight in " + wu + " for " + kind +
                                      (pr.rule.kind == rule_kind::from_file ? " (or a weight column in the file)" : ""));
        const std::string wp = child_path(path, "weight");
        pr.weight = read_synapse_distribution(ctx, wn, wp, wd, weight_needs);
        check_weight(ctx, wn, wp, pr.weight, pr.synapse);
    }

    if (const auto* n = t.get("delay")) {
        const std::string dp = child_path(path, "delay");
        pr.delay = read_synapse_distribution(ctx, *n, dp, dimension::time, "a delay is a time (ms)");
        check_delay(ctx, *n, dp, pr.delay, spec.simulation.dt_ms);
    } else if (!pr.delay_from_file && delay_steps(pr.delay.a, spec.simulation.dt_ms) > max_delay_steps) {
        ctx.fail(&t, path,
                 std::string(path) + ": the default delay of " + format_quantity(pr.delay.a, dimension::time) +
                     " is more than " + format_number(max_delay_steps) + " steps of dt = \"" +
                     format_quantity(spec.simulation.dt_ms, dimension::time) + "\"; give a shorter delay");
    }

    read_synapse_constants(ctx, t, path, pr.synapse, pr.tau_syn_ms, pr.E_rev_mV);
    return pr;
}

void read_projections(const context& ctx, const toml::table& root, run_spec& spec) {
    const toml::array* list = optional_tables(ctx, root, "projection");
    if (list == nullptr) return;
    if (list->size() > max_projections)
        ctx.fail(list, "projection",
                 "projection has " + std::to_string(list->size()) + " entries; at most " +
                     std::to_string(max_projections) +
                     " [[projection]] tables are allowed (each has its own random streams)");
    const endpoint_index index(spec);
    std::unordered_set<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i)
        spec.projections.push_back(
            read_projection(ctx, *(*list)[i].as_table(), element_path("projection", i), spec, index, names));
}

}  // namespace

void read_network(const context& ctx, const toml::table& root, run_spec& spec) {
    read_generators(ctx, root, spec);
    read_projections(ctx, root, spec);
}

void read_poisson_synapse(const context& ctx, const toml::table& t, std::string_view path, input_spec& in) {
    in.poisson_synapse = read_synapse_kind(ctx, t, path);
    if (const auto* n = t.get("weight")) {
        const std::string kp = child_path(path, "weight");
        const dimension wd = weight_dimension(in.poisson_synapse);
        const std::string unit(default_unit(wd));
        in.poisson_weight = read_synaptic_quantity(ctx, *n, kp, wd,
                                                   synapse_says(in.poisson_synapse) + " takes a weight in " + unit +
                                                       " (delta: mV, exp_current: pA, exp_conductance: nS)");
        if (!(std::fabs(in.poisson_weight) <= max_abs_weight))
            ctx.fail(n, kp, says(kp, *n) + "must be within +-1e6 " + unit);  // max_abs_weight
        check_weight(ctx, *n, kp, synapse_distribution::constant(in.poisson_weight), in.poisson_synapse);
    }
    read_synapse_constants(ctx, t, path, in.poisson_synapse, in.poisson_tau_syn_ms, in.poisson_E_rev_mV);
}

}  // namespace ifsim::config_detail
