// Leaky integrate-and-fire, and with `adaptive` the chapter's adaptive LIF (SCIENCE.md):
//   C_m dV/dt = -g_L (V - E_L) + I - w,   spike at V >= V_th, V <- V_reset, clamped for t_ref.
// With the input held over a step the update is exact:
//   V <- V_inf + (V - V_inf) exp(-dt/tau_m),   V_inf = E_L + (I - w) / g_L,
// stepped as V + (V_inf - V)(1 - exp(-dt/tau_m)) (common.hpp's relax), and white noise adds its
// exact increment sigma_V sqrt(1 - exp(-2 dt/tau_m)) N(0,1).
#pragma once

#include <cmath>

#include "ifsim/math.hpp"
#include "ifsim/models/adaptive.hpp"
#include "ifsim/models/common.hpp"
#include "ifsim/models/params.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

template <bool Adaptive>
struct leaky_model {
    static constexpr bool adaptive = Adaptive;
    static constexpr bool hard_threshold = true;

    template <class Real>
    struct coeffs {
        reset_coeffs<Real> reset;
        noise_coeffs<Real> noise;
        input_coeffs<Real> input;
        adaptation_coeffs<Real> adaptation;
        leak_coeffs<Real> leak;

        template <class F>
        void each_field(F&& f) {
            reset.each_field(f), noise.each_field(f), input.each_field(f), adaptation.each_field(f), leak.each_field(f);
        }
    };

    template <class Real>
    static void derive(coeffs<Real>& c, const neuron_params& p, double dt_ms) {
        c.leak = derive_leak<Real>(p.E_L, p.g_L, p.C_m, dt_ms);
        c.reset.spike_at = Real(p.V_th);
        if (Adaptive) c.adaptation = derive_adaptation<Real>(p, dt_ms);
    }

    // tau_m, which scales white noise (SCIENCE.md) [ms].
    static double noise_tau_ms(const neuron_params& p) { return p.C_m / p.g_L; }
    // Exact: the variance of the OU increment over dt.
    static double noise_step_std(const neuron_params& p, double sigma_V, double dt_ms) {
        return ou_step_std(sigma_V, dt_ms, noise_tau_ms(p));
    }

    // Advances V (and w) by h * dt with input current I [pA] (a synaptic conductance's at V0
    // included), synaptic conductance G [nS] and a standard normal xi.
    template <class Real>
    IFSIM_HD static void advance(const coeffs<Real>& c, neuron_state<Real>& s, Real I, Real xi, Real h, Real G) {
        const Real V_inf = c.leak.E_L + (I - s.w) * c.leak.inv_g_L;
        const Real V0 = s.V;
        s.V = relax(c.leak, c.noise, V0, V_inf, xi, h, G);
        if (Adaptive) s.w = adapt(c.adaptation, s.w, V0, c.leak.E_L, h);
    }

    // Fraction of the (partial) step at which V crossed threshold. Without noise the trajectory is
    // known exactly: t* = tau_m ln((V_inf - V0) / (V_inf - V_th)), as log1p((V_th - V0) /
    // (V_inf - V_th)): the ratio is near 1 where V_inf is far (a near-perfect integrator), and in
    // float rounded to 1 or 1 +- 6.7e-8 its log moved spikes by whole steps. Both are computed and one
    // selected, so that the CPU's update loop stays straight-line. A conductance G shortens tau_m by
    // 1 + r and moves the target to V* (relax).
    template <class Real>
    IFSIM_HD static Real crossing(const coeffs<Real>& c, Real V0, Real V1, Real w0, Real I, Real h, Real G) {
        const Real r1 = Real(1) + G * c.leak.inv_g_L;
        const Real V_inf_I = c.leak.E_L + (I - w0) * c.leak.inv_g_L;
        const Real V_inf = G == Real(0) ? V_inf_I : V0 + (V_inf_I - V0) / r1;
        const Real V_th = c.reset.spike_at;
        // Noise switches the exact case off through a threshold no V_inf exceeds: a select on the
        // population-wide condition itself would keep gcc from vectorising the loop.
        const Real V_th_exact = c.noise.sigma_step == Real(0) ? V_th : math::detail::inf<Real>();
        const bool exact = V_inf > V_th_exact && V0 < V_th;
        const Real f = math::log1p((V_th - V0) / (V_inf - V_th)) / (h * c.leak.dt_over_tau * r1);
        return exact ? clamp_unit(f) : linear_crossing(V0, V1, V_th);
    }

    // The refractory neuron over h * dt: V clamped at V_reset, w relaxing.
    template <class Real>
    IFSIM_HD static void hold(const coeffs<Real>& c, neuron_state<Real>& s, Real h) {
        if (Adaptive) s.w = adapt(c.adaptation, s.w, c.reset.V_reset, c.leak.E_L, h);
    }
};

using lif_model = leaky_model<false>;
using alif_model = leaky_model<true>;

}  // namespace ifsim
