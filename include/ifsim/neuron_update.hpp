// One step of one neuron, for every model: the function both backends call per neuron and step.
// The order within a step (fixed, documented in docs/models.md):
//   1. draw this step's noise (one Philox block per neuron and step, stateless);
//   2. the OU current advances exactly; the V update uses its value from the start of the step;
//   3. a refractory neuron stays clamped; a neuron whose refractory period ends inside the step
//      integrates only the rest of it (interpolated spike timing);
//   4. V already at threshold at the start of the step spikes at its start (initial conditions);
//   5. the model advances V (and w); Poisson input adds its voltage jumps;
//   6. a spike is V at or above threshold, or, for noisy hard thresholds, a Brownian-bridge
//      crossing between the grid points; the neuron resets.
#pragma once

#include <cstdint>

#include "ifsim/math.hpp"
#include "ifsim/models/common.hpp"
#include "ifsim/platform.hpp"
#include "ifsim/random.hpp"

namespace ifsim {

// Where the step's random numbers come from: the run's key and the neuron's global id.
struct noise_source {
    philox_key key;
    std::uint64_t id;    // global neuron id
    std::uint64_t step;  // global step index
};

// Smallest value uniform_open<Real> can return: a bridge probability below it can never fire, so
// skipping its exp changes no result.
template <class Real>
IFSIM_HD constexpr Real bridge_exponent_floor() {
    return sizeof(Real) == 4 ? Real(-18.0) : Real(-23.0);  // below ln 2^-24 and ln 2^-33
}

template <class Model, class Real, class Coeffs>
IFSIM_HD void fire(const Coeffs& c, neuron_state<Real>& s, Real offset, bool interpolate) {
    s.V = c.reset.V_reset;
    if (Model::adaptive) s.w += c.reset.b;
    // Refractoriness runs from the spike time: what is left of this step counts towards it.
    const Real left = interpolate ? c.reset.ref_steps - (Real(1) - offset) : c.reset.ref_steps;
    s.ref = left > Real(0) ? left : Real(0);
}

// The random numbers of one neuron's step: one Philox block, two normals and a uniform. Branch
// free, so the CPU backend draws a whole chunk of neurons in one vectorised loop first; drawing
// here or inside update_neuron gives the same bits.
template <class Real>
struct step_noise {
    Real xi = 0;        // white-noise normal
    Real xi_ou = 0;     // OU-current normal
    Real u_bridge = 1;  // uniform for the Brownian-bridge test
};

template <class Real>
IFSIM_HD step_noise<Real> draw_step_noise(philox_key key, std::uint64_t id, std::uint64_t step) {
    const philox_block r = draw(key, id, step, rng_purpose::neuron);
    step_noise<Real> z;
    box_muller<Real>(r.x, r.y, z.xi, z.xi_ou);
    z.u_bridge = uniform_open<Real>(r.z);
    return z;
}

// Whether a neuron with these input flags uses its step's noise block.
IFSIM_HD bool needs_step_noise(unsigned flags) {
    return (flags & (input_flag::white_noise | input_flag::ou_current)) != 0;
}

// Advances one neuron by one step with its step's noise `z` (draw_step_noise, or the defaults
// when needs_step_noise is false). Returns the spike's offset inside the step as a fraction of dt
// in [0, 1] (1 = the end of the step, always so on the grid), or a negative number for no spike.
template <class Model, class Real>
IFSIM_HD Real update_neuron(const typename Model::template coeffs<Real>& c, neuron_state<Real>& s,
                            Real I_bias, bool interpolate, const step_noise<Real>& z,
                            const noise_source& src) {
    const unsigned flags = c.input.flags;
    const Real xi = z.xi, xi_ou = z.xi_ou, u_bridge = z.u_bridge;
    const Real I = I_bias + s.I_ou;
    if (flags & input_flag::ou_current) s.I_ou = s.I_ou * c.input.ou_P + c.input.ou_sigma_step * xi_ou;

    if (s.ref >= Real(1)) {
        s.ref -= Real(1);
        Model::hold(c, s);
        return Real(-1);
    }
    Real h = 1;  // the part of the step this neuron integrates
    if (s.ref > Real(0)) {
        h = Real(1) - s.ref;
        s.ref = 0;
    }
    const Real V0 = s.V;
    const Real w0 = s.w;
    const Real threshold = c.reset.spike_at;
    if (V0 >= threshold) {  // only from initial conditions: the spike is at the step's start
        fire<Model>(c, s, Real(1) - h, interpolate);
        return Real(1) - h;
    }
    Model::advance(c, s, I, xi, h);
    if (flags & input_flag::poisson) {
        const Real mean = (h == Real(1)) ? c.input.poisson_mean : c.input.poisson_mean * h;
        const auto n = poisson_count<Real>(mean, src.key, src.id, src.step);
        s.V += Real(n) * c.input.poisson_weight;
    }
    if (s.V >= threshold) {
        const Real f = interpolate ? (Real(1) - h) + h * Model::crossing(c, V0, s.V, w0, I, h) : Real(1);
        fire<Model>(c, s, f, interpolate);
        return f;
    }
    if (flags & input_flag::bridge) {
        // P(an OU path from V0 to V1, both below threshold, touched it) for a step of h * dt.
        const Real x = -(threshold - V0) * (threshold - s.V) * c.noise.bridge / h;
        if (x > bridge_exponent_floor<Real>() && u_bridge < math::exp(x)) {
            const Real f = interpolate ? (Real(1) - h) + h * Real(0.5) : Real(1);
            fire<Model>(c, s, f, interpolate);
            return f;
        }
    }
    return Real(-1);
}

// The same, drawing the step's noise itself: what one GPU thread calls.
template <class Model, class Real>
IFSIM_HD Real update_neuron(const typename Model::template coeffs<Real>& c, neuron_state<Real>& s,
                            Real I_bias, bool interpolate, const noise_source& src) {
    const step_noise<Real> z = needs_step_noise(c.input.flags) ? draw_step_noise<Real>(src.key, src.id, src.step)
                                                                     : step_noise<Real>{};
    return update_neuron<Model>(c, s, I_bias, interpolate, z, src);
}

}  // namespace ifsim
