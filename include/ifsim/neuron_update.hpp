// One step of one neuron, for every model: the function both backends call per neuron and step.
// The order within a step (fixed, documented in docs/models.md):
//   1. draw this step's noise (one Philox block per neuron and step, stateless);
//   2. the OU current advances exactly; the V update uses its value from the start of the step;
//   3. a refractory neuron stays clamped; a neuron whose refractory period ends inside the step
//      integrates only the rest of it (interpolated spike timing);
//   4. V already at threshold at the start of the step spikes at its start (initial conditions);
//   5. the model advances V (and w); then Poisson input and delta synapses add their voltage jumps,
//      at the step's end (or Poisson input feeds a synaptic channel, synapses.hpp);
//   6. a spike is V at or above threshold before the jumps (the step's drift reached it: at that
//      time) or after them (at the step's end), or, for noisy hard thresholds, a Brownian-bridge
//      crossing of the drift between the grid points; the neuron resets.
#pragma once

#include <cstdint>

#include "ifsim/math.hpp"
#include "ifsim/models/adaptive.hpp"
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

// The state at the end of the step after a spike at `offset` (fraction of the step) from state
// `s`, the state the step would have ended in without it. With interpolated timing it stands for
// the end of the refractory part of the step's rest (all of it, or t_ref where shorter: the next
// step integrates the free part, with V at V_reset). w there: its path from the integrated span's
// start (w0, V held at V0 over the h steps from 1 - h), b relaxed over the refractory part, and
// a (V0 - V_reset)(1 - e^{-free dt/tau_w}) for the free part, to second order what taking the
// step's end w back over the free part gave until 2026-12-07, as accurate, and bounded: that
// form's e^{+free dt/tau_w} overflowed into NaN where tau_w is far below dt (a fuzz audit).
// Exact for a = 0.
template <class Model, class Real, class Coeffs>
IFSIM_HD neuron_state<Real> fired(const Coeffs& c, neuron_state<Real> s, Real offset, bool interpolate, Real w0,
                                  Real V0, Real h) {
    s.V = c.reset.V_reset;
    if constexpr (Model::adaptive) {
        if (interpolate) {
            const Real rest = Real(1) - offset, held = rest < c.reset.ref_steps ? rest : c.reset.ref_steps;
            const Real free = rest - held, r = c.adaptation.dt_over_tau_w;
            s.w = adapt(c.adaptation, w0, V0, c.leak.E_L, h - free) +
                  c.adaptation.a * (V0 - c.reset.V_reset) * -math::expm1(-free * r) +
                  c.reset.b * math::exp(-held * r);
        } else {
            s.w += c.reset.b;
        }
    }
    // Refractoriness runs from the spike time: what is left of this step counts towards it. A
    // negative rest (t_ref shorter than the rest of the step) is time the next step integrates.
    s.ref = c.reset.ref_steps - (Real(1) - offset);
    return s;
}

// Field by field, so that compilers turn it into vector blends rather than a branch.
template <class Real>
IFSIM_HD neuron_state<Real> select(bool take_a, const neuron_state<Real>& a, const neuron_state<Real>& b) {
    return {take_a ? a.V : b.V, take_a ? a.w : b.w, take_a ? a.I_ou : b.I_ou, take_a ? a.ref : b.ref};
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

// The step's noise from its Philox block (ifsim's draw() on the host, cuRAND's curand4() on the
// GPU: the same four words).
template <class Real>
IFSIM_HD step_noise<Real> step_noise_from(const philox_block& r) {
    step_noise<Real> z;
    box_muller<Real>(r.x, r.y, z.xi, z.xi_ou);
    z.u_bridge = uniform_open<Real>(r.z);
    return z;
}

template <class Real>
IFSIM_HD step_noise<Real> draw_step_noise(philox_key key, std::uint64_t id, std::uint64_t step) {
    return step_noise_from<Real>(draw(key, id, step, rng_purpose::neuron));
}

// Whether a neuron with these input flags uses its step's noise block.
IFSIM_HD bool needs_step_noise(unsigned flags) {
    return (flags & (input_flag::white_noise | input_flag::ou_current)) != 0;
}

// The Poisson input spikes of one neuron's step, as a count in Real. Jumps of V: none while
// refractory (input arriving then is discarded), the share of the mean of the time the step
// integrates otherwise (less than a step after a refractory period that ends inside it). Into a
// synaptic channel (input_flag::poisson_channel): a whole step's, as a projection's spikes, which
// the channel takes whether the neuron is refractory or not. Separate from update_neuron because
// it loops: the CPU backend draws the counts of a chunk first, then updates the chunk in one
// vectorised loop.
// `full_step`, when given, is make_poisson_cdf(in.poisson_mean): full steps search it instead of
// accumulating it (the same count).
template <class Real>
IFSIM_HD Real poisson_input(const input_coeffs<Real>& in, Real ref, const noise_source& src,
                            const poisson_cdf* full_step = nullptr) {
    if (!(in.flags & input_flag::poisson)) return Real(0);
    if (in.flags & input_flag::poisson_channel) ref = Real(0);
    if (ref >= Real(1)) return Real(0);
    const Real h = Real(1) - ref;
    if (full_step && h == Real(1)) return Real(poisson_count(*full_step, src.key, src.id, src.step));
    const Real mean = (h == Real(1)) ? in.poisson_mean : in.poisson_mean * h;
    return Real(poisson_count<Real>(mean, src.key, src.id, src.step));
}

// A neuron after one step, and its spike's offset inside the step as a fraction of dt in [0, 1]
// (1 = the end of the step, always so on the grid), or a negative number for no spike.
template <class Real>
struct stepped {
    neuron_state<Real> state;
    Real offset;
    // Only from update_neuron<..., DeferBridge = true>, where the bridge is left undecided: the
    // exponent of its crossing probability for a free neuron that did not spike otherwise
    // (no_crossing for the others), and the offset a spike by it has (settle_bridge).
    Real bridge_x;
    Real bridge_offset;
};

// A bridge exponent whose probability is 0 (exp flushes it to +0; bridge_may_fire is false).
template <class Real>
inline constexpr Real no_crossing = Real(-1e30);

// Whether the Brownian bridge crossed threshold: u < P = exp(x), u the step's uniform.
template <class Real>
IFSIM_HD bool bridge_fires(Real u, Real x) {
    return u < math::exp(x);
}

// False only where bridge_fires is false for certain, at the cost of a multiply: for x <= 0,
// exp(x) <= 1 / (1 - x), and the margin of 1e-3 is thousands of times the roundings and the exp's
// error. Near threshold the probability is large and the exp is needed; away from it, where most
// neurons are most of the time, it is not.
template <class Real>
IFSIM_HD bool bridge_may_fire(Real u, Real x) {
    return !(u * (Real(1) - x) >= Real(1.001));
}

// Advances one neuron by one step, given the step's noise `z` (draw_step_noise, or the defaults
// when needs_step_noise is false), its Poisson input count `n_input` (poisson_input), the
// voltage jump of its delta synapses V_syn [mV] and the conductance of its exp_conductance
// synapses G_syn [nS] (synaptic currents come in through I_bias, a conductance's at V0). State and
// noise go in and out by value: nothing in a caller's vector loop has its address taken.
//
// Straight-line code: every case is computed and the right one selected, so that a vector unit
// updates 8 neurons at once and GPU threads do not diverge. The price is work done for every neuron
// that only some need: the partial-step propagator and the bridge probability cost an exp each (on
// the GPU, relax() and adapt() branch around the partial step, which whole warps skip, and the
// crossing time is computed for spiking neurons only). A caller that knows more says so, for the
// same result with less work: MayBridge = false where no neuron has the bridge flag (no bridge
// exp); MayBePartial = false where no free neuron has a fractional refractory state left (h is the
// constant 1, and the partial-step propagator's exp goes; the CPU backend's vector loop assumes so
// and redoes the exceptions); DeferBridge = true leaves the bridge undecided (bridge_x,
// bridge_offset) for settle_bridge, which computes its exp only for the few neurons
// bridge_may_fire lets through.
template <class Model, class Real, bool MayBridge = true, bool MayBePartial = true, bool DeferBridge = false>
IFSIM_HD stepped<Real> update_neuron(const typename Model::template coeffs<Real>& c, neuron_state<Real> s,
                                     Real I_bias, bool interpolate, step_noise<Real> z, Real n_input,
                                     Real V_syn = Real(0), Real G_syn = Real(0)) {
    const unsigned flags = c.input.flags;
    const Real I = I_bias + s.I_ou;
    const Real I_ou_next = s.I_ou * c.input.ou_P + c.input.ou_sigma_step * z.xi_ou;
    s.I_ou = (flags & input_flag::ou_current) ? I_ou_next : s.I_ou;

    const bool clamped = s.ref >= Real(1);
    // The time to integrate, in steps: 1, less where a refractory period ends inside the step, more
    // where a spike left part of the previous step (ref < 0, t_ref shorter than that part).
    const Real h = clamped || !MayBePartial ? Real(1) : Real(1) - s.ref;
    const Real V0 = s.V;
    const Real threshold = c.reset.spike_at;

    neuron_state<Real> held = s;  // refractory: V clamped, w relaxing
    Model::hold(c, held, Real(1));
    neuron_state<Real> moved = s;  // free: the rest of a refractory period, the model's step, the input spikes
    if constexpr (Model::adaptive && MayBePartial)
        if (!clamped && s.ref > Real(0)) Model::hold(c, moved, s.ref);
    const Real w0 = moved.w;
    Model::advance(c, moved, I, z.xi, h, G_syn);
    // The drift's end, before the step's input jumps: a crossing there came first, and an
    // inhibitory jump at the step's end does not take it back.
    const Real V_drift = moved.V;
    moved.V += n_input * c.input.poisson_weight;
    moved.V += V_syn;  // delta synapses arriving in this step (synapses.hpp)

    // P(an OU path from V0 to V_drift, both below threshold, touched it) over h * dt.
    const Real x_full = -(threshold - V0) * (threshold - V_drift) * c.noise.bridge;
    const Real x = h == Real(1) ? x_full : x_full / h;  // x / 1 == x exactly; the GPU skips the division
    const bool bridge_on = MayBridge && (flags & input_flag::bridge) != 0;
    const bool bridged = !DeferBridge && bridge_on && bridge_fires(z.u_bridge, x);
    const bool at_start = V0 >= threshold;  // only from initial conditions: spike at the step's start
    const bool drift_crossed = V_drift >= threshold;
    const bool crossed = drift_crossed || moved.V >= threshold;  // else by the jumps, at the step's end

    Real offset = Real(1);
    Real bridge_offset = Real(1);  // the offset of a spike by the bridge alone
    if (interpolate) {
        const Real inside = drift_crossed ? Model::crossing(c, V0, V_drift, w0, I, h, G_syn)
                            : crossed     ? Real(1)
                                          : Real(0.5);  // bridge: midpoint
        offset = at_start ? Real(0) : inside;
        offset = (Real(1) - h) + h * offset;
        offset = offset > Real(0) ? offset : Real(0);  // a second spike within the previous step's rest: at its end
        bridge_offset = (Real(1) - h) + h * Real(0.5);
    } else {
        // On the grid: at the step's end, or at its start for V at threshold from the initial
        // conditions; one whose refractory period (V_reset at or above V_th) ends inside the step
        // fires at its end, not at the period's end.
        offset = at_start && !(s.ref > Real(0)) ? Real(0) : Real(1);
    }
    const bool spike = (!clamped) & (at_start | crossed | bridged);

    neuron_state<Real> next = select(clamped, held, moved);
    next.ref = clamped ? s.ref - Real(1) : Real(0);
    const bool undecided = DeferBridge && bridge_on && !clamped && !spike;
    return {select(spike, fired<Model>(c, next, offset, interpolate, w0, V0, h), next), spike ? offset : Real(-1),
            undecided ? x : no_crossing<Real>, bridge_offset};
}

// What update_neuron<..., DeferBridge = true> left undecided, decided: the neuron `r` stepped to
// spikes now if the bridge crossed, with the state and offset update_neuron would have given it.
// Grid timing only (the CPU's vector loop redoes an interpolated step's spikes in full).
template <class Model, class Real>
IFSIM_HD stepped<Real> settle_bridge(const typename Model::template coeffs<Real>& c, stepped<Real> r, Real u_bridge) {
    if (bridge_fires(u_bridge, r.bridge_x)) {
        r.state = fired<Model>(c, r.state, r.bridge_offset, false, Real(0), Real(0), Real(1));
        r.offset = r.bridge_offset;
    }
    return r;
}

// The same, drawing the step's noise and input itself: one neuron's step with nothing batched, the
// reference the tests hold the backends' loops to (the kernels draw the noise their own way,
// device_step_noise, and call the overload above).
template <class Model, class Real>
IFSIM_HD stepped<Real> update_neuron(const typename Model::template coeffs<Real>& c, neuron_state<Real> s,
                                     Real I_bias, bool interpolate, const noise_source& src) {
    const step_noise<Real> z = needs_step_noise(c.input.flags) ? draw_step_noise<Real>(src.key, src.id, src.step)
                                                                     : step_noise<Real>{};
    const Real n_input = poisson_input(c.input, s.ref, src);
    return update_neuron<Model>(c, s, I_bias, interpolate, z, n_input);
}

}  // namespace ifsim
