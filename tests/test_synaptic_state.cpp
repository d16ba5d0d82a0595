// Recorded synaptic state (state records of I_syn and g_syn) on every backend: a channel's state is
// 0 until a spike's time plus its delay, jumps there by the weight, and decays by exp(-dt/tau_syn)
// per step, bit for bit as the shared channel_next computes it; projections into one channel add,
// another channel's input stays out of it.
#include <cmath>
#include <cstdint>
#include <vector>

#include "ifsim/fixed_point.hpp"
#include "ifsim/network.hpp"
#include "ifsim/synapses.hpp"
#include "support/backend_param.hpp"
#include "support/network.hpp"

namespace ifsim::test {
namespace {

constexpr double dt_ms = 0.1;
constexpr std::uint64_t num_steps = 300;

// One generator neuron firing once at `time_ms`, into both neurons of "T" with `kind` synapses.
struct kick {
    double time_ms, weight, delay_ms, tau_syn_ms;
};

class synaptic_state : public backend_test {
protected:
    // "T": two silent LIF neurons at rest; generator g_k fires kicks[k] into it through projection
    // k; the channel of projection `recorded` is recorded.
    run_spec spec(synapse_kind kind, const std::vector<kick>& kicks, const char* variable, std::size_t recorded) const {
        run_spec s;
        s.simulation.dt_ms = dt_ms;
        s.simulation.duration_ms = num_steps * dt_ms;
        s.simulation.real = real();
        s.populations.push_back(lif_population("T", 2));
        for (std::size_t k = 0; k < kicks.size(); ++k) {
            generator_spec g;
            g.name = "g" + std::to_string(k);
            g.size = 1;
            g.times_ms = {kicks[k].time_ms};
            s.generators.push_back(g);
            projection_spec pr;
            pr.source = g.name;
            pr.target = "T";
            pr.rule.kind = rule_kind::all_to_all;
            pr.synapse = kind;
            pr.weight = synapse_distribution::constant(kicks[k].weight);
            pr.delay = synapse_distribution::constant(kicks[k].delay_ms);
            pr.tau_syn_ms = kicks[k].tau_syn_ms;
            pr.E_rev_mV = 0.0;
            s.projections.push_back(pr);
        }
        state_record r;
        r.name = "T_syn";
        r.population = "T";
        r.variable = variable;
        r.neurons = {0, 1};
        r.interval_ms = dt_ms;
        r.projection = recorded;
        s.states.push_back(r);
        return s;
    }

    // The recorded samples of neuron 0 and 1, one row per step, run in blocks of 37 steps.
    std::vector<float> record(const run_spec& s) const {
        auto engine = make_backend(backend_name(), s);
        block_output out;
        out.spikes.resize(s.populations.size());
        out.samples.resize(1);
        out.sample_rows.resize(1);
        std::vector<float> rows;
        for (std::uint64_t step = 0; step < num_steps; step += 37) {
            out.clear();
            engine->advance(step, std::uint32_t(std::min<std::uint64_t>(37, num_steps - step)), out);
            rows.insert(rows.end(), out.samples[0].begin(), out.samples[0].end());
        }
        return rows;
    }

    // What the recorded channel's state must be at the start of each step: the kicks of its
    // tau_syn (all kicks have one kind and E_rev, so tau_syn alone tells the channels apart) land
    // at the end of the step before their time plus delay, as their weight in the channel's
    // fixed-point format (the one thing taken from the built network), and decay with it.
    template <class Real>
    std::vector<float> expected(const run_spec& s, const std::vector<kick>& kicks) const {
        const std::size_t recorded = s.states[0].projection;
        const double tau_syn_ms = kicks[recorded].tau_syn_ms;
        const network net = build_network(s);
        const fixed_point_format format = net.channels[0][net.projections[recorded].channel].format;
        const channel_coeffs<Real> c = derive_channel<Real>(s.projections[0].synapse, tau_syn_ms, 0.0, 0.0, dt_ms);
        std::vector<float> trace;
        Real x = 0;
        for (std::uint64_t step = 0; step < num_steps; ++step) {
            trace.push_back(float(x));
            std::int64_t arriving = 0;
            for (const kick& k : kicks) {
                const auto lands = std::llround((k.time_ms + k.delay_ms) / dt_ms) - 1;
                if (k.tau_syn_ms == tau_syn_ms && std::uint64_t(lands) == step) arriving += to_fixed(k.weight, format);
            }
            x = channel_next(c, x, from_fixed<Real>(arriving, format));
        }
        return trace;
    }

    void check(synapse_kind kind, const std::vector<kick>& kicks, const char* variable, std::size_t recorded) const {
        const run_spec s = spec(kind, kicks, variable, recorded);
        const std::vector<float> rows = record(s);
        const std::vector<float> want = is_float() ? expected<float>(s, kicks) : expected<double>(s, kicks);
        ASSERT_EQ(rows.size(), 2 * num_steps);
        bool moved = false;
        for (std::uint64_t t = 0; t < num_steps; ++t) {
            ASSERT_EQ(rows[2 * t], want[t]) << variable << " of projection " << recorded << ", step " << t;
            ASSERT_EQ(rows[2 * t + 1], want[t]) << variable << " of projection " << recorded << ", step " << t << ", neuron 1";
            moved = moved || want[t] != 0.0f;
        }
        EXPECT_TRUE(moved) << "the expected trace never left 0: the check would pass for anything";
    }
};

TEST_P(synaptic_state, current_jumps_at_spike_time_plus_delay_and_decays) {
    // Kicks 0 and 1 share a channel (tau_syn 3 ms) and add; kick 2 has a channel (7 ms) of its own.
    const std::vector<kick> kicks = {{5.0, 500.0, 1.0, 3.0}, {8.0, -200.0, 0.5, 3.0}, {6.0, 300.0, 0.2, 7.0}};
    check(synapse_kind::exp_current, kicks, "I_syn", 0);
    check(synapse_kind::exp_current, kicks, "I_syn", 2);
}

TEST_P(synaptic_state, conductance_jumps_at_spike_time_plus_delay_and_decays) {
    check(synapse_kind::exp_conductance, {{5.0, 4.0, 1.0, 5.0}, {12.0, 51.0, 0.2, 5.0}}, "g_syn", 1);
}

IFSIM_INSTANTIATE_BACKEND_TESTS(synaptic_state);

}  // namespace
}  // namespace ifsim::test
