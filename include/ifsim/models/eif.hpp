// Exponential integrate-and-fire, and with `adaptive` the AdEx (SCIENCE.md):
//   C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T) + I - w,
// spike when V reaches V_peak, then reset and refractoriness as for the LIF.
// Integrator: exponential Euler. The leak is propagated exactly and the exponential current is
// held at its value at the start of the step, so the step is unconditionally stable; near the
// upswing V overshoots V_peak within the step and the spike is detected there. V is below V_peak
// at the start of every step, so the exponential stays finite; its argument is also capped so that
// an initial V far above V_peak cannot overflow.
#pragma once

#include <cmath>

#include "ifsim/math.hpp"
#include "ifsim/models/adaptive.hpp"
#include "ifsim/models/common.hpp"
#include "ifsim/models/params.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

template <bool Adaptive>
struct exponential_model {
    static constexpr bool adaptive = Adaptive;
    static constexpr bool hard_threshold = false;
    // exp(30) * Delta_T is far above any V_peak, so capping here never changes a spike.
    static constexpr double max_exponent = 30.0;

    template <class Real>
    struct coeffs {
        reset_coeffs<Real> reset;
        noise_coeffs<Real> noise;
        input_coeffs<Real> input;
        adaptation_coeffs<Real> adaptation;
        leak_coeffs<Real> leak;
        Real V_T;           // [mV]
        Real Delta_T;       // [mV]
        Real inv_Delta_T;   // [1/mV]

        template <class F>
        void each_field(F&& f) {
            reset.each_field(f), noise.each_field(f), input.each_field(f), adaptation.each_field(f), leak.each_field(f);
            f(V_T, "V_T"), f(Delta_T, "Delta_T"), f(inv_Delta_T, "1 / Delta_T");
        }
    };

    template <class Real>
    static void derive(coeffs<Real>& c, const neuron_params& p, double dt_ms) {
        c.leak = derive_leak<Real>(p.E_L, p.g_L, p.C_m, dt_ms);
        c.V_T = Real(p.V_T);
        c.Delta_T = Real(p.Delta_T);
        c.inv_Delta_T = Real(1.0 / p.Delta_T);
        c.reset.spike_at = Real(p.V_peak);
        if (Adaptive) c.adaptation = derive_adaptation<Real>(p, dt_ms);
    }

    static double noise_tau_ms(const neuron_params& p) { return p.C_m / p.g_L; }
    // Exact for the linear part, as for the LIF (so Delta_T -> 0 gives the noisy LIF).
    static double noise_step_std(const neuron_params& p, double sigma_V, double dt_ms) {
        return ou_step_std(sigma_V, dt_ms, noise_tau_ms(p));
    }

    template <class Real>
    IFSIM_HD static void advance(const coeffs<Real>& c, neuron_state<Real>& s, Real I, Real xi, Real h, Real G) {
        const Real x_raw = (s.V - c.V_T) * c.inv_Delta_T;
        const Real x = x_raw > Real(max_exponent) ? Real(max_exponent) : x_raw;
        const Real V_inf = c.leak.E_L + (I - s.w) * c.leak.inv_g_L + c.Delta_T * math::exp(x);
        const Real V0 = s.V;
        s.V = relax(c.leak, c.noise, V0, V_inf, xi, h, G);
        if (Adaptive) s.w = adapt(c.adaptation, s.w, V0, c.leak.E_L, h);
    }

    template <class Real>
    IFSIM_HD static Real crossing(const coeffs<Real>& c, Real V0, Real V1, Real, Real, Real, Real) {
        return linear_crossing(V0, V1, c.reset.spike_at);
    }

    template <class Real>
    IFSIM_HD static void hold(const coeffs<Real>& c, neuron_state<Real>& s, Real h) {
        if (Adaptive) s.w = adapt(c.adaptation, s.w, c.reset.V_reset, c.leak.E_L, h);
    }
};

using eif_model = exponential_model<false>;
using adex_model = exponential_model<true>;

}  // namespace ifsim
