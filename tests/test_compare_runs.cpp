// first_difference (compare.hpp), the comparison behind `ifsim compare`, on the CPU: two CPU
// backends at different thread counts agree, and a backend that changes one spike, one sample, one
// neuron's state or one synaptic channel's is caught at that spike, sample or step, with both
// values named.
#include <omp.h>

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "ifsim/compare.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

// What a tampered backend changes in its output, as a wrong backend would.
struct tamper {
    enum class kind { nothing, drop_spike, offset, sample, state, channel, runaway } what = kind::nothing;
    std::uint64_t block_start = 0;  // drop_spike, offset, sample: in the block that starts here
    std::size_t row = 0;            // sample: this row of the block's samples of record 0
    std::size_t column = 0;         // sample: the record's column; state, channel: the neuron
    std::uint64_t after_step = 0;   // state, channel: from the first block end past this step on
};

// A CPU backend that runs its own number of threads and applies a tamper to what it reports.
class tampered_backend final : public backend {
public:
    tampered_backend(const run_spec& spec, int threads, tamper t, spike_list* dropped)
        : inner_(make_cpu_backend(spec)), threads_(threads), tamper_(t), dropped_(dropped) {}

    std::string name() const override { return inner_->name(); }
    std::string device() const override { return inner_->device(); }
    void advance(std::uint64_t first_step, std::uint32_t num_steps, block_output& out) override {
        omp_set_num_threads(threads_);
        inner_->advance(first_step, num_steps, out);
        done_ = first_step + num_steps;
        if (first_step != tamper_.block_start) return;
        if (tamper_.what == tamper::kind::runaway)  // as a backend's check after the block reports it
            throw numerical_error("membrane potential is not finite", tamper_.column, first_step + num_steps);
        if (tamper_.what == tamper::kind::drop_spike) {
            spike_list& s = out.spikes[0];
            ASSERT_GT(s.size(), 0u) << "no spike to drop in the block from step " << first_step;
            dropped_->step.push_back(s.step[0]);
            dropped_->neuron.push_back(s.neuron[0]);
            dropped_->offset.push_back(s.offset[0]);
            s.step.erase(s.step.begin());
            s.neuron.erase(s.neuron.begin());
            s.offset.erase(s.offset.begin());
        }
        if (tamper_.what == tamper::kind::offset) {  // the block's first spike a float ulp earlier
            spike_list& s = out.spikes[0];
            ASSERT_GT(s.size(), 0u) << "no spike to move in the block from step " << first_step;
            dropped_->step.push_back(s.step[0]);
            dropped_->neuron.push_back(s.neuron[0]);
            dropped_->offset.push_back(s.offset[0]);
            s.offset[0] = std::nextafter(float(s.offset[0]), -INFINITY);
        }
        if (tamper_.what == tamper::kind::sample) {
            float& v = out.samples[0].at(tamper_.row * out.samples[0].size() / out.sample_rows[0] + tamper_.column);
            v = std::nextafter(v, INFINITY);
        }
    }
    std::vector<double> state(std::size_t population, state_variable v) const override {
        std::vector<double> s = inner_->state(population, v);
        if (tamper_.what == tamper::kind::state && v == state_variable::V_m && done_ > tamper_.after_step)
            s.at(tamper_.column) = std::nextafter(float(s.at(tamper_.column)), INFINITY);  // a float run's ulp
        return s;
    }
    std::vector<double> synaptic_state(std::size_t population, std::size_t channel) const override {
        std::vector<double> s = inner_->synaptic_state(population, channel);
        if (tamper_.what == tamper::kind::channel && done_ > tamper_.after_step)
            s.at(tamper_.column) = std::nextafter(float(s.at(tamper_.column)), INFINITY);
        return s;
    }
    double least_bytes_per_step() const override { return inner_->least_bytes_per_step(); }
    double copy_bandwidth() const override { return inner_->copy_bandwidth(); }

private:
    std::unique_ptr<backend> inner_;
    int threads_;
    tamper tamper_;
    spike_list* dropped_;  // the spike dropped (drop_spike) or moved (offset)
    std::uint64_t done_ = 0;  // steps advanced
};

// 3000 noisy LIF neurons (enough for two threads) firing at tens of Hz in float; V_m of neurons 3, 5,
// 7, 9 every 3 steps.
run_spec noisy_population() {
    run_spec s = one_population(model_kind::lif, 3000, 30.0, 0.1, precision::single);
    s.populations[0].input.I_e = distribution::constant(190.0);
    s.populations[0].input.sigma_V = distribution::constant(4.0);
    s.populations[0].init["V_m"] = {distribution::kind::uniform, -60.0, -50.0, {}};
    s.states.push_back(state_record{.name = "P_V_m", .population = "P", .variable = "V_m",
                                    .neurons = {3, 5, 7, 9}, .interval_ms = 0.3, .window = {}});
    return s;
}

class compare_runs : public ::testing::Test {
protected:
    // The reference on one thread against the tampered backend on two, in blocks of 10 steps.
    std::optional<std::string> difference(tamper t) {
        const compared_backend reference{"reference", [&] { return std::make_unique<tampered_backend>(spec_, 1, tamper{}, nullptr); }};
        const compared_backend other{"other", [&, t] { return std::make_unique<tampered_backend>(spec_, 2, t, &dropped_); }};
        return first_difference(spec_, reference, other, 300, 10);
    }
    run_spec spec_ = noisy_population();
    spike_list dropped_;
};

TEST_F(compare_runs, one_and_two_threads_are_identical) {
    EXPECT_EQ(difference({}), std::nullopt);
}

// A runaway on one side is named as a run names it, with the side it was found on (it said
// "membrane potential is not finite (neuron 7, step 110)", neither population nor backend).
TEST_F(compare_runs, a_runaway_is_named_with_its_population_and_backend) {
    try {
        difference({.what = tamper::kind::runaway, .block_start = 100, .column = 7});
        FAIL() << "no error";
    } catch (const runtime_failure& e) {
        EXPECT_STREQ(e.what(), "the other backend: membrane potential is not finite in population 'P' (its neuron 7), "
                               "found by the check after steps 100-109; its inputs or parameters drive it out of range");
    }
}

TEST_F(compare_runs, a_missing_spike_is_named_with_its_step_neuron_and_offset) {
    const auto d = difference({.what = tamper::kind::drop_spike, .block_start = 100});
    ASSERT_TRUE(d.has_value());
    ASSERT_EQ(dropped_.size(), 1u);
    char offset[32];
    std::snprintf(offset, sizeof offset, "%.9g", dropped_.offset[0]);
    EXPECT_EQ(*d, "population P, neuron " + std::to_string(dropped_.neuron[0]) + ", step " +
                      std::to_string(dropped_.step[0]) + ", variable spike: reference has a spike (offset " +
                      offset + ") the other does not");
}

// A spike at another time within its step is a difference too, said with both times (the
// comparison of offsets had no test: a mutation that skipped it went unseen).
TEST_F(compare_runs, a_moved_spike_is_named_with_both_offsets) {
    spec_.simulation.timing = spike_timing::interpolated;
    const auto d = difference({.what = tamper::kind::offset, .block_start = 100});
    ASSERT_TRUE(d.has_value());
    ASSERT_EQ(dropped_.size(), 1u);
    EXPECT_EQ(d->rfind("population P, neuron " + std::to_string(dropped_.neuron[0]) + ", step " +
                           std::to_string(dropped_.step[0]) + ", variable spike offset: reference ",
                       0),
              0u)
        << *d;
    double a = 0.0, b = 0.0;
    ASSERT_EQ(std::sscanf(d->c_str() + d->find("reference ") + 10, "%lg", &a), 1) << *d;
    ASSERT_EQ(std::sscanf(d->c_str() + d->find("other ") + 6, "%lg", &b), 1) << *d;
    EXPECT_EQ(b, double(std::nextafter(float(a), -INFINITY))) << *d;
}

TEST_F(compare_runs, a_changed_sample_is_named_with_its_step_and_neuron) {
    // The block [130, 140) samples at steps 132, 135 and 138: row 1 is step 135; column 1 neuron 5.
    const auto d = difference({.what = tamper::kind::sample, .block_start = 130, .row = 1, .column = 1});
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->rfind("population P, neuron 5, step 135, variable V_m (record P_V_m): reference ", 0), 0u) << *d;
    // Both values, one float ulp apart.
    float a = 0.0f, b = 0.0f;
    ASSERT_EQ(std::sscanf(d->c_str() + d->find("reference ") + 10, "%g", &a), 1) << *d;
    ASSERT_EQ(std::sscanf(d->c_str() + d->find("other ") + 6, "%g", &b), 1) << *d;
    EXPECT_EQ(b, std::nextafter(a, INFINITY)) << *d;
}

TEST_F(compare_runs, a_changed_state_is_pinned_to_its_step) {
    // Visible from the end of step 37 on: the 10-step blocks see it at 40, one-step blocks at 38.
    const auto d = difference({.what = tamper::kind::state, .column = 4, .after_step = 37});
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->rfind("population P, neuron 4, by step 38, variable V_m: reference ", 0), 0u) << *d;
}

// A synaptic channel's state is compared too (it was not: a difference there was named only once
// it reached V, a step later and as V's). P drives itself through exp_current synapses, then
// through exp_conductance ones.
TEST_F(compare_runs, a_changed_synaptic_state_is_named_with_its_channel) {
    spec_ = parse_config(R"([simulation]
dt = "0.1 ms"
duration = "30 ms"
precision = "float"
[[population]]
name = "P"
size = 200
model = "lif"
input = { I_e = "250 pA" }
[[projection]]
source = "P"
target = "P"
rule = { fixed_indegree = 20 }
synapse = "exp_current"
weight = "20 pA"
delay = "1 ms"
)", "test");
    EXPECT_EQ(difference({}), std::nullopt);
    const auto d = difference({.what = tamper::kind::channel, .column = 7, .after_step = 37});
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->rfind("population P, neuron 7, by step 38, variable I_syn of channel 0: reference ", 0), 0u) << *d;
    spec_.projections[0].synapse = synapse_kind::exp_conductance;
    spec_.projections[0].weight = synapse_distribution::constant(0.5);
    spec_.projections[0].E_rev_mV = 0.0;
    EXPECT_EQ(difference({}), std::nullopt);
    const auto g = difference({.what = tamper::kind::channel, .column = 7, .after_step = 37});
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->rfind("population P, neuron 7, by step 38, variable g_syn of channel 0: reference ", 0), 0u) << *g;
}

}  // namespace
}  // namespace ifsim::test
