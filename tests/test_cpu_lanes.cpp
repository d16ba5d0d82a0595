// The CPU backend's vector loop against the plain per-neuron update a GPU thread runs
// (update_neuron with its default flags, drawing its own noise): the same V bit for bit, step by
// step. The loop assumes whole steps on the grid and redoes the exceptions one by one (a
// refractory period ending inside a step, every spike when timing is interpolated), and decides
// the bridge after the loop, so each population here takes one of those paths: a refractory
// period of 20.5 steps, whole-step ones, white noise with the bridge, an OU current, Poisson
// input, adaptation and interpolated spike times.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/neuron_update.hpp"
#include "ifsim/population_setup.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

struct lane_case {
    std::string name;
    model_kind model;
    double t_ref_ms, sigma_V;
    spike_timing timing;
    double sigma_I = 0.0, poisson_rate_Hz = 0.0;
};

// `steps` single steps of the backend and of update_neuron per neuron; fails at the first V that
// differs.
template <class Model>
void expect_same_as_per_neuron(const run_spec& spec, std::uint64_t steps, const std::string& name) {
    auto engine = make_cpu_backend(spec);
    population_data<Model, float> d = build_population<Model, float>(spec.populations[0], spec.simulation, 0);
    const philox_key key = make_key(spec.simulation.seed, 0);
    const bool interpolate = spec.simulation.timing == spike_timing::interpolated;
    std::uint64_t spikes = 0;
    block_output out;
    for (std::uint64_t step = 0; step < steps; ++step) {
        out.clear();
        engine->advance(step, 1, out);
        spikes += out.spikes[0].size();
        const std::vector<double> V = engine->state(0, state_variable::V_m);
        const std::vector<double> w = engine->state(0, state_variable::w);  // zeros without adaptation
        for (std::uint64_t i = 0; i < d.size; ++i) {
            neuron_state<float> s{d.V[i], d.w.empty() ? 0.0f : d.w[i], d.I_ou.empty() ? 0.0f : d.I_ou[i], d.ref[i]};
            const float I_bias = d.I_e[d.I_e.size() > 1 ? i : 0] + d.steps.at(step);
            const stepped<float> r = update_neuron<Model, float>(d.coeffs[d.coeffs.size() > 1 ? i : 0], s, I_bias,
                                                                 interpolate, noise_source{key, i, step});
            d.V[i] = r.state.V;
            if (!d.w.empty()) d.w[i] = r.state.w;
            if (!d.I_ou.empty()) d.I_ou[i] = r.state.I_ou;
            d.ref[i] = r.state.ref;
            ASSERT_EQ(V[i], double(d.V[i])) << name << ": neuron " << i << ", step " << step;
            ASSERT_EQ(w[i], d.w.empty() ? 0.0 : double(d.w[i])) << name << ": w of neuron " << i << ", step " << step;
        }
    }
    EXPECT_GT(spikes, 100u) << name;  // the refractory and reset paths ran
}

TEST(CpuLanes, EqualThePerNeuronUpdate) {
    const std::vector<lane_case> cases{
        {"LIF, t_ref 20.5 steps, grid", model_kind::lif, 2.05, 0.0, spike_timing::grid},
        {"LIF, t_ref 20 steps, grid", model_kind::lif, 2.0, 0.0, spike_timing::grid},
        {"LIF, white noise and bridge", model_kind::lif, 2.0, 3.0, spike_timing::grid},
        {"LIF, white noise and bridge, t_ref 20.5 steps", model_kind::lif, 2.05, 3.0, spike_timing::grid},
        {"LIF, white noise and bridge, interpolated", model_kind::lif, 2.0, 3.0, spike_timing::interpolated},
        {"aLIF, white noise and bridge", model_kind::alif, 2.0, 3.0, spike_timing::grid},
        {"LIF, interpolated", model_kind::lif, 2.0, 0.0, spike_timing::interpolated},
        {"AdEx, t_ref 20.5 steps, grid", model_kind::adex, 2.05, 0.0, spike_timing::grid},
        {"AdEx, interpolated", model_kind::adex, 2.0, 0.0, spike_timing::interpolated},
        {"LIF, OU current, t_ref 20.5 steps", model_kind::lif, 2.05, 0.0, spike_timing::grid, 200.0},
        {"LIF, Poisson input, t_ref 20.5 steps, interpolated", model_kind::lif, 2.05, 0.0,
         spike_timing::interpolated, 0.0, 2000.0},
        // t_ref shorter than the rest of a spike's step: the next step integrates more than dt.
        {"LIF, t_ref 0.3 steps, interpolated", model_kind::lif, 0.03, 0.0, spike_timing::interpolated},
        {"LIF, no t_ref, white noise and bridge, interpolated", model_kind::lif, 0.0, 3.0, spike_timing::interpolated},
        {"aLIF, t_ref 0.3 steps, interpolated", model_kind::alif, 0.03, 0.0, spike_timing::interpolated},
        {"AdEx, t_ref 2.5 steps, interpolated", model_kind::adex, 0.25, 0.0, spike_timing::interpolated},
        {"LIF, Poisson input, no t_ref, interpolated", model_kind::lif, 0.0, 0.0, spike_timing::interpolated, 0.0,
         2000.0},
    };
    for (const lane_case& c : cases) {
        run_spec spec = one_population(c.model, 700, 100.0, 0.1, precision::single);  // past one 512-neuron chunk
        spec.simulation.timing = c.timing;
        set_param(spec, "t_ref", c.t_ref_ms);
        spec.populations[0].input.I_e = {distribution::kind::linspace, 300.0, 900.0, {}};
        spec.populations[0].input.sigma_V = distribution::constant(c.sigma_V);
        spec.populations[0].input.sigma_I = distribution::constant(c.sigma_I);
        if (c.poisson_rate_Hz > 0.0) {
            spec.populations[0].input.poisson_rate_Hz = c.poisson_rate_Hz;
            spec.populations[0].input.poisson_weight = 0.5;
            spec.populations[0].input.poisson_count = 10;
        }
        if (c.model == model_kind::lif) expect_same_as_per_neuron<lif_model>(spec, 1000, c.name);
        else if (c.model == model_kind::alif) expect_same_as_per_neuron<alif_model>(spec, 1000, c.name);
        else expect_same_as_per_neuron<adex_model>(spec, 1000, c.name);
    }
}

// Where bridge_may_fire says no, the exp must say no too: the bound exp(x) <= 1 / (1 - x) and its
// margin, tried where they are tightest (x near 0, u just below and above exp(x)) and across the
// exponents the bridge sees.
template <class Real>
void expect_the_bound_holds() {
    std::mt19937_64 gen(20261206);
    std::uniform_real_distribution<double> log_x(-9.0, 3.0), rel(-0.02, 0.02);
    std::uint64_t ruled_out = 0, crossing = 0;
    for (int k = 0; k < 2'000'000; ++k) {
        const Real x = Real(-std::pow(10.0, log_x(gen)));
        const Real u = std::min(Real(1), Real(double(math::exp(x)) * (1.0 + rel(gen))));
        if (!(u > Real(0))) continue;
        const bool fires = bridge_fires(u, x);
        crossing += fires;
        if (!bridge_may_fire(u, x)) {
            ++ruled_out;
            ASSERT_FALSE(fires) << "x = " << x << ", u = " << u;
        }
    }
    EXPECT_GT(ruled_out, 100'000u);  // the bound does rule out crossings near its edge
    EXPECT_GT(crossing, 100'000u);
}

TEST(CpuLanes, TheBridgeIsRuledOutOnlyWhereItCannotCross) {
    expect_the_bound_holds<float>();
    expect_the_bound_holds<double>();
}

}  // namespace
}  // namespace ifsim::test
