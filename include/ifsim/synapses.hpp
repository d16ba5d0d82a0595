// Synapses, per target neuron and step (IFSIM_HD: the CPU and the GPU share it). A target population
// gathers its incoming projections into channels, one per kind of effect:
//   delta            arrivals [mV] jump V at the end of the step they arrive in
//   exp_current      I [pA]: this step's input is I's mean over the step, I m with
//                    m = (tau_syn/dt)(1 - P), P = exp(-dt/tau_syn); then I <- I P + arrivals
//   exp_conductance  g [nS]: this step's conductance is g m, which the model's step takes with the
//                    leak (models/common.hpp, relax); then g <- g P + arrivals
// So a spike emitted in step t with a delay of d steps arrives in step t + d: it moves V at the end
// of that step (delta) or drives it from step t + d + 1 on (exp_*), exactly d dt after the spike.
// The decay is exact, and so is the charge a current synapse delivers in each step (w tau_syn in
// all); within a step the current is held at that mean, like the bias.
//
// Arrivals are summed in fixed point (fixed_point.hpp), so they do not depend on delivery order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "ifsim/fixed_point.hpp"
#include "ifsim/math.hpp"
#include "ifsim/platform.hpp"
#include "ifsim/random.hpp"
#include "ifsim/spec.hpp"

namespace ifsim {

// RNG streams of projection p's per-synapse values (subsequence = synapse index in CSR order,
// block 0), next to its connectivity stream. The config allows fewer than 2^16 projections.
inline constexpr std::uint32_t weight_stream_base = 0x20000, delay_stream_base = 0x30000;

// One value of a synapse_distribution of kind K from the first two words x, y of its Philox block
// (words, not the block: a loop keeps them in registers). normal: clipped at zero on
// the far side of the mean; lognormal: |value| has mean |a| and standard deviation b. In double,
// with ifsim::math, so the host and the device draw the same bits. Straight-line code for a kind
// fixed at compile time (signs as factors of +-1, not selects on d.a), so that a loop over
// synapses runs in vector lanes.
template <synapse_distribution::kind K>
IFSIM_HD double synapse_value_of(const synapse_distribution& d, std::uint32_t x, std::uint32_t y) {
    using kind = synapse_distribution::kind;
    if constexpr (K == kind::constant) {
        return d.a;
    } else if constexpr (K == kind::uniform) {
        return d.a + (d.b - d.a) * uniform_open<double>(x);
    } else {
        double z0 = 0, z1 = 0;
        box_muller<double>(x, y, z0, z1);
        const double sign = d.a > 0 ? 1.0 : -1.0;
        if constexpr (K == kind::normal) {
            const double v = d.a + d.b * z0;
            return v * sign > 0 ? v : 0.0;  // d.a > 0: v > 0; else v < 0
        } else {
            const double m = d.a * sign;  // |a| (a = 0 is rejected by the config)
            const double s2 = math::log1p((d.b * d.b) / (m * m));  // variance of log|value|
            const double mu = math::log(m) - 0.5 * s2;
            return sign * math::exp(mu + math::sqrt(s2) * z0);
        }
    }
}

IFSIM_HD double synapse_value(const synapse_distribution& d, const philox_block& r) {
    using kind = synapse_distribution::kind;
    switch (d.type) {
        case kind::constant: return synapse_value_of<kind::constant>(d, r.x, r.y);
        case kind::uniform: return synapse_value_of<kind::uniform>(d, r.x, r.y);
        case kind::normal: return synapse_value_of<kind::normal>(d, r.x, r.y);
        case kind::lognormal: return synapse_value_of<kind::lognormal>(d, r.x, r.y);
    }
    return d.a;
}

// A weight's magnitude in its unit (mV, pA or nS) is at most this: beyond any synapse, and a
// delta weight as large as the largest voltage (max_abs_voltage_mV).
inline constexpr double max_abs_weight = 1e6;
// A projection's largest |weight|, unless 0, is at least this: the fixed-point quantum, about
// 2^-30 of it, must stay a normal double (fixed_point.hpp).
inline constexpr double min_largest_abs_weight = 1e-290;
// The unit of a synapse kind's weight: a voltage jump, a current or a conductance.
inline const char* weight_unit_of(synapse_kind k) {
    return k == synapse_kind::delta ? "mV" : k == synapse_kind::exp_current ? "pA" : "nS";
}

// A delay is a whole number of steps, at least one, stored in 16 bits.
inline constexpr double max_delay_steps = 65535.0;

// A delay of `ms` in steps of dt: the nearest (nearest_steps), at least one.
inline double delay_steps(double ms, double dt_ms) { return std::max(1.0, nearest_steps(ms, dt_ms)); }

// The least and the greatest value synapse_value can draw from d: those of the extreme Philox
// words (u nearest 0 and 1 for uniform; for normal and lognormal the largest radius, u1 = 2^-33,
// at the angles nearest 0 and pi), as every kind's value is monotone in u or in the normal z.
// NaN when the parameters overflow.
inline std::pair<double, double> synapse_value_extremes(const synapse_distribution& d) {
    constexpr std::uint32_t low = 0, high = 0xFFFFFFFFu, half_turn = 0x80000000u;
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& [x, y] : {std::pair{low, low}, std::pair{low, half_turn}, std::pair{high, low}}) {
        const double v = synapse_value(d, {x, y, 0, 0});
        if (std::isnan(v)) return {NAN, NAN};
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    return {lo, hi};
}

// One channel's per-neuron step, given the fixed-point arrivals of the step.
template <class Real>
struct channel_coeffs {
    Real P;               // exp(-dt / tau_syn); unused for delta
    Real mean;            // (tau_syn / dt)(1 - P): the state's mean over a step over its start value
    Real E_rev;           // exp_conductance [mV]
    Real poisson_weight;  // per spike of the population's Poisson input, where it feeds the channel, else 0
};

// Derived in double on the host, once, for both backends.
template <class Real>
channel_coeffs<Real> derive_channel(synapse_kind kind, double tau_syn_ms, double E_rev_mV, double poisson_weight,
                                    double dt_ms) {
    if (kind == synapse_kind::delta) return {Real(0), Real(0), Real(0), Real(0)};
    const double x = dt_ms / tau_syn_ms;
    return {Real(std::exp(-x)), Real(-std::expm1(-x) / x), Real(E_rev_mV), Real(poisson_weight)};
}

// This step's synaptic current into a neuron at V [pA] from one exp channel's state x.
template <class Real>
IFSIM_HD Real channel_current(synapse_kind kind, const channel_coeffs<Real>& c, Real x, Real V) {
    const Real mean = x * c.mean;
    return kind == synapse_kind::exp_conductance ? mean * (c.E_rev - V) : mean;
}

// The exp channel's state after the step: decayed, plus this step's arrivals.
template <class Real>
IFSIM_HD Real channel_next(const channel_coeffs<Real>& c, Real x, Real arrivals) {
    return x * c.P + arrivals;
}

// One channel's input to one neuron in one step: takes (zeroes) the neuron's slot of the step, adds
// the delta channel's arrivals to V_syn [mV] or the exp channel's current, at V [mV], to I_syn
// [pA] (and a conductance channel's conductance to G_syn [nS]), and steps the exp state x on,
// with the step's arrivals and `n_poisson` spikes of the population's Poisson input
// (poisson_input; c.poisson_weight is 0 where they do not feed it, which leaves the arrivals' sum
// as it is). Channels are taken in their order, so the sums are the same
// on every backend. False when the slot is outside the format's range (a bug upstream: the format
// holds every synapse onto a neuron at once).
template <class Real>
IFSIM_HD bool take_channel(synapse_kind kind, const channel_coeffs<Real>& c, const fixed_point_format& f,
                           std::int64_t& slot, Real& x, Real V, Real n_poisson, Real& I_syn, Real& V_syn,
                           Real& G_syn) {
    const std::int64_t v = slot;
    slot = 0;
    const Real arrived = from_fixed<Real>(v, f);
    if (kind == synapse_kind::delta) {
        V_syn += arrived;
    } else {
        I_syn += channel_current(kind, c, x, V);
        if (kind == synapse_kind::exp_conductance) G_syn += x * c.mean;
        x = channel_next(c, x, arrived + n_poisson * c.poisson_weight);
    }
    return in_range(v, f);
}

}  // namespace ifsim
