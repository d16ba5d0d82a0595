// The schema: a parsed (and overridden) TOML document becomes a run_spec, checked completely, with
// every default filled in. The first problem found is thrown as a config_error.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "config_detail.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/network.hpp"

namespace ifsim::config_detail {

bool is_identifier(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

const toml::node& required(const context& ctx, const toml::table& t, std::string_view path,
                           std::string_view key, std::string_view what) {
    const toml::node* n = t.get(key);
    if (n == nullptr)
        ctx.fail(&t, child_path(path, key),
                 child_path(path, key) + " is missing: " + std::string(what) + " is required");
    return *n;
}

std::string read_name(const context& ctx, const toml::table& t, std::string_view path, std::string_view what,
                      const toml::node*& node) {
    node = &required(ctx, t, path, "name", "a name");
    const std::string np = child_path(path, "name");
    std::string name = read_string(ctx, *node, np, "a name of letters, digits and _");
    if (!is_identifier(name))
        ctx.fail(node, np, says(np, *node) + "a " + std::string(what) + " name is letters, digits and _, not starting with a digit");
    // spikes = ["all"] records every population: a population or generator so named could not be.
    if (name == "all" && what != "projection")
        ctx.fail(node, np, says(np, *node) + "'all' is reserved: a spike record's \"all\" means every population");
    return name;
}

// One of a fixed set of words; returns its index.
std::size_t read_choice(const context& ctx, const toml::node& n, std::string_view path,
                        std::span<const std::string_view> choices) {
    std::string accepted;
    for (auto c : choices) accepted += (accepted.empty() ? "\"" : " | \"") + std::string(c) + "\"";
    const std::string s = read_string(ctx, n, path, accepted);
    for (std::size_t i = 0; i < choices.size(); ++i)
        if (choices[i] == s) return i;
    const std::string near = suggest(s, choices), elsewhere = other_simulators_value(s);
    ctx.fail(&n, path,
             says(path, n) + "expected one of " + accepted +
                 (!elsewhere.empty() ? "; " + elsewhere : near.empty() ? "" : "; did you mean '" + near + "'?"));
}

// The optional [[key]] list of the root: null when absent or empty; an error unless it is an array
// of tables.
const toml::array* optional_tables(const context& ctx, const toml::table& root, const std::string& key) {
    const toml::node* n = root.get(key);
    if (n == nullptr) return nullptr;
    const auto* list = n->as_array();
    if (list != nullptr && list->empty()) return nullptr;
    if (list == nullptr || !list->is_array_of_tables())
        ctx.fail(n, key, says(key, *n) + "expected an array of tables: write [[" + key + "]]");
    return list;
}

namespace {

constexpr std::int64_t two_to_32 = std::int64_t{1} << 32;
constexpr std::size_t max_report_name = 200;  // characters: "<name>.h5.part" within 255 bytes

bool is_report_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}



// ASCII letters compared without case: report names are [A-Za-z0-9_-].
bool same_ignoring_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

// Why `name` is no population to record the state of: a generator's (it has none), or unknown.
std::string not_a_population(const std::string& name, std::span<const std::string_view> names, const run_spec& spec) {
    for (const auto& g : spec.generators)
        if (g.name == name)
            return "'" + name + "' is a generator, which has no state: record its spikes (spikes = [\"" + name +
                   "\"]) or the state of the populations it drives (populations: " + join(names) + ")";
    const std::string near = suggest(name, names);
    return "no population is named '" + name + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?") +
           " (populations: " + join(names) + ")";
}

// A spike record's list of population or generator names, one name, or "all" (the populations).
std::vector<std::string> read_population_list(const context& ctx, const toml::node& n,
                                              std::string_view path,
                                              std::span<const std::string_view> names, const run_spec& spec) {
    std::vector<std::string> out;
    const auto add = [&](const toml::node& item, std::string_view p) {
        const std::string s = read_string(ctx, item, p, "a population or generator name, or \"all\"");
        if (s == "all") {
            for (auto name : names) out.emplace_back(name);
            return;
        }
        const bool generator = std::any_of(spec.generators.begin(), spec.generators.end(),
                                           [&](const generator_spec& g) { return g.name == s; });
        if (!generator && std::find(names.begin(), names.end(), s) == names.end()) {
            std::vector<std::string_view> either(names.begin(), names.end());
            for (const auto& g : spec.generators) either.push_back(g.name);
            const std::string near = suggest(s, either);
            ctx.fail(&item, p, says(p, item) + "no population or generator is named '" + s + "'" +
                                   (near.empty() ? "" : "; did you mean '" + near + "'?") + " (populations and generators: " +
                                   join(either) + ")");
        }
        out.push_back(s);
    };
    if (const auto* a = n.as_array()) {
        if (a->empty())
            ctx.fail(&n, path,
                     says(path, n) + "an empty list records nothing; name populations or generators, or \"all\"");
        for (std::size_t i = 0; i < a->size(); ++i) add((*a)[i], element_path(path, i));
    } else if (n.is_string()) {
        add(n, path);
    } else {
        ctx.fail(&n, path, says(path, n) + "expected a list of population names or \"all\"");
    }
    return out;
}

// ---- [simulation] ----

simulation_spec read_simulation(const context& ctx, const toml::table& root) {
    simulation_spec sim;
    const toml::table* t = optional_table(ctx, root, "", "simulation");
    if (t == nullptr) return sim;
    check_keys(ctx, *t, "simulation", simulation_keys);

    const auto positive_time = [&](std::string_view key, double& out) -> const toml::node* {
        const toml::node* n = t->get(key);
        if (n == nullptr) return nullptr;
        const std::string p = child_path("simulation", key);
        out = read_quantity(ctx, *n, p, dimension::time);
        if (!(out > 0.0)) ctx.fail(n, p, says(p, *n) + "must be a time > 0, e.g. \"0.1 ms\"");
        return n;
    };
    const toml::node* dt = positive_time("dt", sim.dt_ms);
    const toml::node* duration = positive_time("duration", sim.duration_ms);
    if (sim.dt_ms > sim.duration_ms)
        ctx.fail(dt ? dt : duration, dt ? "simulation.dt" : "simulation.duration",
                 "simulation.dt = \"" + format_quantity(sim.dt_ms, dimension::time) +
                     "\" is longer than simulation.duration = \"" +
                     format_quantity(sim.duration_ms, dimension::time) +
                     "\"; dt must be <= duration");
    // Steps are counted in 64 bits and key the noise (16 Philox blocks per step; cuRAND's offset
    // is 64 per step): 2^40 steps, 3.5 years of 0.1 ms, keeps every count exact.
    if (const double steps = sim.duration_ms / sim.dt_ms; steps > max_steps)
        ctx.fail(dt ? dt : duration, dt ? "simulation.dt" : "simulation.duration",
                 "simulation.duration / simulation.dt = " + format_quantity(sim.duration_ms, dimension::time) + " / " +
                     format_quantity(sim.dt_ms, dimension::time) + " is " + format_number(steps) +
                     " steps; at most 2^40 = 1099511627776 are allowed: a longer dt or a shorter duration");

    if (const auto* n = t->get("seed"))
        sim.seed = static_cast<std::uint64_t>(read_integer(ctx, *n, "simulation.seed", 0, two_to_32 - 1));
    if (const auto* n = t->get("precision")) {
        static constexpr std::array<std::string_view, 2> choices = {"float", "double"};
        sim.real = read_choice(ctx, *n, "simulation.precision", choices) == 0 ? precision::single
                                                                             : precision::double_;
    }
    if (const auto* n = t->get("spike_timing")) {
        static constexpr std::array<std::string_view, 2> choices = {"grid", "interpolated"};
        sim.timing = read_choice(ctx, *n, "simulation.spike_timing", choices) == 0
                         ? spike_timing::grid
                         : spike_timing::interpolated;
    }
    if (const auto* n = t->get("threads"))
        sim.threads = static_cast<unsigned>(
            read_integer(ctx, *n, "simulation.threads", 0, max_threads));
    return sim;
}

// ---- [[population]].params ----

// The value neuron i of n takes under a deterministic rule; for uniform, `high` picks the end.
double value_at(const distribution& d, std::uint64_t i, std::uint64_t n, bool high) {
    switch (d.type) {
        case distribution::kind::constant: return d.a;
        case distribution::kind::linspace:
            return n <= 1 ? d.a : d.a + (d.b - d.a) * (static_cast<double>(i) / static_cast<double>(n - 1));
        case distribution::kind::uniform: return high ? d.b : d.a;
        case distribution::kind::normal: return d.a;
        case distribution::kind::array: return d.values[i];
    }
    return d.a;
}

bool is_random(const distribution& d) {
    return d.type == distribution::kind::uniform || d.type == distribution::kind::normal;
}

// V_peak's default V_T + 5 Delta_T (eif, adex) follows V_T and Delta_T neuron by neuron.
distribution default_v_peak(const context& ctx, const toml::node* at, std::string_view path,
                            model_kind m, const distribution& V_T, const distribution& Delta_T,
                            std::uint64_t n) {
    const auto peak = [m](double vt, double dT) {
        neuron_params p;
        p.V_T = vt;
        p.Delta_T = dT;
        return with_model_defaults(p, m).V_peak;
    };
    if (m == model_kind::qif) return distribution::constant(with_model_defaults({}, m).V_peak);
    if (V_T.is_constant() && Delta_T.is_constant()) return distribution::constant(peak(V_T.a, Delta_T.a));
    if (is_random(V_T) || is_random(Delta_T))
        ctx.fail(at, child_path(path, "V_peak"),
                 child_path(path, "V_peak") +
                     " is missing and has no default when V_T or Delta_T is random (uniform or "
                     "normal): give V_peak explicitly");
    const auto linear = [](const distribution& d) {
        return d.type == distribution::kind::constant || d.type == distribution::kind::linspace;
    };
    distribution out;
    if (linear(V_T) && linear(Delta_T)) {
        const auto last = [](const distribution& d) { return d.is_constant() ? d.a : d.b; };
        out.type = distribution::kind::linspace;
        out.a = peak(V_T.a, Delta_T.a);
        out.b = peak(last(V_T), last(Delta_T));
        return out;
    }
    out.type = distribution::kind::array;
    out.values.resize(n);
    for (std::uint64_t i = 0; i < n; ++i)
        out.values[i] = peak(value_at(V_T, i, n, false), value_at(Delta_T, i, n, false));
    return out;
}

std::string users_of(std::string_view param) {
    std::string out;
    for (auto m : all_models) {
        const auto names = model_param_names(m);
        if (std::find(names.begin(), names.end(), param) != names.end())
            out += (out.empty() ? "" : ", ") + std::string(model_name(m));
    }
    return out;
}

// check_params on every neuron a deterministic rule makes (linspace: both ends, array: every
// value) and, for uniform ranges, at every combination of their ends (the constraints are linear,
// so the corners bound them). Normal spreads are checked at their mean.
void check_population_params(const context& ctx, const toml::node* at, std::string_view path,
                             const population_spec& pop, const simulation_spec& sim) {
    const auto names = model_param_names(pop.model);
    const std::uint64_t n = pop.size;
    bool any_array = false, any_linspace = false, any_normal = false;
    std::vector<std::string_view> uniform_names;
    for (auto name : names) {
        const auto& d = pop.params.at(std::string(name));
        any_array |= d.type == distribution::kind::array;
        any_linspace |= d.type == distribution::kind::linspace;
        any_normal |= d.type == distribution::kind::normal;
        if (d.type == distribution::kind::uniform) uniform_names.push_back(name);
    }
    std::vector<std::uint64_t> indices = {0};
    if (any_array) {
        indices.resize(n);
        for (std::uint64_t i = 0; i < n; ++i) indices[i] = i;
    } else if (any_linspace && n > 1) {
        indices.push_back(n - 1);
    }
    const std::size_t u = uniform_names.size();
    std::vector<std::uint32_t> masks;
    if (u <= 16 && (indices.size() << u) <= (std::size_t{1} << 22)) {
        for (std::uint32_t mask = 0; mask < (1u << u); ++mask) masks.push_back(mask);
    } else {
        masks = {0u, (1u << u) - 1u};
    }
    for (auto i : indices) {
        for (auto mask : masks) {
            neuron_params p;
            for (const auto& f : param_fields) {
                const auto it = pop.params.find(std::string(f.name));
                if (it == pop.params.end()) continue;
                const auto pos = std::find(uniform_names.begin(), uniform_names.end(), f.name);
                const bool high = pos != uniform_names.end() &&
                                  ((mask >> (pos - uniform_names.begin())) & 1u);
                p.*f.member = value_at(it->second, i, n, high);
            }
            std::string problem = check_params(p, pop.model, sim.dt_ms), remedy;
            // The derived coefficients in the range of the run's Real (population_setup.hpp), with
            // the model defaults the run fills in.
            if (problem.empty()) {
                problem = coefficient_range_problem(with_model_defaults(p, pop.model), pop.model, sim.dt_ms, sim.real);
                if (sim.real == precision::single) remedy = float_range_remedy;
            }
            if (problem.empty()) continue;
            std::string where;
            if (any_array || any_linspace) where += " for neuron " + std::to_string(i);
            for (std::size_t k = 0; k < u; ++k)
                where += std::string(where.empty() ? " with " : (k == 0 ? ", with " : ", ")) +
                         "uniform " + std::string(uniform_names[k]) + " at its " +
                         (((mask >> k) & 1u) ? "high" : "low") + " end";
            if (any_normal) where += " (normal spreads are checked at their mean)";
            ctx.fail(at, child_path(path, "params"),
                     child_path(path, "params") + " (population '" + pop.name + "', model " +
                         std::string(model_name(pop.model)) + "): " + problem + where + remedy);
        }
    }
}

void read_params(const context& ctx, const toml::table& t, std::string_view path,
                 population_spec& pop, const simulation_spec& sim) {
    const std::string p = child_path(path, "params");
    const toml::table* params = optional_table(ctx, t, path, "params");
    const auto names = model_param_names(pop.model);
    const owner who{pop.name, pop.size};
    const std::string model(model_name(pop.model));
    if (params != nullptr) {
        for (auto&& [k, v] : *params) {
            if (std::find(names.begin(), names.end(), k.str()) != names.end()) continue;
            const std::string kp = child_path(p, k.str());
            const std::string users = users_of(k.str());
            if (!users.empty())
                ctx.fail(&v, kp,
                         "key '" + kp + "': " + std::string(k.str()) + " is not a parameter of model '" +
                             model + "' (it is used by " + users + "); " + model + " takes: " +
                             join(names));
            ctx.fail(&v, kp,
                     "unknown key '" + kp + "'" + did_you_mean(p, k.str(), names) +
                         " (model " + model + " takes: " + join(names) + ")");
        }
    }
    const neuron_params defaults;
    for (const auto& f : param_fields) {
        if (std::find(names.begin(), names.end(), f.name) == names.end()) continue;
        const toml::node* n = params ? params->get(f.name) : nullptr;
        if (n != nullptr)
            pop.params[std::string(f.name)] = read_distribution(ctx, *n, child_path(p, f.name), f.dim, who);
        else if (f.name != "V_peak")
            pop.params[std::string(f.name)] = distribution::constant(defaults.*f.member);
    }
    if (std::find(names.begin(), names.end(), "V_peak") != names.end() && !pop.params.contains("V_peak")) {
        const distribution none = distribution::constant(0.0);
        const auto get = [&](const char* key) -> const distribution& {
            const auto it = pop.params.find(key);
            return it == pop.params.end() ? none : it->second;
        };
        pop.params["V_peak"] = default_v_peak(ctx, params ? static_cast<const toml::node*>(params) : &t,
                                              p, pop.model, get("V_T"), get("Delta_T"), pop.size);
    }
    check_population_params(ctx, params ? static_cast<const toml::node*>(params) : &t, path, pop, sim);
}

// ---- [[population]].input ----

// Every value `d` can take (check_every_value) within `key`'s range, the one a run checks the
// drawn values against.
void check_key_range(const context& ctx, const toml::node* at, std::string_view path, const distribution& d,
                     const drawn_key& key) {
    check_every_value(ctx, at, path, d, key.dim, [&](double v) { return in_key_range(key, v); }, key.rule);
}

void read_input(const context& ctx, const toml::table& t, std::string_view path, const simulation_spec& sim,
                population_spec& pop) {
    const std::string p = child_path(path, "input");
    const toml::table* in = optional_table(ctx, t, path, "input");
    if (in == nullptr) return;
    check_keys(ctx, *in, p, input_keys);
    const owner who{pop.name, pop.size};
    input_spec& input = pop.input;
    if (const auto* n = in->get("I_e")) {
        const std::string kp = child_path(p, "I_e");
        input.I_e = read_distribution(ctx, *n, kp, dimension::current, who);
        check_key_range(ctx, n, kp, input.I_e, I_e_key);
    }

    if (const auto* s = optional_table(ctx, *in, p, "steps")) {
        const std::string sp = child_path(p, "steps");
        check_keys(ctx, *s, sp, steps_keys);
        const auto list = [&](std::string_view key, dimension d) {
            const toml::node& n = required(ctx, *s, sp, key, "a list of " + std::string(dimension_name(d)) + "s");
            const std::string kp = child_path(sp, key);
            if (!n.is_array()) ctx.fail(&n, kp, says(kp, n) + "expected a list of " + std::string(dimension_name(d)) + "s");
            std::vector<double> out;
            for (std::size_t i = 0; i < n.as_array()->size(); ++i)
                out.push_back(read_quantity(ctx, (*n.as_array())[i], element_path(kp, i), d));
            return out;
        };
        input.steps.time_ms = list("times", dimension::time);
        input.steps.amplitude_pA = list("amplitudes", dimension::current);
        const auto& times = *s->get("times")->as_array();
        const auto& amplitudes = *s->get("amplitudes")->as_array();
        for (std::size_t i = 0; i < input.steps.amplitude_pA.size(); ++i)
            if (!in_key_range(I_e_key, input.steps.amplitude_pA[i])) {  // a bias current, as I_e
                const std::string ip = element_path(child_path(sp, "amplitudes"), i);
                ctx.fail(&amplitudes[i], ip, says(ip, amplitudes[i]) + std::string(I_e_key.rule));
            }
        if (input.steps.time_ms.size() != input.steps.amplitude_pA.size())
            ctx.fail(s, sp,
                     sp + ": times has " + std::to_string(input.steps.time_ms.size()) +
                         " entries but amplitudes has " + std::to_string(input.steps.amplitude_pA.size()) +
                         "; they must pair up, one amplitude per switch time");
        for (std::size_t i = 0; i < input.steps.time_ms.size(); ++i) {
            const std::string ip = element_path(child_path(sp, "times"), i);
            if (input.steps.time_ms[i] < 0.0)
                ctx.fail(&times[i], ip, says(ip, times[i]) + "switch times must be >= 0 ms");
            check_at_most_max_steps(ctx, times[i], ip, input.steps.time_ms[i], sim.dt_ms);
            if (i > 0 && !(input.steps.time_ms[i] > input.steps.time_ms[i - 1]))
                ctx.fail(&times[i], ip,
                         says(ip, times[i]) + "switch times must be strictly increasing (previous: \"" +
                             format_quantity(input.steps.time_ms[i - 1], dimension::time) + "\")");
            // Each switch on its own step: of two on one, the first was never applied.
            const double step = sim.dt_ms > 0.0 ? nearest_steps(input.steps.time_ms[i], sim.dt_ms) : -1.0;
            if (i > 0 && step >= 0.0 && step == nearest_steps(input.steps.time_ms[i - 1], sim.dt_ms))
                ctx.fail(&times[i], ip,
                         says(ip, times[i]) + "switch times must fall on different steps; it and the previous, \"" +
                             format_quantity(input.steps.time_ms[i - 1], dimension::time) + "\", both round to step " +
                             std::to_string(std::uint64_t(step)) + " of dt = " +
                             format_quantity(sim.dt_ms, dimension::time) +
                             " (a time half a step off the grid goes to the even step, as every time does)");
        }
    }

    if (const auto* s = optional_table(ctx, *in, p, "noise")) {
        const std::string sp = child_path(p, "noise");
        check_keys(ctx, *s, sp, noise_keys);
        if (const auto* n = s->get("sigma_V")) {
            const std::string kp = child_path(sp, "sigma_V");
            input.sigma_V = read_distribution(ctx, *n, kp, dimension::voltage, who);
            check_key_range(ctx, n, kp, input.sigma_V, sigma_V_key);
        }
        if (const auto* n = s->get("bridge")) input.bridge = read_bool(ctx, *n, child_path(sp, "bridge"));
    }

    if (const auto* s = optional_table(ctx, *in, p, "ou")) {
        const std::string sp = child_path(p, "ou");
        check_keys(ctx, *s, sp, ou_keys);
        if (const auto* n = s->get("sigma_I")) {
            const std::string kp = child_path(sp, "sigma_I");
            input.sigma_I = read_distribution(ctx, *n, kp, dimension::current, who);
            check_key_range(ctx, n, kp, input.sigma_I, sigma_I_key);
        }
        if (const auto* n = s->get("tau_I")) {
            const std::string kp = child_path(sp, "tau_I");
            input.tau_I_ms = read_quantity(ctx, *n, kp, dimension::time);
            if (!(input.tau_I_ms > 0.0)) ctx.fail(n, kp, says(kp, *n) + "must be a time > 0");
        }
    }

    if (const auto* s = optional_table(ctx, *in, p, "poisson")) {
        const std::string sp = child_path(p, "poisson");
        check_keys(ctx, *s, sp, poisson_keys);
        if (const auto* n = s->get("rate")) {
            const std::string kp = child_path(sp, "rate");
            input.poisson_rate_Hz = read_quantity(ctx, *n, kp, dimension::frequency);
            if (!(input.poisson_rate_Hz >= 0.0)) ctx.fail(n, kp, says(kp, *n) + "must be a rate >= 0 Hz");
        }
        read_poisson_synapse(ctx, *s, sp, input);
        if (const auto* n = s->get("count"))
            input.poisson_count = static_cast<std::uint64_t>(read_integer(
                ctx, *n, child_path(sp, "count"), 0, std::numeric_limits<std::int64_t>::max()));
        // A rate of 0 (the default) makes count and weight nothing, silently.
        if (!s->get("rate") && (s->get("count") || s->get("weight"))) {
            const char* key = s->get("count") ? "count" : "weight";
            ctx.fail(s->get(key), child_path(sp, key),
                     says(child_path(sp, key), *s->get(key)) + "needs rate (of each input) beside it: without, the input does nothing");
        }
        // Either would default to 0 and make the input nothing, silently.
        if (const auto* n = s->get("rate"); n && input.poisson_rate_Hz > 0.0 && (!s->get("count") || !s->get("weight"))) {
            const std::string kp = child_path(sp, "rate");
            ctx.fail(n, kp,
                     says(kp, *n) + "needs " + (s->get("count") ? "" : "count (independent inputs per neuron)") +
                         (s->get("count") || s->get("weight") ? "" : " and ") +
                         (s->get("weight") ? "" : "weight (the effect of each input spike)") + " beside it: without, the input does nothing");
        }
        // The inputs' spikes per step, as population_setup.hpp computes them: poisson_count draws
        // exactly up to a mean of 1e6.
        const double mean = input.poisson_rate_Hz * 1e-3 * sim.dt_ms * double(input.poisson_count);
        if (mean > max_poisson_mean_per_step) {  // (NaN: dt is wrong, and said so)
            const auto* n = s->get("rate") ? s->get("rate") : s->get("count");
            const std::string kp = child_path(sp, s->get("rate") ? "rate" : "count");
            ctx.fail(n, kp,
                     says(kp, *n) + "rate x count x dt = " + format_number(mean) +
                         " input spikes per neuron and step; at most " + format_number(max_poisson_mean_per_step) +
                         " are allowed (for a stronger drive use input.I_e and input.noise, its diffusion limit)");
        }
    }
}

bool ou_on(const input_spec& in) { return !(in.sigma_I.is_constant() && in.sigma_I.a == 0.0); }

// ---- [[population]].init ----

void read_init(const context& ctx, const toml::table& t, std::string_view path,
               population_spec& pop) {
    const std::string p = child_path(path, "init");
    const toml::table* init = optional_table(ctx, t, path, "init");
    const owner who{pop.name, pop.size};
    const bool adaptive = has_adaptation(pop.model);
    const bool ou = ou_on(pop.input);
    if (init != nullptr) {
        check_keys(ctx, *init, p, init_keys);
        if (const auto* n = init->get("w"); n != nullptr && !adaptive)
            ctx.fail(n, child_path(p, "w"),
                     says(child_path(p, "w"), *n) + "model '" + std::string(model_name(pop.model)) +
                         "' has no adaptation current w (only alif and adex do)");
        if (const auto* n = init->get("I_noise"); n != nullptr && !ou)
            ctx.fail(n, child_path(p, "I_noise"),
                     says(child_path(p, "I_noise"), *n) +
                         "I_noise is the OU input current; it needs input.ou.sigma_I > 0");
    }
    const auto get = [&](std::string_view key, dimension d, const distribution& fallback) {
        const toml::node* n = init ? init->get(key) : nullptr;
        pop.init[std::string(key)] = n ? read_distribution(ctx, *n, child_path(p, key), d, who) : fallback;
    };
    get("V_m", dimension::voltage, pop.params.at("E_L"));
    if (adaptive) get("w", dimension::current, distribution::constant(0.0));
    if (ou) get("I_noise", dimension::current, distribution::constant(0.0));
    for (const drawn_key& key : {V_m_key, w_key, I_noise_key}) {
        const std::string name = init_name(key);
        if (const toml::node* n = init ? init->get(name) : nullptr; n != nullptr && pop.init.count(name))
            check_key_range(ctx, n, child_path(p, name), pop.init.at(name), key);
    }
}

population_spec read_population(const context& ctx, const toml::table& t, std::string_view path,
                                const simulation_spec& sim, const std::vector<population_spec>& earlier) {
    check_keys(ctx, t, path, population_keys);
    population_spec pop;
    const toml::node* name_node = nullptr;
    pop.name = read_name(ctx, t, path, "population", name_node);
    const std::string name_path = child_path(path, "name");
    for (const auto& e : earlier)
        if (e.name == pop.name)
            ctx.fail(name_node, name_path,
                     says(name_path, *name_node) + "population names must be unique; '" + pop.name +
                         "' is already used by an earlier population");

    pop.size = static_cast<std::uint64_t>(
        read_integer(ctx, required(ctx, t, path, "size", "the number of neurons"), child_path(path, "size"), 1, two_to_32));

    std::array<std::string_view, all_models.size()> model_names{};
    for (std::size_t i = 0; i < all_models.size(); ++i) model_names[i] = model_name(all_models[i]);
    const auto& model_node = required(ctx, t, path, "model", "a model (" + join(model_names) + ")");
    pop.model = all_models[read_choice(ctx, model_node, child_path(path, "model"), model_names)];

    read_params(ctx, t, path, pop, sim);
    read_input(ctx, t, path, sim, pop);
    read_init(ctx, t, path, pop);
    return pop;
}

// ---- [[record]] ----

// What a record's neuron indices refer to: a population, or a generator (spikes only).
struct spike_source_ref {
    std::string kind;  // "population" or "generator"
    std::string name;
    std::uint64_t size;
};

spike_source_ref spike_source(const run_spec& spec, const std::string& name) {
    for (const auto& p : spec.populations)
        if (p.name == name) return {"population", p.name, p.size};
    for (const auto& g : spec.generators)
        if (g.name == name) return {"generator", g.name, g.size};
    throw std::logic_error("spike_source: '" + name + "' was validated as a population or generator");
}

// A record's `neurons`: "all", { range = [first, end) } or a list of distinct indices (in its order).
neuron_subset read_neuron_subset(const context& ctx, const toml::node& n, std::string_view path,
                                 const spike_source_ref& pop) {
    neuron_subset out;
    if (n.is_string()) {
        if (n.as_string()->get() != "all")
            ctx.fail(&n, path, says(path, n) + "expected \"all\", a non-empty list of neuron indices or { range = [first, end) }");
        return out;  // every neuron: a spike record's default
    }
    const auto limit = static_cast<std::int64_t>(pop.size);
    const std::string accepted = "indices 0 .. " + std::to_string(pop.size - 1) + " of " + pop.kind + " '" +
                                 pop.name + "' (size " + std::to_string(pop.size) + ")";
    if (const auto* t = n.as_table()) {
        static constexpr std::array<std::string_view, 1> keys = {"range"};
        check_keys(ctx, *t, path, keys);
        const auto& r = required(ctx, *t, path, "range", "range = [first, end) ");
        const std::string rp = child_path(path, "range");
        if (!r.is_array() || r.as_array()->size() != 2)
            ctx.fail(&r, rp, says(rp, r) + "expected [first, end), half open: two integers");
        out.first = std::uint64_t(read_integer(ctx, (*r.as_array())[0], element_path(rp, 0), 0, limit - 1));
        out.end = std::uint64_t(read_integer(ctx, (*r.as_array())[1], element_path(rp, 1), std::int64_t(out.first) + 1, limit));
        return out;
    }
    const auto* a = n.as_array();
    if (a == nullptr || a->empty())
        ctx.fail(&n, path, says(path, n) + "expected \"all\", a non-empty list of neuron indices or { range = [first, end) }");
    std::set<std::uint64_t> seen;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string ip = element_path(path, i);
        const auto& item = (*a)[i];
        if (!item.is_integer() || item.as_integer()->get() < 0 || item.as_integer()->get() >= limit)
            ctx.fail(&item, ip, says(ip, item) + "expected " + accepted);
        const auto v = static_cast<std::uint64_t>(item.as_integer()->get());
        if (!seen.insert(v).second) ctx.fail(&item, ip, says(ip, item) + "neuron " + std::to_string(v) + " is listed twice");
        out.listed.push_back(v);
    }
    return out;
}

// A state record's neurons, one column each: the subset's list, or its range spelt out.
std::vector<std::uint64_t> read_neurons(const context& ctx, const toml::node& n, std::string_view path,
                                        const population_spec& pop) {
    neuron_subset s = read_neuron_subset(ctx, n, path, {"population", pop.name, pop.size});
    if (!s.listed.empty()) return std::move(s.listed);
    if (s.all()) s.end = pop.size;
    // Spelt out, a column per neuron: refused where the list alone would take half the memory this
    // process can get (`check` of 2^32 neurons ran out of memory before it could print its estimate).
    const double list_bytes = 8.0 * double(s.end - s.first);
    if (const std::uint64_t available = available_memory(); available > 0 && list_bytes > 0.5 * double(available))
        ctx.fail(&n, path,
                 says(path, n) + "records " + std::to_string(s.end - s.first) + " neurons, whose list alone takes " +
                     format_bytes(list_bytes) + " of the " + format_bytes(double(available)) +
                     " this process can get; record fewer (a range, or a list)");
    std::vector<std::uint64_t> out;
    for (auto i = s.first; i < s.end; ++i) out.push_back(i);
    return out;
}

// Projection k, named by a state record's `projection`: it must feed the population a channel of
// the recorded kind. `which` lists the projections that do.
std::size_t check_recorded_projection(const context& ctx, const toml::node& n, const std::string& pp, std::size_t k,
                                      const std::string& variable, synapse_kind kind, const population_spec& pop,
                                      const run_spec& spec, const std::string& which) {
    const projection_spec& pr = spec.projections[k];
    const std::string named = describe_projection(pr, k);
    if (pr.target != pop.name)
        ctx.fail(&n, pp, says(pp, n) + named + " targets '" + pr.target + "', not '" + pop.name + "'" + which);
    if (pr.synapse != kind)
        ctx.fail(&n, pp,
                 says(pp, n) + named + " makes " + std::string(synapse_names[static_cast<std::size_t>(pr.synapse)]) +
                     " synapses, and " + variable + " is the state of " +
                     std::string(synapse_names[static_cast<std::size_t>(kind)]) + " ones" + which);
    return k;
}

// The projection whose synaptic channel an I_syn (exp_current) or g_syn (exp_conductance) record
// samples: `projection` where given, one onto the population with synapses of that kind; else
// the population's only channel of that kind (channel_for: one per tau_syn and E_rev), which
// may be the one only its Poisson input feeds (state_record::poisson_input_channel).
std::size_t read_recorded_projection(const context& ctx, const toml::table& t, std::string_view path,
                                     const toml::node& state_node, const std::string& variable,
                                     const population_spec& pop, const run_spec& spec) {
    const synapse_kind kind = variable == "I_syn" ? synapse_kind::exp_current : synapse_kind::exp_conductance;
    const std::string kind_name(synapse_names[static_cast<std::size_t>(kind)]);
    std::vector<synapse_channel> channels;
    std::vector<std::size_t> first_of_channel, of_kind;  // projection indices
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        if (pr.target != pop.name || pr.synapse != kind) continue;
        of_kind.push_back(k);
        if (channel_for(channels, pr) == first_of_channel.size()) first_of_channel.push_back(k);
    }
    // A channel that only the Poisson input feeds (no projection: no ring) comes after the projections'.
    for (const synapse_channel& c : channels_onto(spec, pop))
        if (c.takes_poisson && !c.has_ring && c.kind == kind)
            first_of_channel.push_back(state_record::poisson_input_channel);
    const std::string sp = child_path(path, "state");
    if (first_of_channel.empty())
        ctx.fail(&state_node, sp,
                 says(sp, state_node) + "population '" + pop.name + "' receives no " + kind_name +
                     " synapses (no [[projection]] onto it, and no input.poisson, with synapse = \"" + kind_name +
                     "\"), so there is no " + variable);
    std::string listed;
    for (const std::size_t k : of_kind) {
        const std::string& name = spec.projections[k].name;
        listed += (listed.empty() ? "" : ", ") + std::to_string(k) + (name.empty() ? "" : " '" + name + "'");
    }
    if (listed.empty()) listed = "none";
    const std::string which = " (projections of " + kind_name + " synapses onto '" + pop.name + "': " + listed + ")";
    const toml::node* n = t.get("projection");
    if (n == nullptr) {
        if (first_of_channel.size() > 1)
            ctx.fail(&state_node, sp,
                     says(sp, state_node) + "population '" + pop.name + "' has " +
                         std::to_string(first_of_channel.size()) + " " + kind_name +
                         " channels (one per tau_syn and E_rev); choose one with projection = <index or name>" +
                         (first_of_channel.back() == state_record::poisson_input_channel
                              ? " or projection = \"input.poisson\""
                              : "") +
                         which);
        return first_of_channel[0];
    }
    const std::string pp = child_path(path, "projection");
    if (n->is_string() && n->as_string()->get() != "input.poisson") {  // a projection's name
        const std::string& name = n->as_string()->get();
        const auto named = std::find_if(spec.projections.begin(), spec.projections.end(),
                                        [&](const projection_spec& pr) { return pr.name == name; });
        if (named == spec.projections.end())
            ctx.fail(n, pp, says(pp, *n) + "no [[projection]] has this name; expected a projection's name or index, or "
                                           "\"input.poisson\" for the channel that the population's Poisson input feeds" +
                                           which);
        return check_recorded_projection(ctx, *n, pp, std::size_t(named - spec.projections.begin()), variable, kind,
                                         pop, spec, which);
    }
    if (n->is_string()) {  // the channel the population's Poisson input feeds
        if (!pop.input.poisson_feeds_channel())
            ctx.fail(n, pp, says(pp, *n) + "population '" + pop.name +
                                "' has no input.poisson into a synaptic channel (its input.poisson.synapse is delta)");
        if (pop.input.poisson_synapse != kind)
            ctx.fail(n, pp, says(pp, *n) + "population '" + pop.name + "' has input.poisson.synapse = \"" +
                                std::string(synapse_names[static_cast<std::size_t>(pop.input.poisson_synapse)]) +
                                "\", and " + variable + " is the state of " + kind_name + " ones");
        return state_record::poisson_input_channel;
    }
    const auto k = std::size_t(read_integer(ctx, *n, pp, 0, std::int64_t(spec.projections.size()) - 1));
    return check_recorded_projection(ctx, *n, pp, k, variable, kind, pop, spec, which);
}

// A record's start and stop: whole steps of dt, start before the run's end and before stop.
record_window read_window(const context& ctx, const toml::table& t, std::string_view path, const simulation_spec& sim) {
    record_window w;
    const auto read = [&](const char* key, double& out) {
        const toml::node* n = t.get(key);
        if (n == nullptr) return;
        const std::string kp = child_path(path, key);
        out = read_quantity(ctx, *n, kp, dimension::time);
        const double steps = out / sim.dt_ms;
        if (!(out >= 0.0) || !std::isfinite(out) || std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps))
            ctx.fail(n, kp, says(kp, *n) + "must be a time >= 0 ms and a whole number of steps of dt = \"" +
                                format_quantity(sim.dt_ms, dimension::time) + "\"");
        check_at_most_max_steps(ctx, *n, kp, out, sim.dt_ms);
    };
    read("start", w.start_ms);
    read("stop", w.stop_ms);
    if (const auto* n = t.get("start"); n && !(w.start_ms < sim.duration_ms))
        ctx.fail(n, child_path(path, "start"),
                 says(child_path(path, "start"), *n) + "must be before the run's end, duration = \"" +
                     format_quantity(sim.duration_ms, dimension::time) + "\" (the record would hold nothing)");
    if (const auto* n = t.get("stop"); n && !(w.stop_ms > w.start_ms))
        ctx.fail(n, child_path(path, "stop"),
                 says(child_path(path, "stop"), *n) + "must be after start = \"" +
                     format_quantity(w.start_ms, dimension::time) + "\"");
    return w;
}

void read_records(const context& ctx, const toml::table& root, run_spec& spec) {
    const toml::array* records = optional_tables(ctx, root, "record");
    if (records == nullptr) return;
    std::vector<std::string_view> names;
    for (const auto& p : spec.populations) names.push_back(p.name);
    for (std::size_t i = 0; i < records->size(); ++i) {
        const auto& t = *(*records)[i].as_table();
        const std::string path = element_path("record", i);
        check_keys(ctx, t, path, record_keys);
        const record_window window = read_window(ctx, t, path, spec.simulation);
        if (const auto* s = t.get("spikes")) {
            for (auto k : record_keys)
                if (k != "spikes" && k != "start" && k != "stop" && k != "neurons" && t.contains(k))
                    ctx.fail(t.get(k), child_path(path, k),
                             "key '" + child_path(path, k) +
                                 "': a spike record takes only 'spikes', 'neurons', 'start' and 'stop'; put state "
                                 "recordings in their own [[record]]");
            spike_record& rec = spec.spikes;
            const std::vector<std::string> listed = read_population_list(ctx, *s, child_path(path, "spikes"), names, spec);
            neuron_subset subset;
            if (const auto* n = t.get("neurons")) {
                const std::string np = child_path(path, "neurons");
                if (listed.size() != 1 || (s->is_string() && s->as_string()->get() == "all"))
                    ctx.fail(n, np, "key '" + np + "': neurons are indices of one population or generator; give spikes one name");
                subset = read_neuron_subset(ctx, *n, np, spike_source(spec, listed[0]));
                std::sort(subset.listed.begin(), subset.listed.end());
            }
            for (const auto& name : listed) {
                const auto at = std::find(rec.populations.begin(), rec.populations.end(), name);
                if (at == rec.populations.end()) {
                    rec.populations.push_back(name);
                    rec.windows.push_back(window);
                    rec.neurons.push_back(subset);
                } else if (const auto k = std::size_t(at - rec.populations.begin());
                           rec.windows[k] != window || rec.neurons[k] != subset) {
                    ctx.fail(s, child_path(path, "spikes"),
                             child_path(path, "spikes") + ": '" + name +
                                 "' is already recorded by another spike record with other neurons or another start "
                                 "or stop; spikes.h5 has one group per population or generator, so one of each");
                }
            }
            continue;
        }
        state_record r;
        static constexpr std::array<std::string_view, 5> variables = {"V_m", "w", "I_noise", "I_syn", "g_syn"};
        const auto& state_node = required(ctx, t, path, "state",
                                          "'spikes = [...]' or 'state' (V_m | w | I_noise | I_syn | g_syn)");
        const std::string sp = child_path(path, "state");
        r.variable = variables[read_choice(ctx, state_node, sp, variables)];

        const auto& pop_node = required(ctx, t, path, "population", "the population to record from");
        const std::string pp = child_path(path, "population");
        r.population = read_string(ctx, pop_node, pp, "a population name");
        const auto it = std::find_if(spec.populations.begin(), spec.populations.end(),
                                     [&](const population_spec& p) { return p.name == r.population; });
        if (it == spec.populations.end()) ctx.fail(&pop_node, pp, says(pp, pop_node) + not_a_population(r.population, names, spec));
        const population_spec& pop = *it;
        if (r.variable == "w" && !has_adaptation(pop.model))
            ctx.fail(&state_node, sp,
                     says(sp, state_node) + "population '" + pop.name + "' uses model '" +
                         std::string(model_name(pop.model)) +
                         "', which has no adaptation current w (only alif and adex do); record V_m");
        if (r.variable == "I_noise" && !ou_on(pop.input))
            ctx.fail(&state_node, sp,
                     says(sp, state_node) + "population '" + pop.name +
                         "' has no OU input (input.ou.sigma_I > 0), so there is no I_noise");
        if (r.samples_a_channel())
            r.projection = read_recorded_projection(ctx, t, path, state_node, r.variable, pop, spec);
        else if (const auto* n = t.get("projection"))
            ctx.fail(n, child_path(path, "projection"),
                     "key '" + child_path(path, "projection") + "': only an I_syn or g_syn record names a projection");

        r.neurons = t.contains("neurons") ? read_neurons(ctx, *t.get("neurons"), child_path(path, "neurons"), pop)
                                          : std::vector<std::uint64_t>{0};

        r.interval_ms = spec.simulation.dt_ms;
        if (const auto* n = t.get("interval")) {
            const std::string ip = child_path(path, "interval");
            r.interval_ms = read_quantity(ctx, *n, ip, dimension::time);
            check_at_most_max_steps(ctx, *n, ip, r.interval_ms, spec.simulation.dt_ms);
            const double steps = r.interval_ms / spec.simulation.dt_ms;
            const double whole = std::round(steps);
            if (!(whole >= 1.0) || std::abs(steps - whole) > 1e-9 * steps)
                ctx.fail(n, ip,
                         says(ip, *n) + "the sampling interval must be a whole number of steps of dt = \"" +
                             format_quantity(spec.simulation.dt_ms, dimension::time) + "\" (>= dt)");
        }

        r.window = window;
        const auto steps = std::uint64_t(nearest_steps(spec.simulation.duration_ms, spec.simulation.dt_ms));
        if (!window.whole_run() && r.samples_in(steps, spec.simulation.dt_ms) == 0) {
            const char* key = t.contains("start") ? "start" : "stop";
            ctx.fail(t.get(key), child_path(path, key),
                     says(child_path(path, key), *t.get(key)) + "no sample falls in [start, stop) at the multiples of interval = \"" +
                         format_quantity(r.interval_ms, dimension::time) + "\" within the run; the report would be empty");
        }
        r.name = default_record_name(r.population, r.variable, t.get("projection"));
        if (const auto* n = t.get("name")) {
            const std::string np = child_path(path, "name");
            r.name = read_string(ctx, *n, np, "letters, digits, _ and -");
            if (!is_report_name(r.name))
                ctx.fail(n, np, says(np, *n) + "a report name is letters, digits, _ and - (it names the file <name>.h5)");
            if (std::all_of(r.name.begin(), r.name.end(), [](char c) { return c >= '0' && c <= '9'; }))
                ctx.fail(n, np, says(np, *n) + "a name of digits alone would read as an index in --set record.<N>; "
                                               "add a letter");
            if (same_ignoring_case(r.name, "spikes"))
                ctx.fail(n, np, says(np, *n) + "'spikes' names the spike file, spikes.h5 (in any case, on a file "
                                               "system that ignores it); choose another name");
        }
        // Its file, <name>.h5.part while written, must fit a file name (255 bytes on common
        // file systems; a 260-character name failed the run after check had passed).
        if (r.name.size() > max_report_name)
            ctx.fail(t.contains("name") ? t.get("name") : &t, child_path(path, "name"),
                     child_path(path, "name") + " = \"" + r.name.substr(0, 20) + "...\" has " +
                         std::to_string(r.name.size()) + " characters; a report name has at most " +
                         std::to_string(max_report_name) + " (it names the file <name>.h5)" +
                         (t.contains("name") ? "" : "; set a shorter name = \"...\""));
        for (const auto& e : spec.states)
            if (same_ignoring_case(e.name, r.name))  // they name files; some file systems ignore case
                ctx.fail(t.contains("name") ? t.get("name") : &t, child_path(path, "name"),
                         child_path(path, "name") + " = \"" + r.name + "\": report names must be unique ignoring case (\"" +
                             e.name + "\" is taken; they name files, and some file systems ignore case); set name = " +
                             "\"...\" to tell them apart");
        spec.states.push_back(std::move(r));
    }
    // In population order, then the generators', whatever the records' order: the resolved config
    // groups them by window.
    std::vector<std::string> order(names.begin(), names.end());
    for (const auto& g : spec.generators) order.push_back(g.name);
    spike_record ordered;
    for (const auto& name : order)
        for (std::size_t k = 0; k < spec.spikes.populations.size(); ++k)
            if (spec.spikes.populations[k] == name) {
                ordered.populations.push_back(name);
                ordered.windows.push_back(spec.spikes.windows[k]);
                ordered.neurons.push_back(spec.spikes.neurons[k]);
            }
    spec.spikes = std::move(ordered);
}

}  // namespace

run_spec build_spec(const toml::table& root, const context& ctx) {
    check_keys(ctx, root, "", root_keys);
    run_spec spec;
    spec.simulation = read_simulation(ctx, root);

    const toml::node* pn = root.get("population");
    const char* how = "at least one [[population]] with name, size and model is required";
    if (pn == nullptr) ctx.fail(nullptr, "population", std::string("no population: ") + how);
    const auto* pops = pn->as_array();
    if (pops != nullptr && pops->empty())
        ctx.fail(pn, "population", std::string("population is empty: ") + how);
    if (pops == nullptr || !pops->is_array_of_tables())
        ctx.fail(pn, "population", says("population", *pn) + "expected an array of tables: write [[population]]");
    for (std::size_t i = 0; i < pops->size(); ++i)
        spec.populations.push_back(
            read_population(ctx, *(*pops)[i].as_table(), element_path("population", i), spec.simulation, spec.populations));

    read_network(ctx, root, spec);
    read_records(ctx, root, spec);
    return spec;
}

}  // namespace ifsim::config_detail
