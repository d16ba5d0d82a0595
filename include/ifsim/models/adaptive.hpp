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
        f(a), f(P_w), f(dt_over_tau_w);
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

}  // namespace ifsim
