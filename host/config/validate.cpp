// The schema: a parsed (and overridden) TOML document becomes a run_spec, checked completely, with
// every default filled in. The first problem found is thrown as a config_error.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "config_detail.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::config_detail {

namespace {

constexpr std::int64_t two_to_32 = std::int64_t{1} << 32;

bool is_identifier(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool is_report_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
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

// One of a fixed set of words; returns its index.
std::size_t read_choice(const context& ctx, const toml::node& n, std::string_view path,
                        std::span<const std::string_view> choices) {
    std::string accepted;
    for (auto c : choices) accepted += (accepted.empty() ? "\"" : " | \"") + std::string(c) + "\"";
    const std::string s = read_string(ctx, n, path, accepted);
    for (std::size_t i = 0; i < choices.size(); ++i)
        if (choices[i] == s) return i;
    const std::string near = suggest(s, choices);
    ctx.fail(&n, path,
             says(path, n) + "expected one of " + accepted +
                 (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

// A list of population names, one name, or "all".
std::vector<std::string> read_population_list(const context& ctx, const toml::node& n,
                                              std::string_view path,
                                              std::span<const std::string_view> names) {
    std::vector<std::string> out;
    const auto add = [&](const toml::node& item, std::string_view p) {
        const std::string s = read_string(ctx, item, p, "a population name or \"all\"");
        if (s == "all") {
            for (auto name : names) out.emplace_back(name);
            return;
        }
        if (std::find(names.begin(), names.end(), s) == names.end()) {
            const std::string near = suggest(s, names);
            ctx.fail(&item, p,
                     says(p, item) + "no population is named '" + s + "'" +
                         (near.empty() ? "" : "; did you mean '" + near + "'?") +
                         " (populations: " + join(names) + ")");
        }
        out.push_back(s);
    };
    if (const auto* a = n.as_array()) {
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
            read_integer(ctx, *n, "simulation.threads", 0, std::numeric_limits<std::int32_t>::max()));
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
                             const population_spec& pop) {
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
            const std::string problem = check_params(p, pop.model);
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
                         std::string(model_name(pop.model)) + "): " + problem + where);
        }
    }
}

void read_params(const context& ctx, const toml::table& t, std::string_view path,
                 population_spec& pop) {
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
            const std::string near = suggest(k.str(), names);
            ctx.fail(&v, kp,
                     "unknown key '" + kp + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?") +
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
    check_population_params(ctx, params ? static_cast<const toml::node*>(params) : &t, path, pop);
}

// ---- [[population]].input ----

void read_input(const context& ctx, const toml::table& t, std::string_view path,
                population_spec& pop) {
    const std::string p = child_path(path, "input");
    const toml::table* in = optional_table(ctx, t, path, "input");
    if (in == nullptr) return;
    check_keys(ctx, *in, p, input_keys);
    const owner who{pop.name, pop.size};
    input_spec& input = pop.input;
    const auto nonnegative = [](double v) { return v >= 0.0; };

    if (const auto* n = in->get("I_e"))
        input.I_e = read_distribution(ctx, *n, child_path(p, "I_e"), dimension::current, who);

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
        if (input.steps.time_ms.size() != input.steps.amplitude_pA.size())
            ctx.fail(s, sp,
                     sp + ": times has " + std::to_string(input.steps.time_ms.size()) +
                         " entries but amplitudes has " + std::to_string(input.steps.amplitude_pA.size()) +
                         "; they must pair up, one amplitude per switch time");
        for (std::size_t i = 0; i < input.steps.time_ms.size(); ++i) {
            const std::string ip = element_path(child_path(sp, "times"), i);
            if (input.steps.time_ms[i] < 0.0)
                ctx.fail(&times[i], ip, says(ip, times[i]) + "switch times must be >= 0 ms");
            if (i > 0 && !(input.steps.time_ms[i] > input.steps.time_ms[i - 1]))
                ctx.fail(&times[i], ip,
                         says(ip, times[i]) + "switch times must be strictly increasing (previous: \"" +
                             format_quantity(input.steps.time_ms[i - 1], dimension::time) + "\")");
        }
    }

    if (const auto* s = optional_table(ctx, *in, p, "noise")) {
        const std::string sp = child_path(p, "noise");
        check_keys(ctx, *s, sp, noise_keys);
        if (const auto* n = s->get("sigma_V")) {
            const std::string kp = child_path(sp, "sigma_V");
            input.sigma_V = read_distribution(ctx, *n, kp, dimension::voltage, who);
            check_every_value(ctx, n, kp, input.sigma_V, dimension::voltage, nonnegative, "must be >= 0 mV");
        }
        if (const auto* n = s->get("bridge")) input.bridge = read_bool(ctx, *n, child_path(sp, "bridge"));
    }

    if (const auto* s = optional_table(ctx, *in, p, "ou")) {
        const std::string sp = child_path(p, "ou");
        check_keys(ctx, *s, sp, ou_keys);
        if (const auto* n = s->get("sigma_I")) {
            const std::string kp = child_path(sp, "sigma_I");
            input.sigma_I = read_distribution(ctx, *n, kp, dimension::current, who);
            check_every_value(ctx, n, kp, input.sigma_I, dimension::current, nonnegative, "must be >= 0 pA");
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
        if (const auto* n = s->get("weight"))
            input.poisson_weight_mV = read_quantity(ctx, *n, child_path(sp, "weight"), dimension::voltage);
        if (const auto* n = s->get("count"))
            input.poisson_count = static_cast<std::uint64_t>(read_integer(
                ctx, *n, child_path(sp, "count"), 0, std::numeric_limits<std::int64_t>::max()));
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
}

population_spec read_population(const context& ctx, const toml::table& t, std::string_view path,
                                const std::vector<population_spec>& earlier) {
    check_keys(ctx, t, path, population_keys);
    population_spec pop;
    const auto& name_node = required(ctx, t, path, "name", "a name");
    const std::string name_path = child_path(path, "name");
    pop.name = read_string(ctx, name_node, name_path, "a name of letters, digits and _");
    if (!is_identifier(pop.name))
        ctx.fail(&name_node, name_path,
                 says(name_path, name_node) +
                     "a population name is letters, digits and _, not starting with a digit");
    for (const auto& e : earlier)
        if (e.name == pop.name)
            ctx.fail(&name_node, name_path,
                     says(name_path, name_node) + "population names must be unique; '" + pop.name +
                         "' is already used by an earlier population");

    pop.size = static_cast<std::uint64_t>(
        read_integer(ctx, required(ctx, t, path, "size", "the number of neurons"), child_path(path, "size"), 1, two_to_32));

    std::array<std::string_view, all_models.size()> model_names{};
    for (std::size_t i = 0; i < all_models.size(); ++i) model_names[i] = model_name(all_models[i]);
    const auto& model_node = required(ctx, t, path, "model", "a model (" + join(model_names) + ")");
    pop.model = all_models[read_choice(ctx, model_node, child_path(path, "model"), model_names)];

    read_params(ctx, t, path, pop);
    read_input(ctx, t, path, pop);
    read_init(ctx, t, path, pop);
    return pop;
}

// ---- [[record]] ----

std::vector<std::uint64_t> read_neurons(const context& ctx, const toml::node& n, std::string_view path,
                                        const population_spec& pop) {
    std::vector<std::uint64_t> out;
    const auto limit = static_cast<std::int64_t>(pop.size);
    const std::string accepted = "indices 0 .. " + std::to_string(pop.size - 1) + " of population '" +
                                 pop.name + "' (size " + std::to_string(pop.size) + ")";
    if (const auto* t = n.as_table()) {
        static constexpr std::array<std::string_view, 1> keys = {"range"};
        check_keys(ctx, *t, path, keys);
        const auto& r = required(ctx, *t, path, "range", "range = [first, end) ");
        const std::string rp = child_path(path, "range");
        if (!r.is_array() || r.as_array()->size() != 2)
            ctx.fail(&r, rp, says(rp, r) + "expected [first, end), half open: two integers");
        const auto first = read_integer(ctx, (*r.as_array())[0], element_path(rp, 0), 0, limit - 1);
        const auto end = read_integer(ctx, (*r.as_array())[1], element_path(rp, 1), first + 1, limit);
        for (auto i = first; i < end; ++i) out.push_back(static_cast<std::uint64_t>(i));
        return out;
    }
    const auto* a = n.as_array();
    if (a == nullptr || a->empty())
        ctx.fail(&n, path, says(path, n) + "expected a non-empty list of neuron indices or { range = [first, end) }");
    std::set<std::uint64_t> seen;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string ip = element_path(path, i);
        const auto& item = (*a)[i];
        if (!item.is_integer() || item.as_integer()->get() < 0 || item.as_integer()->get() >= limit)
            ctx.fail(&item, ip, says(ip, item) + "expected " + accepted);
        const auto v = static_cast<std::uint64_t>(item.as_integer()->get());
        if (!seen.insert(v).second) ctx.fail(&item, ip, says(ip, item) + "neuron " + std::to_string(v) + " is listed twice");
        out.push_back(v);
    }
    return out;
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

void read_records(const context& ctx, const toml::table& root, run_spec& spec) {
    const toml::array* records = optional_tables(ctx, root, "record");
    if (records == nullptr) return;
    std::vector<std::string_view> names;
    for (const auto& p : spec.populations) names.push_back(p.name);
    for (std::size_t i = 0; i < records->size(); ++i) {
        const auto& t = *(*records)[i].as_table();
        const std::string path = element_path("record", i);
        check_keys(ctx, t, path, record_keys);
        if (const auto* s = t.get("spikes")) {
            for (auto k : record_keys)
                if (k != "spikes" && t.contains(k))
                    ctx.fail(t.get(k), child_path(path, k),
                             "key '" + child_path(path, k) +
                                 "': a spike record takes only 'spikes'; put state recordings in "
                                 "their own [[record]]");
            for (auto& name : read_population_list(ctx, *s, child_path(path, "spikes"), names))
                if (std::find(spec.spikes.populations.begin(), spec.spikes.populations.end(), name) ==
                    spec.spikes.populations.end())
                    spec.spikes.populations.push_back(name);
            continue;
        }
        state_record r;
        static constexpr std::array<std::string_view, 3> variables = {"V_m", "w", "I_noise"};
        const auto& state_node = required(ctx, t, path, "state",
                                          "'spikes = [...]' or 'state' (V_m | w | I_noise)");
        const std::string sp = child_path(path, "state");
        r.variable = variables[read_choice(ctx, state_node, sp, variables)];

        const auto& pop_node = required(ctx, t, path, "population", "the population to record from");
        const std::string pp = child_path(path, "population");
        r.population = read_string(ctx, pop_node, pp, "a population name");
        const auto it = std::find_if(spec.populations.begin(), spec.populations.end(),
                                     [&](const population_spec& p) { return p.name == r.population; });
        if (it == spec.populations.end()) {
            const std::string near = suggest(r.population, names);
            ctx.fail(&pop_node, pp,
                     says(pp, pop_node) + "no population is named '" + r.population + "'" +
                         (near.empty() ? "" : "; did you mean '" + near + "'?") + " (populations: " +
                         join(names) + ")");
        }
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

        r.neurons = t.contains("neurons") ? read_neurons(ctx, *t.get("neurons"), child_path(path, "neurons"), pop)
                                          : std::vector<std::uint64_t>{0};

        r.interval_ms = spec.simulation.dt_ms;
        if (const auto* n = t.get("interval")) {
            const std::string ip = child_path(path, "interval");
            r.interval_ms = read_quantity(ctx, *n, ip, dimension::time);
            const double steps = r.interval_ms / spec.simulation.dt_ms;
            const double whole = std::round(steps);
            if (!(whole >= 1.0) || std::abs(steps - whole) > 1e-9 * steps)
                ctx.fail(n, ip,
                         says(ip, *n) + "the sampling interval must be a whole number of steps of dt = \"" +
                             format_quantity(spec.simulation.dt_ms, dimension::time) + "\" (>= dt)");
        }

        r.name = r.population + "_" + r.variable;
        if (const auto* n = t.get("name")) {
            const std::string np = child_path(path, "name");
            r.name = read_string(ctx, *n, np, "letters, digits, _ and -");
            if (!is_report_name(r.name))
                ctx.fail(n, np, says(np, *n) + "a report name is letters, digits, _ and - (it names the file <name>.h5)");
        }
        for (const auto& e : spec.states)
            if (e.name == r.name)
                ctx.fail(t.contains("name") ? t.get("name") : &t, child_path(path, "name"),
                         child_path(path, "name") + " = \"" + r.name +
                             "\": report names must be unique (set name = \"...\" to tell them apart)");
        spec.states.push_back(std::move(r));
    }
}

// ---- [[projection]] ----

// The population `key` names (source or target), with a suggestion when it names none.
const population_spec& read_population_ref(const context& ctx, const toml::table& t,
                                           std::string_view path, std::string_view key,
                                           const std::vector<population_spec>& pops) {
    std::vector<std::string_view> names;
    for (const auto& p : pops) names.push_back(p.name);
    const std::string kp = child_path(path, key);
    const auto& n = required(ctx, t, path, key, "a population name (" + join(names) + ")");
    const std::string name = read_string(ctx, n, kp, "a population name");
    for (const auto& p : pops)
        if (p.name == name) return p;
    const std::string near = suggest(name, names);
    ctx.fail(&n, kp,
             says(kp, n) + "no population is named '" + name + "'" +
                 (near.empty() ? "" : "; did you mean '" + near + "'?") + " (populations: " +
                 join(names) + ")");
}

dimension weight_dimension(synapse_kind k) {
    switch (k) {
        case synapse_kind::delta: return dimension::voltage;
        case synapse_kind::exp_current: return dimension::current;
        case synapse_kind::exp_conductance: return dimension::conductance;
    }
    return dimension::voltage;
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
    const toml::node* mean = nullptr;
    const toml::node* std_dev = nullptr;
    std::string mean_path, std_path;
    if (const auto* a = value.as_array(); a != nullptr && a->size() == 2) {
        mean = &(*a)[0], mean_path = element_path(p, 0);
        std_dev = &(*a)[1], std_path = element_path(p, 1);
    } else if (const auto* mt = value.as_table()) {
        static constexpr std::array<std::string_view, 2> mean_std = {"mean", "std"};
        check_keys(ctx, *mt, p, mean_std);
        mean = mt->get("mean"), mean_path = child_path(p, "mean");
        std_dev = mt->get("std"), std_path = child_path(p, "std");
    }
    if (mean == nullptr || std_dev == nullptr)
        ctx.fail(&value, p,
                 says(p, value) + "expected " + std::string(key.str()) + " = [mean, std] or { mean = ..., std = ... }, e.g. [\"" +
                     lo + "\", \"" + format_quantity(0.5, d) + "\"]");
    out.a = read_synaptic_quantity(ctx, *mean, mean_path, d, needs);
    out.b = read_synaptic_quantity(ctx, *std_dev, std_path, d, needs);
    if (!(out.b >= 0.0))
        ctx.fail(std_dev, std_path, says(std_path, *std_dev) + "a standard deviation must be >= 0");
    return out;
}

// The node and key path of a distribution's table entry ("weight.uniform"), or of the value itself.
std::pair<const toml::node*, std::string> form_of(const toml::node& n, std::string_view path) {
    if (const auto* t = n.as_table(); t != nullptr && t->size() == 1)
        return {&t->begin()->second, child_path(path, t->begin()->first.str())};
    return {&n, std::string(path)};
}

// Every weight of a projection has one sign (the sign of `a`); conductances are >= 0.
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
}

void check_delay(const context& ctx, const toml::node& n, std::string_view path,
                 const synapse_distribution& dl) {
    using K = synapse_distribution::kind;
    if (dl.a > 0.0) return;  // uniform: high >= low was checked; normal, lognormal: std >= 0
    const auto [at, p] = form_of(n, path);
    const char* what = dl.type == K::constant  ? "a delay must be > 0 ms"
                       : dl.type == K::uniform ? "the low end of a delay range must be > 0 ms"
                                               : "the mean of a delay must be > 0 ms";
    ctx.fail(at, p, says(p, *at) + what + " (delays are rounded to whole steps of dt, at least one)");
}

// The rule, and whether it can be realised between populations of these sizes (connect() checks
// the same, but only once the run is being set up).
connection_rule read_rule(const context& ctx, const toml::node& n, std::string_view path,
                          const population_spec& src, const population_spec& tgt) {
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
        return k == rule_kind::pairwise_bernoulli ? "p" : k == rule_kind::fixed_total ? "N" : "K";
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

    const bool same = &src == &tgt;
    const bool no_self = same && !r.autapses;
    const std::string S = std::to_string(src.size), M = std::to_string(tgt.size);
    const std::string name(rule_names[static_cast<std::size_t>(r.kind)]);
    const std::string K = std::to_string(r.degree);
    const std::string self_note = no_self ? " (autapses = false in a projection from '" + src.name + "' onto itself)" : "";
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli:
        case rule_kind::all_to_all: break;
        case rule_kind::fixed_indegree:
        case rule_kind::fixed_outdegree: {
            const bool in = r.kind == rule_kind::fixed_indegree;
            const population_spec& pool_pop = in ? src : tgt;
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

projection_spec read_projection(const context& ctx, const toml::table& t, std::string_view path,
                                const std::vector<population_spec>& pops) {
    check_keys(ctx, t, path, projection_keys);
    projection_spec pr;
    const population_spec& src = read_population_ref(ctx, t, path, "source", pops);
    const population_spec& tgt = read_population_ref(ctx, t, path, "target", pops);
    pr.source = src.name;
    pr.target = tgt.name;

    if (const auto* n = t.get("synapse"))
        pr.synapse = static_cast<synapse_kind>(read_choice(ctx, *n, child_path(path, "synapse"), synapse_names));
    const std::string kind = synapse_says(pr.synapse);

    pr.rule = read_rule(ctx,
                        required(ctx, t, path, "rule",
                                 "a connection rule (\"all_to_all\", \"one_to_one\" or a table with one of " +
                                     join(rule_names) + ")"),
                        child_path(path, "rule"), src, tgt);

    const dimension wd = weight_dimension(pr.synapse);
    const std::string wu(default_unit(wd));
    const std::string weight_needs = kind + " takes a weight in " + wu + " (a " +
                                     std::string(dimension_name(wd)) +
                                     "; delta: mV, exp_current: pA, exp_conductance: nS)";
    const auto& wn = required(ctx, t, path, "weight", "a weight in " + wu + " for " + kind);
    const std::string wp = child_path(path, "weight");
    pr.weight = read_synapse_distribution(ctx, wn, wp, wd, weight_needs);
    check_weight(ctx, wn, wp, pr.weight, pr.synapse);

    if (const auto* n = t.get("delay")) {
        const std::string dp = child_path(path, "delay");
        pr.delay = read_synapse_distribution(ctx, *n, dp, dimension::time, "a delay is a time (ms)");
        check_delay(ctx, *n, dp, pr.delay);
    }

    if (const auto* n = t.get("tau_syn")) {
        const std::string kp = child_path(path, "tau_syn");
        if (pr.synapse == synapse_kind::delta)
            ctx.fail(n, kp,
                     says(kp, *n) + "a delta synapse has no time constant; tau_syn is only for "
                                    "synapse = \"exp_current\" or \"exp_conductance\"");
        pr.tau_syn_ms = read_synaptic_quantity(ctx, *n, kp, dimension::time, "tau_syn is a time (ms)");
        if (!(pr.tau_syn_ms > 0.0)) ctx.fail(n, kp, says(kp, *n) + "tau_syn must be a time > 0 ms");
    }
    if (const auto* n = t.get("E_rev")) {
        const std::string kp = child_path(path, "E_rev");
        if (pr.synapse != synapse_kind::exp_conductance)
            ctx.fail(n, kp,
                     says(kp, *n) + "only synapse = \"exp_conductance\" has a reversal potential; this "
                                    "projection has " + kind);
        pr.E_rev_mV = read_synaptic_quantity(ctx, *n, kp, dimension::voltage, "E_rev is a voltage (mV)");
    }
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
    for (std::size_t i = 0; i < list->size(); ++i)
        spec.projections.push_back(
            read_projection(ctx, *(*list)[i].as_table(), element_path("projection", i), spec.populations));
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
            read_population(ctx, *(*pops)[i].as_table(), element_path("population", i), spec.populations));

    read_projections(ctx, root, spec);
    read_records(ctx, root, spec);
    return spec;
}

}  // namespace ifsim::config_detail
