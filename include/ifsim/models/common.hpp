// What every model shares: the state one thread updates, the reset rule and the noise scaling.
#pragma once

#include <cmath>

#include "ifsim/math.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

// One neuron's state, loaded from the structure-of-arrays storage for one step and stored back.
template <class Real>
struct neuron_state {
    Real V;     // membrane potential [mV]
    Real w;     // adaptation current [pA] (0 for models without adaptation)
    Real I_ou;  // coloured-noise input current [pA] (0 without OU input)
    Real ref;   // refractory time left [steps]; < 0: time since its end that the next step integrates too
};

// Fire-and-reset, identical for all models apart from where the spike condition sits.
template <class Real>
struct reset_coeffs {
    Real V_reset;    // reset potential [mV]
    Real spike_at;   // V_th for hard-threshold models, V_peak for the others [mV]
    Real ref_steps;  // t_ref / dt
    Real b;          // adaptation increment per spike [pA] (0 without adaptation)

    // f(field, what it is in the parameters' terms) for every field in order (each coefficient
    // struct has this: the CPU backend keeps per-neuron coefficients field by field, the config's
    // check names a coefficient out of range, tests/test_params.cpp checks it covers the struct).
    template <class F>
    void each_field(F&& f) {
        f(V_reset, "V_reset"), f(spike_at, "V_th or V_peak"), f(ref_steps, "t_ref / dt"), f(b, "b");
    }
};

// White-noise scaling for one full step; partial steps rescale it (see each model's advance).
template <class Real>
struct noise_coeffs {
    Real sigma_V;     // stationary std of the free membrane potential [mV]
    Real sigma_step;  // std of the noise increment of V over a full step [mV]; 0 = no noise
    Real bridge;      // 2 / s^2 with s^2 the diffusion variance over a full step [1/mV^2]; 0 = off

    template <class F>
    void each_field(F&& f) {
        f(sigma_V, "sigma_V"), f(sigma_step, "sigma_V's increment over a step"), f(bridge, "2 / s^2 of the Brownian bridge");
    }
};

// Inputs that are not the bias current: coloured noise and Poisson spike trains.
template <class Real>
struct input_coeffs {
    Real ou_P;            // exp(-dt / tau_I)
    Real ou_sigma_step;   // sigma_I sqrt(1 - ou_P^2): the OU current's exact noise per step [pA]
    Real poisson_mean;    // expected number of input spikes per step, all inputs together
    Real poisson_weight;  // voltage jump per input spike [mV]; 0 where a synaptic channel takes them
    unsigned flags;       // which of the inputs below are on

    template <class F>
    void each_field(F&& f) {
        f(ou_P, "exp(-dt / tau_I)"), f(ou_sigma_step, "sigma_I's increment over a step"),
            f(poisson_mean, "count rate dt of the Poisson input"), f(poisson_weight, "weight of the Poisson input"), f(flags, "flags of the inputs");
    }
};

enum input_flag : unsigned {
    white_noise = 1u,       // sigma_V > 0
    bridge = 2u,            // Brownian-bridge crossing correction (hard thresholds only)
    ou_current = 4u,        // OU current input
    poisson = 8u,           // Poisson spike input
    poisson_channel = 16u,  // ... that a synaptic channel takes: drawn for every step, refractory or not
};

// Std of the exact increment over dt of an OU process with stationary std `sigma` and time
// constant `tau` (host, double): sigma sqrt(1 - exp(-2 dt / tau)).
inline double ou_step_std(double sigma, double dt_ms, double tau_ms) {
    return sigma * std::sqrt(-std::expm1(-2.0 * dt_ms / tau_ms));
}

// The leak shared by the LIF, aLIF, EIF and AdEx: V relaxes towards a target V_inf with tau_m.
template <class Real>
struct leak_coeffs {
    Real E_L;          // leak reversal [mV]
    Real inv_g_L;      // 1 / g_L [mV/pA]
    Real Q;            // 1 - exp(-dt / tau_m): the part of the way to V_inf a step covers
    Real dt_over_tau;  // dt / tau_m, for partial steps

    template <class F>
    void each_field(F&& f) {
        f(E_L, "E_L"), f(inv_g_L, "1 / g_L"), f(Q, "1 - exp(-dt / tau_m)"), f(dt_over_tau, "dt / tau_m");
    }
};

template <class Real>
leak_coeffs<Real> derive_leak(double E_L, double g_L, double C_m, double dt_ms) {
    const double tau_m = C_m / g_L;
    return {Real(E_L), Real(1.0 / g_L), Real(-std::expm1(-dt_ms / tau_m)), Real(dt_ms / tau_m)};
}

// V after h * dt (h = 1: a full step) relaxing exactly towards V_inf, plus the exact white-noise
// increment for a standard normal xi. As V0 + (V_inf - V0) Q, not V_inf + (V0 - V_inf) P: with
// tau_m far above dt (a near-perfect integrator, g_L = 1e-4 nS) V_inf is far away, and float's
// rounding of it, kept whole by the second form, moved V by a quarter mV a step (250 Hz for 143).
// A partial step (after a refractory period that ends inside the step) needs its own propagator;
// on the CPU it is selected, not branched to, so that neurons update in vector lanes. A GPU warp
// instead branches around it: nearly every step is a full one, and the full step's arithmetic is
// the same either way.
// A V_inf that overflowed ((I - w) / g_L beyond the Real) leaves V NaN, so that the block's check
// stops the run ("not finite") rather than the +inf it would give counting as a spike: V plus
// V_inf - V_inf, which is 0 for a finite V_inf and NaN for an infinite one. Arithmetic, not a
// select on V_inf: gcc 12 did not vectorise the update loop around that select (a mask of other
// precision folded into the threshold tests), and every CPU population ran scalar.
//
// G [nS] is the synaptic conductance held over the step (exp_conductance channels; their current
// at V0 is in V_inf). It joins the leak: V relaxes with g_L + G towards V* = V0 + (V_inf - V0) /
// (1 + r), r = G / g_L, and so covers Q_G = (1 - exp(-h dt (1 + r) / tau_m)) / (1 + r) of the way to
// V_inf. Exact for the held conductance, and V never passes the reversal potentials, however large
// G dt / C_m (taking G's current at V0 alone overshot E_rev there, and at G dt / C_m > 2 grew
// without bound). The white-noise increment stays the leak's.
template <class Real>
IFSIM_HD Real relax(const leak_coeffs<Real>& c, const noise_coeffs<Real>& n, Real V0, Real V_inf, Real xi, Real h,
                    Real G = Real(0)) {
    const bool full = h == Real(1);
    const Real overflow = V_inf - V_inf;  // 0, or NaN where V_inf is infinite
    const bool leak_only = G == Real(0);
#ifdef __CUDA_ARCH__
    if (full && leak_only) return V0 + (V_inf - V0) * c.Q + n.sigma_step * xi + overflow;
#endif
    const Real Q = full ? c.Q : -math::expm1(-h * c.dt_over_tau);
    // 1 - exp(-2 h dt / tau_m) as Q (2 - Q): no cancellation where tau_m is far above dt
    const Real noise = full ? n.sigma_step : n.sigma_V * math::sqrt(Q * (Real(2) - Q));
    const Real r1 = Real(1) + G * c.inv_g_L;
    const Real Q_G = leak_only ? Q : -math::expm1(-h * c.dt_over_tau * r1) / r1;
    return V0 + (V_inf - V0) * Q_G + noise * xi + overflow;
}

// f limited to [0, 1] (NaN stays NaN).
template <class Real>
IFSIM_HD Real clamp_unit(Real f) {
    return f < Real(0) ? Real(0) : (f > Real(1) ? Real(1) : f);
}

// Where, as a fraction of the step, a trajectory from v0 to v1 crossed `level` (linear guess).
// Computed, then selected: a branch here would keep the CPU's update loop out of vector lanes.
template <class Real>
IFSIM_HD Real linear_crossing(Real v0, Real v1, Real level) {
    const Real f = clamp_unit((level - v0) / (v1 - v0));
    return v1 > v0 ? f : Real(1);
}

}  // namespace ifsim
