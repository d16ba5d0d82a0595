// Shared by the config sources in host/config/: error reporting with file, line and key path, typed
// readers for TOML nodes (quantities, distributions, integers, strings), and the key lists of the
// schema. Private to ifsim_core; toml++ never appears in a public header.
#pragma once

#include <array>
#include <filesystem>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "ifsim/spec.hpp"
#include "ifsim/units.hpp"

namespace ifsim::config_detail {

// Where values came from, for error messages.
struct context {
    std::string source;  // file name or label, first in every message
    std::filesystem::path base_dir;  // relative file names in the config are relative to it (the config's folder)
    // Canonical key paths ("population[0].input.I_e") set by --set, with the override as given.
    std::vector<std::pair<std::string, std::string>> overridden;

    // Throws config_error: "<source>:<line>:<col>: <message>", adding the --set that produced the
    // value when one did (and then no line, which would point into the override's text).
    [[noreturn]] void fail(const toml::node* at, std::string_view path,
                           const std::string& message) const;
};

using ifsim::printable;  // units.hpp
// A node as short TOML text for messages: strings quoted (printable), long arrays cut with "...".
std::string render(const toml::node& n);
// "<path> = <value>: " — how most messages begin.
std::string says(std::string_view path, const toml::node& n);
std::string child_path(std::string_view path, std::string_view key);
std::string element_path(std::string_view path, std::size_t index);
// "a, b, c"
std::string join(std::span<const std::string_view> words);
// A state record's default name, as validation gives it and --set finds it: <population>_<state>,
// and _<projection> after it where the record names a projection (I_syn, g_syn).
// <population>_<state>, with _<k> for `projection = k` and _poisson for `projection = "input.poisson"`.
std::string default_record_name(std::string_view population, std::string_view state, const toml::node* projection);

// "; did you mean '<nearest candidate>'?" for `key`, unknown at `path`, or where ifsim keeps what
// NEST or Brian2 call `key` ("; tau_m is C_m / g_L here: ..."); "" if neither.
std::string did_you_mean(std::string_view path, std::string_view key, std::span<const std::string_view> candidates);
// What ifsim calls a value NEST names (model = "iaf_psc_exp", synapse = "static_synapse"), or "".
std::string other_simulators_value(std::string_view value);

// Throws on the first key of `t` not in `allowed`, suggesting the nearest allowed key.
void check_keys(const context& ctx, const toml::table& t, std::string_view path,
                std::span<const std::string_view> allowed);

// The sub-table `key` of `parent`, nullptr when absent; throws when it is not a table.
const toml::table* optional_table(const context& ctx, const toml::table& parent,
                                  std::string_view path, std::string_view key);

// The node `key` of `t`; throws "<path>.<key> is missing: <what> is required" when absent.
const toml::node& required(const context& ctx, const toml::table& t, std::string_view path,
                           std::string_view key, std::string_view what);
// The optional [[key]] list of the root: null when absent or empty; throws unless it is an array
// of tables.
const toml::array* optional_tables(const context& ctx, const toml::table& root, const std::string& key);
// Letters, digits and _, not starting with a digit: population and generator names.
bool is_identifier(std::string_view s);
// The required `name` of a [[population]], [[generator]] or [[projection]] (`what`), an identifier
// (not "all" for a population or generator); its node too.
std::string read_name(const context& ctx, const toml::table& t, std::string_view path, std::string_view what,
                      const toml::node*& node);

double read_quantity(const context& ctx, const toml::node& n, std::string_view path, dimension d);
// A run, and so any time that becomes a step (a record's window and interval, a switch time, a
// generator's window), is at most 2^40 steps: every step count stays exact in 64 bits.
inline constexpr double max_steps = 1099511627776.0;  // 2^40
// A time read at `n`, ms: fails unless it is at most max_steps steps of dt_ms.
void check_at_most_max_steps(const context& ctx, const toml::node& n, std::string_view path, double ms, double dt_ms);
std::int64_t read_integer(const context& ctx, const toml::node& n, std::string_view path,
                          std::int64_t lo, std::int64_t hi);
std::string read_string(const context& ctx, const toml::node& n, std::string_view path,
                        std::string_view accepted);
bool read_bool(const context& ctx, const toml::node& n, std::string_view path);
// One of a fixed set of words; returns its index.
std::size_t read_choice(const context& ctx, const toml::node& n, std::string_view path,
                        std::span<const std::string_view> choices);

// Where a per-neuron value lives, for "array of wrong length" messages.
struct owner {
    std::string_view population;
    std::uint64_t size;
};
distribution read_distribution(const context& ctx, const toml::node& n, std::string_view path,
                               dimension d, owner who);

// The mean and std of a normal or lognormal written [mean, std] or { mean = ..., std = ... }
// (per-neuron and per-synapse values alike), with their key paths; the error names `form` and
// shows an example around `example_mean`.
struct mean_std_nodes {
    const toml::node* mean = nullptr;
    const toml::node* std_dev = nullptr;
    std::string mean_path, std_path;
};
mean_std_nodes read_mean_std(const context& ctx, const toml::node& value, std::string_view path, std::string_view form,
                             std::string_view example_mean, dimension d);

// Throws unless every value `dist` can take satisfies `ok` (linspace and uniform: both ends,
// array: every value, normal: the mean). `rule` says what is accepted ("must be >= 0").
template <class Pred>
void check_every_value(const context& ctx, const toml::node* at, std::string_view path,
                       const distribution& dist, dimension d, Pred ok, std::string_view rule);

void apply_overrides(toml::table& root, const std::vector<std::string>& overrides, context& ctx);
run_spec build_spec(const toml::table& root, const context& ctx);
// [[generator]] and [[projection]] (network.cpp), after the populations.
void read_network(const context& ctx, const toml::table& root, run_spec& spec);
// The dimension of a synapse's weight: delta mV, exp_current pA, exp_conductance nS.
inline dimension weight_dimension(synapse_kind k) {
    switch (k) {
        case synapse_kind::delta: return dimension::voltage;
        case synapse_kind::exp_current: return dimension::current;
        case synapse_kind::exp_conductance: return dimension::conductance;
    }
    return dimension::voltage;
}
// input.poisson's synapse, weight, tau_syn and E_rev, read and checked as a projection's (network.cpp).
void read_poisson_synapse(const context& ctx, const toml::table& t, std::string_view path, input_spec& in);

// The schema's key lists, shared by validation and the override resolver.
inline constexpr std::array<std::string_view, 5> root_keys = {"simulation", "population", "generator",
                                                              "projection", "record"};
inline constexpr std::array<std::string_view, 6> simulation_keys = {
    "dt", "duration", "seed", "precision", "spike_timing", "threads"};
inline constexpr std::array<std::string_view, 6> population_keys = {"name",   "size", "model",
                                                                    "params", "init", "input"};
inline constexpr std::array<std::string_view, 3> init_keys = {"V_m", "w", "I_noise"};
inline constexpr std::array<std::string_view, 5> input_keys = {"I_e", "steps", "noise", "ou",
                                                               "poisson"};
inline constexpr std::array<std::string_view, 2> steps_keys = {"times", "amplitudes"};
inline constexpr std::array<std::string_view, 2> noise_keys = {"sigma_V", "bridge"};
inline constexpr std::array<std::string_view, 2> ou_keys = {"sigma_I", "tau_I"};
inline constexpr std::array<std::string_view, 6> poisson_keys = {"rate",    "weight",  "count",
                                                                  "synapse", "tau_syn", "E_rev"};
inline constexpr std::array<std::string_view, 9> record_keys = {"spikes",   "state",    "population", "projection",
                                                                "neurons",  "interval", "name",       "start",
                                                                "stop"};
inline constexpr std::array<std::string_view, 4> distribution_keys = {"linspace", "uniform",
                                                                      "normal", "array"};
inline constexpr std::array<std::string_view, 7> generator_keys = {"name", "size", "times", "neurons",
                                                                   "rate", "start", "stop"};
inline constexpr std::array<std::string_view, 9> projection_keys = {
    "name", "source", "target", "rule", "synapse", "weight", "delay", "tau_syn", "E_rev"};
// The rule names (rule_names, connectivity.hpp), then the flags a rule table may carry.
inline constexpr std::array<std::string_view, 9> rule_keys = {
    "pairwise_bernoulli", "fixed_indegree", "fixed_outdegree", "fixed_total", "all_to_all",
    "one_to_one",         "from_file",      "autapses",        "multapses"};
inline constexpr std::array<std::string_view, 3> synapse_distribution_keys = {"uniform", "normal",
                                                                              "lognormal"};
// At most this many [[projection]] tables: each has its own RNG streams below 2^16 above its base
// (connectivity.hpp, synapses.hpp).
inline constexpr std::size_t max_projections = 65535;
// At most this many [[generator]] tables: a Poisson generator's stream is below 2^16 above
// generator_stream_base (network.hpp).
inline constexpr std::size_t max_generators = 65535;

// ---- template definitions ----

template <class Pred>
void check_every_value(const context& ctx, const toml::node* at, std::string_view path,
                       const distribution& dist, dimension d, Pred ok, std::string_view rule) {
    const auto bad = [&](double v, const std::string& where) {
        const std::string q = format_quantity(v, d);
        ctx.fail(at, path,
                 where.empty() ? std::string(path) + " = \"" + q + "\": " + std::string(rule)
                               : std::string(path) + ": " + where + q + " " + std::string(rule));
    };
    switch (dist.type) {
        case distribution::kind::constant:
            if (!ok(dist.a)) bad(dist.a, "");
            break;
        case distribution::kind::linspace:
            if (!ok(dist.a)) bad(dist.a, "linspace starts at ");
            if (!ok(dist.b)) bad(dist.b, "linspace ends at ");
            break;
        case distribution::kind::uniform:
            if (!ok(dist.a)) bad(dist.a, "uniform range starts at ");
            if (!ok(dist.b)) bad(dist.b, "uniform range ends at ");
            break;
        case distribution::kind::normal:
            if (!ok(dist.a)) bad(dist.a, "normal mean ");
            break;
        case distribution::kind::array:
            for (std::size_t i = 0; i < dist.values.size(); ++i)
                if (!ok(dist.values[i])) bad(dist.values[i], "value [" + std::to_string(i) + "] ");
            break;
    }
}

}  // namespace ifsim::config_detail
