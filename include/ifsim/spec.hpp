// The run specification: what a validated config becomes. Every value is in default units (mV, ms,
// pA, pF, nS, Hz) and every default is filled in, so the engine never looks at TOML and a resolved
// config can be written back from this alone.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ifsim/connectivity.hpp"
#include "ifsim/models/params.hpp"

namespace ifsim {

// A time of `ms` in whole steps of dt_ms: the nearest, and the even one where ms / dt is a half
// but for the rounding of ms, dt and the division (8 ulp of the quotient), so that the decimal
// value written decides a tie (0.15 ms / 0.1 ms is 1.4999999999999998 in binary: 2 steps, as
// 0.25 ms is). Every time of a config that is rounded to the grid (durations, delays, generator
// spike times, step-current times) goes through it. Straight-line code, for vector lanes.
inline constexpr double step_quotient_tolerance = 8.0 * std::numeric_limits<double>::epsilon();
inline double nearest_steps(double ms, double dt_ms) {
    const double q = ms / dt_ms;
    const double half = std::floor(q) + 0.5;
    // A quotient that near a half is that half, which nearbyint takes to the even neighbour
    // (1 + |q|, not fmax(1, |q|), which gcc does not vectorise).
    return std::nearbyint(std::fabs(q - half) <= step_quotient_tolerance * (1.0 + std::fabs(q)) ? half : q);
}

// Whether `ms` is a whole number of steps of dt_ms, but for the rounding nearest_steps allows.
inline bool is_whole_steps(double ms, double dt_ms) {
    const double q = ms / dt_ms;
    return std::fabs(q - nearest_steps(ms, dt_ms)) <= step_quotient_tolerance * (1.0 + std::fabs(q));
}

// One value per neuron: a scalar, or a rule that makes N values. Random rules draw from the
// stateless RNG keyed by the run seed, so they do not depend on threads or backend.
struct distribution {
    enum class kind { constant, linspace, uniform, normal, array };
    kind type = kind::constant;
    double a = 0.0;              // constant: the value; linspace: first; uniform: low; normal: mean
    double b = 0.0;              // linspace: last; uniform: high; normal: standard deviation
    std::vector<double> values;  // array: one value per neuron

    static distribution constant(double v) { return {kind::constant, v, 0.0, {}}; }
    bool is_constant() const { return type == kind::constant; }
};

// A current that switches at given times, the same for every neuron of the population, added to
// I_e: amplitude[i] holds from time[i] until time[i+1].
struct step_current {
    std::vector<double> time_ms;       // switch times, strictly increasing [ms]
    std::vector<double> amplitude_pA;  // current from that time on [pA]
};

// What a synapse does to its target.
enum class synapse_kind {
    delta,           // V jumps by the weight [mV] when the spike arrives
    exp_current,     // a current [pA] that jumps by the weight and decays with tau_syn
    exp_conductance  // a conductance [nS] that jumps by the weight and decays with tau_syn; current g (E_rev - V)
};
// The names of synapse_kind as the config writes them, in its order.
inline constexpr std::array<std::string_view, 3> synapse_names = {"delta", "exp_current", "exp_conductance"};

struct input_spec {
    distribution I_e = distribution::constant(0.0);      // constant bias current [pA]
    step_current steps;                                   // piecewise-constant current [pA]
    distribution sigma_V = distribution::constant(0.0);  // white noise: std of the free V [mV]
    bool bridge = true;  // Brownian-bridge threshold-crossing correction for noisy hard thresholds
    distribution sigma_I = distribution::constant(0.0);  // OU current noise std [pA]
    double tau_I_ms = 5.0;                                // OU correlation time [ms]
    double poisson_rate_Hz = 0.0;     // rate of each independent Poisson input [Hz]
    std::uint64_t poisson_count = 0;  // number of independent Poisson inputs per neuron
    // What an input spike does, as a projection's synapse (projection_spec): a voltage jump [mV]
    // (delta), or a jump [pA or nS] of the population's exp synaptic channel of this tau_syn and
    // E_rev (network.hpp), the one projections of the same kind feed (NEST's poisson_generator
    // into iaf_psc_exp's I_syn, Brian2's PoissonInput on a synaptic variable).
    double poisson_weight = 0.0;
    synapse_kind poisson_synapse = synapse_kind::delta;
    double poisson_tau_syn_ms = 2.0;
    double poisson_E_rev_mV = 0.0;

    // Whether the Poisson input does anything.
    bool poisson_on() const { return poisson_rate_Hz > 0.0 && poisson_count > 0 && poisson_weight != 0.0; }
    // Whether its spikes feed a synaptic channel rather than jump V.
    bool poisson_feeds_channel() const { return poisson_synapse != synapse_kind::delta; }
};

struct population_spec {
    std::string name;
    std::uint64_t size = 0;
    model_kind model = model_kind::lif;
    // Every parameter the model reads, by name (param_fields), defaults filled in.
    std::map<std::string, distribution> params;
    // Initial state: "V_m" [mV] (default E_L), "w" [pA] (adaptive models, default 0),
    // "I_noise" [pA] (OU input, default 0).
    std::map<std::string, distribution> init;
    input_spec input;

    // Whether its neurons differ in a parameter, I_e, sigma_V or sigma_I (not in their initial state,
    // nor in what projections bring them): their spike trains are then not samples of one process.
    bool neurons_differ() const {
        for (const auto& [name, d] : params)
            if (!d.is_constant()) return true;
        return !(input.I_e.is_constant() && input.sigma_V.is_constant() && input.sigma_I.is_constant());
    }
};

enum class precision { single, double_ };
inline std::string_view precision_name(precision p) { return p == precision::single ? "float" : "double"; }
enum class spike_timing {
    grid,         // spikes at the end of the step in which threshold is crossed
    interpolated  // spike time found inside the step; refractoriness counted from it
};

// Steps per backend call in a run (run_options), between two writes of the outputs.
inline constexpr std::uint32_t default_block_steps = 1000;

// More CPU threads than any machine runs; beyond the system's thread limit OpenMP crashes
// starting them (found at 100,000).
inline constexpr unsigned max_threads = 4096;

struct simulation_spec {
    double dt_ms = 0.1;
    double duration_ms = 1000.0;
    std::uint64_t seed = 12345;  // < 2^32; the key's other word is the stream
    precision real = precision::single;
    spike_timing timing = spike_timing::grid;
    unsigned threads = 0;  // CPU threads, 0 = OpenMP default, at most max_threads
};

// The steps a record writes, [start, stop) in whole steps of dt, as NEST's recorders' start and
// stop: a spike whose step lies in it (its time in (start, stop]), a sample taken at a step in it
// (the state at times in [start, stop)). The whole run by default.
struct record_window {
    double start_ms = 0.0;
    double stop_ms = std::numeric_limits<double>::infinity();  // past the run's end: to its end

    std::uint64_t first_step(double dt_ms) const { return std::uint64_t(nearest_steps(start_ms, dt_ms)); }
    std::uint64_t end_step(double dt_ms) const {
        return std::isinf(stop_ms) ? std::numeric_limits<std::uint64_t>::max() : std::uint64_t(nearest_steps(stop_ms, dt_ms));
    }
    bool whole_run() const { return start_ms == 0.0 && std::isinf(stop_ms); }
    bool operator==(const record_window&) const = default;
};

// Which neurons of a population a spike record writes: a range [first, end) (every neuron by
// default), or the listed ones.
struct neuron_subset {
    std::uint64_t first = 0, end = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::uint64_t> listed;  // ascending; where non-empty, these instead of the range

    bool contains(std::uint64_t i) const {
        return listed.empty() ? (i >= first && i < end) : std::binary_search(listed.begin(), listed.end(), i);
    }
    bool all() const { return listed.empty() && first == 0 && end == std::numeric_limits<std::uint64_t>::max(); }
    bool operator==(const neuron_subset&) const = default;
};

// The populations whose spikes spikes.h5 holds, each with the window and neurons it records.
struct spike_record {
    std::vector<std::string> populations;
    std::vector<record_window> windows;  // one per population
    std::vector<neuron_subset> neurons;  // one per population
};

// Sampled state variables of chosen neurons, one SONATA report file per variable.
struct state_record {
    std::string name;                     // report name, the file is <name>.h5
    std::string population;
    std::string variable;                 // "V_m", "w", "I_noise", "I_syn" or "g_syn"
    // I_syn, g_syn: a projection onto the population whose synaptic channel (network.hpp) is
    // recorded, every projection of the same channel adding to it; or poisson_input_channel, the
    // channel the population's Poisson input feeds.
    std::size_t projection = 0;
    static constexpr std::size_t poisson_input_channel = std::numeric_limits<std::size_t>::max();

    // Whether it samples a synaptic channel (I_syn, g_syn) rather than a neuron's own variable.
    bool samples_a_channel() const { return variable == "I_syn" || variable == "g_syn"; }
    std::vector<std::uint64_t> neurons;   // indices within the population
    double interval_ms = 1.0;             // sampling interval, a whole number of steps
    record_window window;                 // samples at multiples of the interval inside it

    // The sampling interval in steps of dt (at least one): a sample at every multiple of it.
    std::uint64_t interval_steps(double dt_ms) const {
        return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(nearest_steps(interval_ms, dt_ms)));
    }
    // Its first sample at or after `step`: the next multiple of the interval (the backends sample
    // at every one; a block's row k is the k-th from its first step on).
    std::uint64_t sample_from(std::uint64_t step, double dt_ms) const {
        const std::uint64_t every = interval_steps(dt_ms);
        return (step + every - 1) / every * every;
    }
    // The step of its first sample in the files: the first inside the window.
    std::uint64_t first_sample_step(double dt_ms) const { return sample_from(window.first_step(dt_ms), dt_ms); }
    // The samples its file holds after a run of `steps` steps.
    std::uint64_t samples_in(std::uint64_t steps, double dt_ms) const {
        const std::uint64_t first = first_sample_step(dt_ms), end = std::min(steps, window.end_step(dt_ms));
        return end > first ? (end - first + interval_steps(dt_ms) - 1) / interval_steps(dt_ms) : 0;
    }
};

// One value per synapse, drawn from the stateless RNG keyed by (seed, the projection's weight or
// delay stream, synapse index in the projection's CSR order). All values keep the sign of `a`
// (the constant, the mean, or the bounds), which validation checks against the synapse kind.
struct synapse_distribution {
    enum class kind {
        constant,   // a
        uniform,    // in [a, b]
        normal,     // mean a, standard deviation b, clipped at zero so that no value changes sign
        lognormal,  // |value| lognormal with mean |a| and standard deviation b, sign of a
    };
    kind type = kind::constant;
    double a = 0.0;
    double b = 0.0;
    static synapse_distribution constant(double v) { return {kind::constant, v, 0.0}; }
};

// A [[generator]]: `size` neurons that only send spikes, through projections. Either at given
// times (NEST's spike_generator, Brian2's SpikeGeneratorGroup): a time is rounded to the grid of dt
// and is the spike's time like a neuron's, its effect on a target comes one delay later. Or as
// independent Poisson processes (NEST's poisson_generator with parrot neurons, Brian2's
// PoissonGroup): each neuron fires at rate_Hz during [start_ms, stop_ms), every spike at the end
// of the step it falls in, so a step can hold several (network.hpp, schedule).
struct generator_spec {
    enum class kind { times, poisson };
    std::string name;
    std::uint64_t size = 0;
    std::vector<double> times_ms;        // times: spike times [ms], each above dt / 2 (it rounds to >= dt)
    std::vector<std::uint64_t> neurons;  // times: the neuron of each time; empty: every neuron at every time
    kind type = kind::times;
    double rate_Hz = 0.0;                // poisson: each neuron's rate
    double start_ms = 0.0, stop_ms = 0.0;  // poisson: when the neurons fire, start <= t < stop
};

// A [[projection]]: synapses from every neuron of `source` chosen by `rule` onto `target`.
struct projection_spec {
    std::string name;            // optional ("" if none), unique among projections: --set projection.<name>.key
    std::string source, target;  // names: source a population or a generator, target a population
    connection_rule rule;        // connectivity.hpp
    synapse_kind synapse = synapse_kind::delta;
    // delta: mV; exp_current: pA; exp_conductance: nS (>= 0). Negative values are inhibitory for
    // delta and exp_current.
    synapse_distribution weight = synapse_distribution::constant(0.0);
    // [ms], > 0; rounded to whole steps, at least one step.
    synapse_distribution delay = synapse_distribution::constant(1.0);
    double tau_syn_ms = 2.0;  // exp_current, exp_conductance: decay time constant [ms]
    double E_rev_mV = 0.0;    // exp_conductance: reversal potential [mV]
    // from_file: the file's weight and delay columns, where it has them, replace weight and delay.
    bool weight_from_file = false, delay_from_file = false;
};

// How messages name projection `index`: "projection 2 'EI' (E -> I)", the name where it has one.
inline std::string describe_projection(const projection_spec& pr, std::size_t index) {
    std::string s = "projection " + std::to_string(index);
    if (!pr.name.empty()) s += " '" + pr.name + "'";
    return s + " (" + pr.source + " -> " + pr.target + ")";
}

struct run_spec {
    simulation_spec simulation;
    std::vector<population_spec> populations;
    std::vector<generator_spec> generators;
    std::vector<projection_spec> projections;
    spike_record spikes;
    std::vector<state_record> states;
    std::string source_path;  // the config file it came from ("" for built in code)
};

}  // namespace ifsim
