// Quadratic integrate-and-fire (SCIENCE.md): C_m dV/dt = k (V - E_L)(V - V_c) + I, spike at V_peak.
// With u = V - V_m, V_m = (E_L + V_c)/2 and D2 = (I - I_rheo)/k, the equation is the Riccati
// equation du/dt = (k/C_m)(u^2 + D2), solved exactly over a step with I held constant:
//   D2 > 0:  u(t) = D tan(q D t + atan(u0 / D))                (D = sqrt(D2), q = k/C_m)
//   D2 < 0:  (u - E)/(u + E) grows as exp(2 q E t)             (E = sqrt(-D2))
//   D2 = 0:  u(t) = u0 / (1 - q u0 t)
// so the deterministic F-I curve is reproduced to round-off, including where V_peak is crossed.
// White noise is added after the drift (Euler-Maruyama) with sigma_V scaled by the linearised
// time constant at rest, tau = C_m / (k (V_c - E_L)).
#pragma once

#include <cmath>

#include "ifsim/math.hpp"
#include "ifsim/models/common.hpp"
#include "ifsim/models/params.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

struct qif_model {
    static constexpr bool adaptive = false;
    static constexpr bool hard_threshold = false;

    template <class Real>
    struct coeffs {
        reset_coeffs<Real> reset;
        noise_coeffs<Real> noise;
        input_coeffs<Real> input;
        Real V_m;     // midpoint of the two fixed points [mV]
        Real I_rheo;  // rheobase k (V_c - E_L)^2 / 4 [pA]
        Real inv_k;   // 1 / k [mV/nS]
        Real q_dt;    // k dt / C_m [1/mV]
        Real u_peak;  // V_peak - V_m [mV]

        template <class F>
        void each_field(F&& f) {
            reset.each_field(f), noise.each_field(f), input.each_field(f);
            f(V_m, "(E_L + V_c) / 2"), f(I_rheo, "k (V_c - E_L)^2 / 4 (the rheobase)"), f(inv_k, "1 / k"), f(q_dt, "k dt / C_m"),
                f(u_peak, "V_peak - (E_L + V_c) / 2");
        }
    };

    template <class Real>
    static void derive(coeffs<Real>& c, const neuron_params& p, double dt_ms) {
        const double half_gap = 0.5 * (p.V_c - p.E_L);
        c.V_m = Real(0.5 * (p.E_L + p.V_c));
        c.I_rheo = Real(p.k * half_gap * half_gap);
        c.inv_k = Real(1.0 / p.k);
        c.q_dt = Real(p.k * dt_ms / p.C_m);
        c.u_peak = Real(p.V_peak - 0.5 * (p.E_L + p.V_c));
        c.reset.spike_at = Real(p.V_peak);
    }

    static double noise_tau_ms(const neuron_params& p) { return p.C_m / (p.k * (p.V_c - p.E_L)); }
    static double noise_step_std(const neuron_params& p, double sigma_V, double dt_ms) {
        return sigma_V * std::sqrt(2.0 * dt_ms / noise_tau_ms(p));
    }

    // Exact drift over h * dt; returns the fraction of that span at which u reached u_peak, or a
    // negative number if it did not. A synaptic conductance G [nS] held over the step (I holds its
    // current at the step's start) adds -G u to the drift: completed about s = G / (2k), the square
    // gives the same Riccati equation in u - s, so the step is exact for a held G, and a large one
    // takes V to the fixed point near E_rev, not past it (to the rounding of s^2 - D2, which in
    // float is some 1e-3 mV at G = 1e5 nS).
    template <class Real>
    IFSIM_HD static Real drift(const coeffs<Real>& c, Real& u, Real I, Real h, Real G) {
        const Real qt = c.q_dt * h;
        const Real s = Real(0.5) * G * c.inv_k;
        const Real D2 = (I + G * u - c.I_rheo) * c.inv_k - s * s;
        const Real u0 = u - s, u_peak = c.u_peak - s;
        if (D2 > Real(0)) {
            const Real D = math::sqrt(D2);
            const Real phi0 = math::atan(u0 / D);
            const Real phi_peak = math::atan(u_peak / D);
            const Real phi1 = phi0 + qt * D;
            if (phi1 >= phi_peak) return (phi_peak - phi0) / (qt * D);
            u = D * math::tan(phi1) + s;
            return Real(-1);
        }
        if (D2 < Real(0)) {
            const Real E = math::sqrt(-D2);
            // exp(-2 E q t) <= 1, not its inverse: a large conductance makes E q t large, and
            // exp(+2 E q t) overflowed float from 2 E q t = 88 (the run stopped, not finite).
            const Real g = math::exp(Real(-2) * E * qt);
            const Real num = (u0 + E) * g + (u0 - E);
            const Real den = (u0 + E) * g - (u0 - E);
            if (den > Real(0) && num / den * E < u_peak) {
                u = E * (num / den) + s;
                return Real(-1);
            }
            // u0 > E here: (u - E)/(u + E) grows from rho0 to rho_peak in time ln(ratio)/(2 q E).
            const Real rho0 = (u0 - E) / (u0 + E);
            const Real rho_peak = (u_peak - E) / (u_peak + E);
            return math::log(rho_peak / rho0) / (Real(2) * E * qt);
        }
        const Real den = Real(1) - qt * u0;
        if (den > Real(0) && u0 / den < u_peak) {
            u = u0 / den + s;
            return Real(-1);
        }
        return (Real(1) / u0 - Real(1) / u_peak) / qt;
    }

    template <class Real>
    IFSIM_HD static void advance(const coeffs<Real>& c, neuron_state<Real>& s, Real I, Real xi, Real h, Real G) {
        Real u = s.V - c.V_m;
        const Real f = drift(c, u, I, h, G);
        // A crossing inside the step is reported as V = +inf, which no input jump at the step's end
        // (inhibition included) brings back below V_peak; crossing() recovers its time.
        if (f >= Real(0)) {
            s.V = math::detail::inf<Real>();
            return;
        }
        const Real noise = (h == Real(1)) ? c.noise.sigma_step : c.noise.sigma_step * math::sqrt(h);
        s.V = c.V_m + u + noise * xi;
    }

    template <class Real>
    IFSIM_HD static Real crossing(const coeffs<Real>& c, Real V0, Real V1, Real, Real I, Real h, Real G) {
        Real u = V0 - c.V_m;
        const Real f = drift(c, u, I, h, G);
        if (f >= Real(0)) return clamp_unit(f);
        return linear_crossing(V0, V1, c.reset.spike_at);  // crossed by noise or a Poisson jump
    }

    template <class Real>
    IFSIM_HD static void hold(const coeffs<Real>&, neuron_state<Real>&, Real) {}
};

}  // namespace ifsim
