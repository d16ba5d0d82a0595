// The adaptation current shared by the adaptive LIF and AdEx (SCIENCE.md):
//   tau_w dw/dt = a (V - E_L) - w,   w <- w + b at each spike, w not reset.
// With V held at its value at the start of the step the update is exact (exponential Euler); for
// a = 0 (the chapter's aLIF) it is exact outright.
#pragma once

#include <cmath>

#include "ifsim/math.hpp"
#include "ifsim/models/params.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

template <class Real>
struct adaptation_coeffs {
    Real a;              // subthreshold coupling [nS]
    Real P_w;            // exp(-dt / tau_w)
    Real dt_over_tau_w;  // for partial steps

    template <class F>
    void each_field(F&& f) {
        f(a, "a"), f(P_w, "exp(-dt / tau_w)"), f(dt_over_tau_w, "dt / tau_w");
    }
};

template <class Real>
adaptation_coeffs<Real> derive_adaptation(const neuron_params& p, double dt_ms) {
    return {Real(p.a), Real(std::exp(-dt_ms / p.tau_w)), Real(dt_ms / p.tau_w)};
}

// w after `h` (a fraction of dt) with the membrane at V. The partial step's propagator is selected
// on the CPU (vector lanes) and branched around on the GPU, as in relax().
template <class Real>
IFSIM_HD Real adapt(const adaptation_coeffs<Real>& c, Real w, Real V, Real E_L, Real h) {
    const Real w_inf = c.a * (V - E_L);
#ifdef __CUDA_ARCH__
    if (h == Real(1)) return w_inf + (w - w_inf) * c.P_w;
#endif
    const Real P_h = math::exp(-h * c.dt_over_tau_w);
    const Real P = (h == Real(1)) ? c.P_w : P_h;
    return w_inf + (w - w_inf) * P;
}

// How fast the subthreshold V-w system returns to rest, per step: in the step above (V's leak step
// with w held, then w's with V held) and in the equations themselves, both linearised at rest
// (the AdEx's exponential term left out: e^{(E_L - V_T)/Delta_T} of g_L). Where a couples V and w
// faster than dt resolves, the step decays more slowly than the equations, or grows (a factor
// above 1), and the neuron rings into spikes the model does not make.
struct adaptation_decay {
    double step;   // the step's slowest factor per step: its map's spectral radius
    double exact;  // exp(dt times the equations' slowest rate)
};

inline adaptation_decay adaptation_step_decay(const neuron_params& p, double dt_ms) {
    const double tau_m = p.C_m / p.g_L, Q_m = -std::expm1(-dt_ms / tau_m), Q_w = -std::expm1(-dt_ms / p.tau_w);
    // The larger |root| of x^2 - tr x + det: the spectral radius of a 2x2 map.
    const auto radius = [](double tr, double det) {
        const double disc = tr * tr - 4.0 * det;
        return disc >= 0.0 ? 0.5 * (std::fabs(tr) + std::sqrt(disc)) : std::sqrt(det);
    };
    // (V - E_L, w) -> [[1 - Q_m, -Q_m / g_L], [a Q_w, 1 - Q_w]] (V - E_L, w)
    const double step = radius(2.0 - Q_m - Q_w, (1.0 - Q_m) * (1.0 - Q_w) + p.a / p.g_L * Q_m * Q_w);
    // d/dt (V - E_L, w) = [[-1/tau_m, -1/C_m], [a/tau_w, -1/tau_w]] (V - E_L, w)
    const double tr = -(1.0 / tau_m + 1.0 / p.tau_w), det = (1.0 / tau_m + p.a / p.C_m) / p.tau_w;
    const double disc = tr * tr - 4.0 * det;
    const double slowest = 0.5 * (tr + (disc > 0.0 ? std::sqrt(disc) : 0.0));
    return {step, std::exp(slowest * dt_ms)};
}

}  // namespace ifsim
