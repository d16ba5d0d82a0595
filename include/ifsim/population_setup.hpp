// Host-side preparation of one population for any backend: per-neuron values realised from their
// distributions, coefficients derived once in double and rounded to Real, initial state. The CPU
// backend runs on these arrays; the CUDA backend uploads them. Both therefore start from the same
// bits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ifsim/errors.hpp"
#include "ifsim/models.hpp"
#include "ifsim/realize.hpp"
#include "ifsim/spec.hpp"
#include "ifsim/units.hpp"

namespace ifsim {

// RNG streams of the per-neuron values, one per key, so that no two keys draw the same numbers.
namespace value_stream {
inline constexpr std::uint32_t param_base = 0x100;  // + index in param_fields
inline constexpr std::uint32_t V_m = 0x200, w = 0x201, I_noise = 0x202;
inline constexpr std::uint32_t I_e = 0x300, sigma_V = 0x301, sigma_I = 0x302;
}  // namespace value_stream

// A piecewise-constant current on the step grid: amplitude[i] from step first_step[i] on.
template <class Real>
struct step_schedule {
    std::vector<std::uint64_t> first_step;
    std::vector<Real> amplitude;

    // The amplitude at `step` (0 before the first switch).
    Real at(std::uint64_t step) const {
        Real I = 0;
        for (std::size_t i = 0; i < first_step.size() && first_step[i] <= step; ++i) I = amplitude[i];
        return I;
    }
};

template <class Model, class Real>
struct population_data {
    using coeffs_type = typename Model::template coeffs<Real>;

    std::uint64_t size = 0;
    std::uint64_t first_id = 0;            // global id of neuron 0 (the RNG subsequence)
    std::vector<coeffs_type> coeffs;       // one entry, or one per neuron when parameters vary
    std::vector<Real> I_e;                 // bias current [pA]: one entry, or one per neuron
    step_schedule<Real> steps;             // step current [pA], the same for every neuron
    // Initial state, one entry per neuron (w and I_ou empty when the model/input lacks them).
    std::vector<Real> V, w, I_ou, ref;
};

namespace detail {

// A distribution realised for the population: one value if constant, else one per neuron.
inline std::vector<double> values_of(const distribution& d, std::uint64_t n, std::uint64_t seed,
                                     std::uint32_t stream, std::uint64_t first_id) {
    if (d.is_constant()) return {d.a};
    return realize(d, n, seed, stream, first_id);
}

inline double pick(const std::vector<double>& v, std::uint64_t i) { return v.size() == 1 ? v[0] : v[i]; }

template <class Real>
std::vector<Real> to_real(const std::vector<double>& v) {
    return std::vector<Real>(v.begin(), v.end());
}

}  // namespace detail

// What to do about a coefficient_range_problem of a float run.
inline constexpr const char* float_range_remedy =
    "; the parameters are too extreme for float: use simulation.precision = \"double\"";

// Empty where every coefficient the model derives from `p` and dt (in double) is within the range
// of the run's Real: for float 0 or within its normal range, and t_ref at most 2^24 steps; for
// double finite. Else the first problem, as "a coefficient derived ... is 4.0e-41".
// A parameter set valid in double can leave float's (QIF with k = 1e-36 nS/mV: k dt / C_m is a
// float subnormal, and the run fired at 480 Hz instead of 20); one with g_L = 1e-320 nS leaves
// double's (its 1 / g_L is inf, and the run failed at its first check).
inline std::string coefficient_range_problem(const neuron_params& p, model_kind m, double dt_ms, precision real) {
    const bool single = real == precision::single;
    // The refractory countdown is a Real of whole steps: float counts them down one by one up to
    // 2^24 only (above it x - 1 rounds back to x, and the neuron stays refractory for good).
    if (const double steps = p.t_ref / dt_ms; single && steps > 16777216.0)
        return "t_ref / dt = " + format_number(steps) + " steps; float counts refractory steps exactly up to 2^24 = 16777216";
    return with_model(m, [&]<class Model>() {
        typename Model::template coeffs<double> c{};
        Model::derive(c, p, dt_ms);
        // Decay factors and their rates are exempt from the lower bound: one that underflows (a
        // time constant far below or above dt) decays completely or not at all, as it should. The
        // leak's Q may be subnormal: what it moves V by, (V_inf - V) Q with V_inf within the Real,
        // is then below 2.4e-7 mV a step in float, under half an ulp of a membrane potential. Not
        // from the upper: dt / tau_w = inf (tau_w = 1e-40 ms in float) made a partial step's
        // h dt / tau_w NaN at h = 0, and the run fail (a fuzz audit).
        const auto exempt_below = [](double& x) {
            if (std::fabs(x) < double(std::numeric_limits<float>::min())) x = 0.0;
        };
        if constexpr (requires { c.leak; }) exempt_below(c.leak.Q), exempt_below(c.leak.dt_over_tau);
        if constexpr (requires { c.adaptation; }) exempt_below(c.adaptation.P_w), exempt_below(c.adaptation.dt_over_tau_w);
        std::string problem;
        c.each_field([&](auto& field, const char* what) {
            if constexpr (std::is_floating_point_v<std::remove_cvref_t<decltype(field)>>) {
                const double v = std::fabs(field);
                if (!problem.empty()) return;
                const char* beyond =  // the message is made only for a field out of range (per neuron)
                    single ? (v != 0.0 && !(v >= double(std::numeric_limits<float>::min()) &&
                                            v <= double(std::numeric_limits<float>::max()))
                                  ? ", outside float's normal range (1.2e-38 .. 3.4e38)"
                                  : nullptr)
                           : (!std::isfinite(v) ? ", beyond double's range" : nullptr);
                if (beyond)
                    problem = std::string("the coefficient ") + what + " derived from its parameters and dt is " +
                              format_number(field) + beyond;
            }
        });
        return problem;
    });
}

// Every neuron's parameters with model defaults, checked (their coefficients in the run's Real's range):
// one entry when no parameter varies across the population, else one per neuron. config_error
// names the first bad neuron.
inline std::vector<neuron_params> realize_params(const population_spec& pop, const simulation_spec& sim,
                                                 std::uint64_t first_id) {
    const std::uint64_t n = pop.size;
    std::vector<std::vector<double>> values(param_fields.size());
    std::uint64_t count = 1;
    for (std::size_t f = 0; f < param_fields.size(); ++f) {
        const auto it = pop.params.find(std::string(param_fields[f].name));
        if (it == pop.params.end()) continue;
        values[f] = detail::values_of(it->second, n, sim.seed, value_stream::param_base + std::uint32_t(f), first_id);
        if (values[f].size() > 1) count = n;
    }
    std::vector<neuron_params> out(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        neuron_params p;
        for (std::size_t f = 0; f < param_fields.size(); ++f)
            if (!values[f].empty()) p.*param_fields[f].member = detail::pick(values[f], i);
        p = with_model_defaults(p, pop.model);
        if (const std::string err = check_params(p, pop.model, sim.dt_ms); !err.empty())
            throw config_error("population '" + pop.name + "', neuron " + std::to_string(i) +
                               " (its params as drawn): " + err);
        if (const std::string err = coefficient_range_problem(p, pop.model, sim.dt_ms, sim.real); !err.empty())
            throw config_error("population '" + pop.name + "', neuron " + std::to_string(i) + ": " + err +
                               (sim.real == precision::single ? float_range_remedy : ""));
        out[i] = p;
    }
    return out;
}

// A per-neuron input or initial value besides the parameters: its key, RNG stream and range, and
// the range in the words of the config's check.
struct drawn_key {
    const char* name;  // as the config spells it, under population[i]
    std::uint32_t stream;
    double lo, hi;
    dimension dim;
    std::string_view rule;
};
inline constexpr drawn_key I_e_key{"input.I_e", value_stream::I_e, -max_abs_current_pA, max_abs_current_pA,
                                   dimension::current, current_range_rule};
inline constexpr drawn_key sigma_V_key{"input.noise.sigma_V", value_stream::sigma_V, 0.0, max_abs_voltage_mV,
                                       dimension::voltage, "must be in [0, 1e6] mV"};
inline constexpr drawn_key sigma_I_key{"input.ou.sigma_I", value_stream::sigma_I, 0.0, max_abs_current_pA,
                                       dimension::current, "must be in [0, 1e9] pA"};
inline constexpr drawn_key V_m_key{"init.V_m", value_stream::V_m, -max_abs_voltage_mV, max_abs_voltage_mV,
                                   dimension::voltage, voltage_range_rule};
inline constexpr drawn_key w_key{"init.w", value_stream::w, -max_abs_current_pA, max_abs_current_pA,
                                 dimension::current, current_range_rule};
inline constexpr drawn_key I_noise_key{"init.I_noise", value_stream::I_noise, -max_abs_current_pA,
                                       max_abs_current_pA, dimension::current, current_range_rule};

// Whether v is within the key's range.
constexpr bool in_key_range(const drawn_key& key, double v) { return v >= key.lo && v <= key.hi; }
// An init key's name within `init` (population_spec::init's key).
inline std::string init_name(const drawn_key& key) { return std::string(key.name).substr(5); }  // past "init."

// `d` for every neuron of `pop` (one entry when constant), checked against the key's range as
// drawn: the config checks a constant's, a uniform's or a list's, but a normal's tails reach any
// value (a sigma_V drawn negative ran as no noise). config_error names the first neuron outside.
inline std::vector<double> realize_checked(const distribution& d, const drawn_key& key, const population_spec& pop,
                                           const simulation_spec& sim, std::uint64_t first_id) {
    std::vector<double> v = detail::values_of(d, pop.size, sim.seed, key.stream, first_id);
    for (std::size_t i = 0; i < v.size(); ++i)  // (one drawn value, for a population of one, too)
        if (!in_key_range(key, v[i]))
            throw config_error("population '" + pop.name + "', neuron " + std::to_string(i) + " (its " + key.name +
                               " as drawn): " + format_quantity(v[i], key.dim) + " is outside [" +
                               format_quantity(key.lo, key.dim) + ", " + format_quantity(key.hi, key.dim) + "]");
    return v;
}

// The bias current I_e [pA] of every neuron (one entry when constant).
inline std::vector<double> realize_bias(const population_spec& pop, const simulation_spec& sim,
                                        std::uint64_t first_id) {
    return realize_checked(pop.input.I_e, I_e_key, pop, sim, first_id);
}

// An initial value of every neuron (one entry when constant), none where `init` lacks the key.
inline std::vector<double> realize_init(const drawn_key& key, const population_spec& pop, const simulation_spec& sim,
                                        std::uint64_t first_id) {
    const auto it = pop.init.find(init_name(key));
    if (it == pop.init.end()) return {};
    return realize_checked(it->second, key, pop, sim, first_id);
}

// Each neuron's constant drives within its Real's range: V_inf = E_L + I / g_L [mV] (the QIF's
// I / k [mV^2]) for I its I_e alone and with each of the step current's amplitudes added.
// config_error names the first neuron beyond it: a float run with g_L = 1e-30 nS and I_e = 5e8 pA
// (V_inf 5e38 mV) passed every check and ran away at its first step, replacing the folder's
// earlier run (a fuzz audit).
inline void check_drives(const population_spec& pop, const simulation_spec& sim,
                         const std::vector<neuron_params>& params, const std::vector<double>& bias) {
    const bool single = sim.real == precision::single;
    const double limit = single ? double(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
    const bool qif = pop.model == model_kind::qif;
    const std::vector<double>& steps = pop.input.steps.amplitude_pA;
    for (std::uint64_t i = 0; i < std::max(params.size(), bias.size()); ++i) {
        const neuron_params& p = params[params.size() > 1 ? i : 0];
        const auto drive = [&](double I) { return qif ? I / p.k : p.E_L + I / p.g_L; };
        const double I_e = detail::pick(bias, i);
        double I = I_e;  // the current of the largest |drive|
        for (const double a : steps)
            if (std::fabs(drive(I_e + a)) > std::fabs(drive(I))) I = I_e + a;
        const double worst = drive(I);
        if (std::fabs(worst) <= limit) continue;
        throw config_error("population '" + pop.name + "', neuron " + std::to_string(i) + ": its input current " +
                           (steps.empty() ? "I_e = " : "(I_e with the step current) ") + format_number(I) + " pA over " +
                           (qif ? "k = " + format_number(p.k) + " nS/mV is " + format_number(worst) + " mV^2"
                                : "g_L = " + format_number(p.g_L) + " nS drives V to " + format_number(worst) + " mV") +
                           ", beyond " + (single ? "float's range (3.4e38)" : "double's range") +
                           (single ? float_range_remedy : ""));
    }
}

// What a run draws for `pop` before it starts, drawn and checked as it will be (`ifsim check
// --build`): config_error for the first value out of its range.
inline void check_drawn_values(const population_spec& pop, const simulation_spec& sim, std::uint64_t first_id) {
    check_drives(pop, sim, realize_params(pop, sim, first_id), realize_bias(pop, sim, first_id));
    realize_checked(pop.input.sigma_V, sigma_V_key, pop, sim, first_id);
    realize_checked(pop.input.sigma_I, sigma_I_key, pop, sim, first_id);
    for (const drawn_key& key : {V_m_key, w_key, I_noise_key}) realize_init(key, pop, sim, first_id);
}

template <class Model, class Real>
population_data<Model, Real> build_population(const population_spec& pop, const simulation_spec& sim,
                                              std::uint64_t first_id) {
    using detail::pick;
    const std::uint64_t n = pop.size;
    const double dt = sim.dt_ms;
    population_data<Model, Real> out;
    out.size = n;
    out.first_id = first_id;

    const std::vector<neuron_params> params = realize_params(pop, sim, first_id);
    const auto sigma_V = realize_checked(pop.input.sigma_V, sigma_V_key, pop, sim, first_id);
    const auto sigma_I = realize_checked(pop.input.sigma_I, sigma_I_key, pop, sim, first_id);
    const bool varies = params.size() > 1 || sigma_V.size() > 1 || sigma_I.size() > 1;

    const input_spec& in = pop.input;
    const bool ou_on = !(in.sigma_I.is_constant() && in.sigma_I.a == 0.0);
    const double poisson_mean = in.poisson_rate_Hz * 1e-3 * dt * double(in.poisson_count);
    const bool poisson_on = in.poisson_on();

    out.coeffs.resize(varies ? n : 1);
    for (std::uint64_t i = 0; i < out.coeffs.size(); ++i) {
        const neuron_params& p = params[params.size() > 1 ? i : 0];
        auto& c = out.coeffs[i];
        c = {};
        Model::derive(c, p, dt);
        c.reset.V_reset = Real(p.V_reset);
        c.reset.ref_steps = Real(p.t_ref / dt);
        c.reset.b = Model::adaptive ? Real(p.b) : Real(0);

        const double sV = pick(sigma_V, i);
        c.noise.sigma_V = Real(sV);
        c.noise.sigma_step = Real(Model::noise_step_std(p, sV, dt));
        const double s2 = 2.0 * sV * sV * dt / Model::noise_tau_ms(p);  // diffusion variance per step
        const bool bridge_on = Model::hard_threshold && in.bridge && sV > 0.0;
        c.noise.bridge = bridge_on ? Real(2.0 / s2) : Real(0);

        const double sI = pick(sigma_I, i);
        c.input.ou_P = Real(std::exp(-dt / in.tau_I_ms));
        c.input.ou_sigma_step = Real(ou_step_std(sI, dt, in.tau_I_ms));
        c.input.poisson_mean = Real(poisson_mean);
        c.input.poisson_weight = in.poisson_feeds_channel() ? Real(0) : Real(in.poisson_weight);
        c.input.flags = (sV > 0.0 ? input_flag::white_noise : 0u) | (bridge_on ? input_flag::bridge : 0u) |
                        (ou_on ? input_flag::ou_current : 0u) | (poisson_on ? input_flag::poisson : 0u) |
                        (poisson_on && in.poisson_feeds_channel() ? input_flag::poisson_channel : 0u);
    }

    const std::vector<double> bias = realize_bias(pop, sim, first_id);
    check_drives(pop, sim, params, bias);
    out.I_e = detail::to_real<Real>(bias);
    for (std::size_t k = 0; k < in.steps.time_ms.size(); ++k) {
        out.steps.first_step.push_back(std::uint64_t(nearest_steps(in.steps.time_ms[k], dt)));
        out.steps.amplitude.push_back(Real(in.steps.amplitude_pA[k]));
    }

    // Initial state: V_m defaults to E_L (per neuron when E_L varies).
    const auto V0 = realize_init(V_m_key, pop, sim, first_id);
    out.V.resize(n);
    for (std::uint64_t i = 0; i < n; ++i)
        out.V[i] = Real(V0.empty() ? params[params.size() > 1 ? i : 0].E_L : pick(V0, i));
    if (Model::adaptive) {
        const auto w0 = realize_init(w_key, pop, sim, first_id);
        out.w.assign(n, Real(0));
        for (std::uint64_t i = 0; i < n && !w0.empty(); ++i) out.w[i] = Real(pick(w0, i));
    }
    if (ou_on) {
        const auto I0 = realize_init(I_noise_key, pop, sim, first_id);
        out.I_ou.assign(n, Real(0));
        for (std::uint64_t i = 0; i < n && !I0.empty(); ++i) out.I_ou[i] = Real(pick(I0, i));
    }
    out.ref.assign(n, Real(0));
    return out;
}

}  // namespace ifsim
