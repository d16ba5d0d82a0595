// Where spikes and synapses come from: [[generator]] spikes arrive exactly one delay after their
// time, on every neuron or the listed ones; from_file projections (CSV and HDF5) run the very
// network a rule made when they list its synapses, in any order; the device draws the same
// synapses as the host.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/network.hpp"
#include "ifsim/random.hpp"
#include "ifsim/synapses.hpp"
#include "support/network.hpp"
#include "support/simulate.hpp"
#include "support/statistics.hpp"

using namespace ifsim;
using test::build_error;
using test::lif_population;
using test::poisson_generator;
namespace fs = std::filesystem;

namespace {

// Generator "G" (`size` neurons) -> one silent LIF target "T", all to all, delta synapses of
// 1.5 mV and `delay_steps` steps.
run_spec generator_to_target(std::uint64_t size, std::vector<double> times, std::vector<std::uint64_t> neurons,
                             std::uint32_t delay_steps) {
    run_spec s;
    s.simulation.dt_ms = 0.1;
    s.simulation.duration_ms = 100.0;
    s.simulation.real = precision::double_;
    s.populations.push_back(lif_population("T", 1));
    s.generators.push_back({"G", size, std::move(times), std::move(neurons)});
    projection_spec pr;
    pr.source = "G";
    pr.target = "T";
    pr.rule.kind = rule_kind::all_to_all;
    pr.weight = synapse_distribution::constant(1.5);
    pr.delay = synapse_distribution::constant(delay_steps * 0.1);
    s.projections.push_back(pr);
    return s;
}

// Generator g's schedule (index 0) drawn on `threads` OpenMP threads.
generator_spikes schedule_on_threads(int threads, const generator_spec& g, const simulation_spec& sim) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    generator_spikes s = schedule(g, sim, 0);
    omp_set_num_threads(before);
    return s;
}

// The target's V after every step, advancing `block` steps at a time (state read at block ends).
std::vector<double> target_V(const run_spec& spec, std::uint64_t steps, std::uint32_t block) {
    auto engine = make_cpu_backend(spec);
    std::vector<double> V;
    block_output out;
    for (std::uint64_t t = 0; t < steps; t += block) {
        out.clear();
        engine->advance(t, block, out);
        V.push_back(engine->state(0, state_variable::V_m)[0]);
    }
    return V;
}

class temp_dir {
public:
    temp_dir() : path_(fs::temp_directory_path() / ("ifsim_sources_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~temp_dir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// The tests' small E/I network, its weights drawn per synapse and no repeated pairs.
run_spec ei_with_drawn_weights() {
    run_spec s = test::small_network(200.0);
    for (auto& pr : s.projections) {
        pr.rule.multapses = false;
        pr.weight = {synapse_distribution::kind::normal, pr.weight.a, std::fabs(pr.weight.a) / 4};
    }
    return s;
}

// Every synapse of `b` as (source, target, delay [ms]) rows in CSR order, or shuffled.
struct listed_synapses {
    std::vector<std::uint64_t> source, target;
    std::vector<double> delay_ms;
};

listed_synapses list_synapses(const built_projection& b, double dt_ms, bool shuffle) {
    listed_synapses l;
    for (std::uint64_t i = 0; i < b.conn.num_sources; ++i)
        for (std::uint64_t s = b.conn.row_offsets[i]; s < b.conn.row_offsets[i + 1]; ++s) {
            l.source.push_back(i);
            l.target.push_back(b.conn.targets[s]);
            l.delay_ms.push_back(b.delay_of(s) * dt_ms);
        }
    if (shuffle) {
        std::vector<std::size_t> order(l.source.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::shuffle(order.begin(), order.end(), std::mt19937(12345));
        listed_synapses out;
        for (const std::size_t k : order) {
            out.source.push_back(l.source[k]);
            out.target.push_back(l.target[k]);
            out.delay_ms.push_back(l.delay_ms[k]);
        }
        return out;
    }
    return l;
}

void write_csv(const fs::path& file, const listed_synapses& l) {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "# written by test_network_sources\ndelay, source, target\n");
    for (std::size_t k = 0; k < l.source.size(); ++k)
        std::fprintf(f, "%.17g,%llu,%llu\n", l.delay_ms[k], (unsigned long long)l.source[k], (unsigned long long)l.target[k]);
    std::fclose(f);
}

void write_h5(const fs::path& file, const listed_synapses& l) {
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t n = l.source.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const auto put = [&](const char* name, hid_t file_type, hid_t mem_type, const void* data) {
        const hid_t d = H5Dcreate2(f, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(d);
    };
    put("source", H5T_STD_U32LE, H5T_NATIVE_UINT64, l.source.data());
    put("target", H5T_STD_I64LE, H5T_NATIVE_UINT64, l.target.data());
    put("delay", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, l.delay_ms.data());
    H5Sclose(space);
    H5Fclose(f);
}


}  // namespace

// A spike given at time T reaches its target at T + delay: the target's V jumps at the end of step
// T/dt - 1 + d, exactly like a neuron's spike at the end of step T/dt - 1.
TEST(Generators, SpikeArrivesOneDelayAfterItsTime) {
    const run_spec spec = generator_to_target(1, {2.0, 5.0}, {}, 10);
    const std::vector<double> V = target_V(spec, 100, 1);
    const std::uint64_t first = 20 - 1 + 10, second = 50 - 1 + 10;  // steps ending at 3.0 and 6.0 ms
    for (std::uint64_t t = 0; t < first; ++t) ASSERT_EQ(V[t], 0.0) << "step " << t;
    EXPECT_EQ(V[first], 1.5);
    const double P = std::exp(-0.1 / 20.0);  // tau_m = C_m / g_L = 20 ms (defaults)
    EXPECT_NEAR(V[second - 1], 1.5 * std::pow(P, double(second - 1 - first)), 1e-12);
    EXPECT_NEAR(V[second], 1.5 * std::pow(P, double(second - first)) + 1.5, 1e-12);
}

// The schedule is cut into intervals by the backend; any block length gives the same trajectory.
TEST(Generators, SameResultForAnyBlockLength) {
    const run_spec spec = generator_to_target(3, {0.1, 0.7, 2.05, 2.1, 4.0, 9.95}, {0, 2, 1, 1, 0, 2}, 4);
    const std::vector<double> by_step = target_V(spec, 840, 1);
    for (const std::uint32_t block : {3u, 7u, 40u}) {  // 840 steps: a whole number of each
        const std::vector<double> V = target_V(spec, 840, block);
        for (std::size_t k = 0; k < V.size(); ++k)
            ASSERT_EQ(V[k], by_step[(k + 1) * block - 1]) << "block " << block << ", block end " << k;
    }
}

// Without `neurons` every neuron fires at every time; with it only the listed spikes happen.
TEST(Generators, EveryNeuronOrOnlyTheListedOnes) {
    const auto events = [](run_spec spec) {
        spec.populations[0].size = 5;  // 5 targets: each spike is 5 synaptic events
        auto engine = make_cpu_backend(spec);
        block_output out;
        engine->advance(0, 1000, out);
        return engine->network().events;
    };
    EXPECT_EQ(events(generator_to_target(4, {1.0, 2.0, 3.0}, {}, 5)), 4u * 3u * 5u);
    EXPECT_EQ(events(generator_to_target(4, {1.0, 2.0, 3.0}, {3, 3, 0}, 5)), 3u * 5u);
    // Spikes at or after the end of the run are never delivered.
    EXPECT_EQ(events(generator_to_target(4, {1.0, 150.0}, {1, 2}, 5)), 1u * 5u);
}

// A Poisson generator's neurons: spikes in step order inside their window, counts per neuron and
// per step Poisson (fixed seed, alpha = 1e-4 per check: |z| < 3.89), and a neuron's spikes that
// fall in one step all kept (each arrives).
TEST(Generators, PoissonNeuronsFireAtTheirRateInTheirWindow) {
    simulation_spec sim;
    sim.duration_ms = 1000.0;
    sim.seed = 3;
    const generator_spec g = poisson_generator(4000, 50.0, 100.0, 600.0);
    const generator_spikes s = schedule(g, sim, 2);
    ASSERT_EQ(s.step.size(), s.neuron.size());
    ASSERT_FALSE(s.step.empty());
    EXPECT_GE(s.step.front(), 1000u);  // after 100 ms: steps from (100, 100.1] on
    EXPECT_LE(s.step.back(), 5999u);   // before 600 ms
    std::vector<std::uint64_t> per_neuron(g.size, 0), per_step(10000, 0);
    std::uint64_t repeats = 0;  // a neuron firing again in the same step
    for (std::size_t k = 0; k < s.step.size(); ++k) {
        if (k > 0) {
            ASSERT_TRUE(s.step[k - 1] < s.step[k] || (s.step[k - 1] == s.step[k] && s.neuron[k - 1] <= s.neuron[k])) << k;
            repeats += s.step[k - 1] == s.step[k] && s.neuron[k - 1] == s.neuron[k];
        }
        ++per_neuron[s.neuron[k]];
        ++per_step[s.step[k]];
    }
    const auto check = [](const std::map<long long, std::uint64_t>& counts, double mean, const char* what) {
        const test::poisson_fit f = test::fit_poisson(counts, mean);
        EXPECT_LT(std::abs(f.z_mean), 3.89) << what << ": mean " << f.mean << " against " << mean;
        EXPECT_LT(std::abs(f.z_var), 3.89) << what << ": variance " << f.var << " against " << mean;
        EXPECT_GT(f.p, 1e-4) << what << ": chi2 " << f.chi2 << " on " << f.dof << " dof";
    };
    std::map<long long, std::uint64_t> neuron_counts, step_counts;
    for (const auto c : per_neuron) ++neuron_counts[(long long)c];
    for (std::uint64_t t = 1000; t < 6000; ++t) ++step_counts[(long long)per_step[t]];
    check(neuron_counts, 50.0 * 0.5, "spikes per neuron in 500 ms");
    check(step_counts, 4000 * 50.0 * 1e-4, "spikes per step of all neurons");
    // P(>= 2 in a step) = 1 - e^-l (1 + l), l = 0.005: about 250 repeats in 4000 x 5000 steps.
    const double l = 50.0 * 1e-4, expected = 4000.0 * 5000.0 * (1.0 - std::exp(-l) * (1.0 + l));
    EXPECT_LT(std::abs(double(repeats) - expected), 3.89 * std::sqrt(expected)) << repeats << " against " << expected;
}

// Each neuron alone from its own counters: the same spikes on any number of threads; another seed
// or another generator (its stream) gives other spikes. Spikes after the run's end are not drawn.
TEST(Generators, PoissonSpikesDependOnSeedAndGeneratorOnly) {
    simulation_spec sim;
    sim.duration_ms = 200.0;
    const generator_spec g = poisson_generator(3001, 20.0, 0.0, 1e9);
    const generator_spikes one = schedule_on_threads(1, g, sim), three = schedule_on_threads(3, g, sim);
    EXPECT_EQ(one.step, three.step);
    EXPECT_EQ(one.neuron, three.neuron);
    EXPECT_LT(one.step.back(), 2000u);
    EXPECT_NE(schedule(g, sim, 1).neuron, one.neuron);
    sim.seed += 1;
    EXPECT_NE(schedule(g, sim, 0).neuron, one.neuron);
}

// A long run with few spikes takes the other ordering path (the steps' counts would outweigh the
// spikes): the same (step, neuron) order, on any number of threads.
TEST(Generators, PoissonScheduleIsInStepOrderForLongSparseRuns) {
    simulation_spec sim;
    sim.duration_ms = 200e3;  // 2e6 steps
    const generator_spec g = poisson_generator(10, 0.5, 0.0, 200e3);
    const generator_spikes one = schedule_on_threads(1, g, sim), three = schedule_on_threads(3, g, sim);
    EXPECT_EQ(one.step, three.step);
    EXPECT_EQ(one.neuron, three.neuron);
    EXPECT_NEAR(double(one.step.size()), 1000.0, 4.0 * std::sqrt(1000.0));
    for (std::size_t k = 1; k < one.step.size(); ++k)
        ASSERT_TRUE(one.step[k - 1] < one.step[k] || (one.step[k - 1] == one.step[k] && one.neuron[k - 1] <= one.neuron[k])) << k;
}

// Through a network: 1000 generator neurons at 10 Hz onto silent LIF targets, all to all, 0.01 mV:
// 1e4 arrivals/s of 0.01 mV with tau_m = 20 ms hold the mean V at 2 mV (Campbell). The generator's
// 8000 spikes in the measured 800 ms set the error, about 1 %; 5 % is allowed.
TEST(Generators, PoissonGeneratorDrivesItsTargetsAtItsRate) {
    run_spec s;
    s.simulation.duration_ms = 1000.0;
    s.simulation.real = precision::double_;
    s.populations.push_back(lif_population("T", 2));
    s.populations[0].params["V_th"] = distribution::constant(1e3);  // never fires
    s.generators.push_back(poisson_generator(1000, 10.0, 0.0, 1000.0));
    projection_spec pr;
    pr.source = "bg";
    pr.target = "T";
    pr.rule.kind = rule_kind::all_to_all;
    pr.weight = synapse_distribution::constant(0.01);
    s.projections.push_back(pr);
    const std::vector<double> V = target_V(s, 10000, 1);
    double sum = 0;
    for (std::size_t t = 2000; t < V.size(); ++t) sum += V[t];
    EXPECT_NEAR(sum / double(V.size() - 2000), 2.0, 0.1);
}

// A generator no projection leaves sends nothing, so its spikes are not drawn (a 4e9-neuron one
// took minutes for nothing).
TEST(Generators, OnlyGeneratorsThatSendAreDrawn) {
    run_spec s = generator_to_target(2, {1.0, 2.0}, {}, 5);
    generator_spec idle = poisson_generator(1000, 50.0, 0.0, 100.0);
    idle.name = "idle";
    s.generators.push_back(idle);
    const network net = build_network(s);
    ASSERT_EQ(net.generators.size(), 2u);
    EXPECT_EQ(net.generators[0].step.size(), 4u);
    EXPECT_TRUE(net.generators[1].step.empty());
    EXPECT_TRUE(sends_spikes(s, s.generators[0]));
    EXPECT_FALSE(sends_spikes(s, s.generators[1]));
}

// A generator's neuron can fire many times in one step, each spike arriving: the fixed-point
// bound counts those inputs, not one per synapse. 2^20 spikes in one step through 8192 multapses
// are 2^33 inputs onto one neuron, past the 2^32 that int64 sums of single inputs hold: a coarser
// quantum, so that the sum fits (it wrapped to the wrong sign before).
TEST(Generators, RepeatedSpikesInAStepCountInTheFixedPointBound) {
    run_spec s = generator_to_target(1, std::vector<double>(std::size_t{1} << 20, 1.0), {}, 1);
    s.projections[0].rule.kind = rule_kind::fixed_indegree;
    s.projections[0].rule.degree = 8192;
    const network net = build_network(s);
    ASSERT_EQ(net.generators[0].most_in_one_step(), std::uint64_t{1} << 20);
    const fixed_point_format f = net.channels[0][0].format;
    EXPECT_GE(f.max_abs, std::ldexp(1.5, 33));
    EXPECT_GT(f.exponent, choose_format(1.5, 8192).exponent);

    generator_spikes one_each;
    one_each.step = {3, 3, 4, 4, 4, 9};
    one_each.neuron = {0, 1, 1, 1, 1, 1};
    EXPECT_EQ(one_each.most_in_one_step(), 3u);
    EXPECT_EQ(generator_spikes{}.most_in_one_step(), 0u);
    // Per neuron: three neurons once each in one step is one input per synapse, not three.
    generator_spikes three_neurons;
    three_neurons.step = {5, 5, 5};
    three_neurons.neuron = {0, 1, 2};
    EXPECT_EQ(three_neurons.most_in_one_step(), 1u);
}

// The memory estimate holds a generator's schedule once for the network and once more for the
// writer where a spike record names it (28 B a spike while drawn and scheduled, listed times
// sorted in place; the other copy 12 B a spike); one that neither sends nor is recorded costs
// nothing.
TEST(Generators, TheEstimateCountsEverySchedule) {
    run_spec s = generator_to_target(4, {1.0, 2.0, 3.0}, {}, 5);
    EXPECT_EQ(estimate_memory(s).largest_part, "generator 'G'");
    EXPECT_EQ(estimate_memory(s).largest, 12 * (16.0 + 12.0));
    EXPECT_EQ(generator_schedule_bytes(s.generators[0], s.simulation), 12 * (16.0 + 12.0));
    const double sending = estimate_memory(s).bytes;
    s.spikes.populations = {"G"};
    s.spikes.windows.resize(1);
    s.spikes.neurons.resize(1);
    EXPECT_EQ(estimate_memory(s).bytes, sending + 12 * 12.0);
    s.projections.clear();
    s.spikes = {};
    const double idle = estimate_memory(s).bytes;
    s.spikes.populations = {"G"};
    s.spikes.windows.resize(1);
    s.spikes.neurons.resize(1);
    EXPECT_EQ(estimate_memory(s).bytes, idle + 12 * (16.0 + 12.0));
}

TEST(Generators, PoissonConfigRoundTripAndOverrides) {
    const std::string text = R"(
[simulation]
duration = "2 s"
[[population]]
name = "T"
size = 2
model = "lif"
[[generator]]
name = "bg"
size = 30
rate = "12.5 Hz"
start = "0.5 s"
)";
    const run_spec spec = parse_config(text, "<test>", {"generator.bg.rate=\"25 Hz\""});
    ASSERT_EQ(spec.generators.size(), 1u);
    const generator_spec& g = spec.generators[0];
    EXPECT_EQ(g.type, generator_spec::kind::poisson);
    EXPECT_EQ(g.rate_Hz, 25.0);
    EXPECT_EQ(g.start_ms, 500.0);
    EXPECT_EQ(g.stop_ms, 2000.0);  // the run's duration
    EXPECT_TRUE(g.times_ms.empty());
    const run_spec back = parse_config(to_toml(spec), spec.source_path);
    EXPECT_EQ(to_toml(back), to_toml(spec));
    EXPECT_EQ(back.generators[0].rate_Hz, 25.0);
    EXPECT_EQ(back.generators[0].stop_ms, 2000.0);
}

TEST(Generators, ConfigRoundTrip) {
    const std::string text = R"(
[simulation]
dt = "0.1 ms"
[[population]]
name = "T"
size = 2
model = "lif"
[[generator]]
name = "kick"
size = 3
times = ["1 ms", "2.5 ms", "0.06 ms"]
neurons = [2, 0, 1]
[[projection]]
source = "kick"
target = "T"
rule = "all_to_all"
weight = "1 mV"
)";
    const run_spec spec = parse_config(text, "<test>");
    ASSERT_EQ(spec.generators.size(), 1u);
    EXPECT_EQ(spec.generators[0].size, 3u);
    EXPECT_EQ(spec.generators[0].times_ms, (std::vector<double>{1.0, 2.5, 0.06}));
    EXPECT_EQ(spec.generators[0].neurons, (std::vector<std::uint64_t>{2, 0, 1}));
    const run_spec back = parse_config(to_toml(spec), spec.source_path);
    EXPECT_EQ(to_toml(back), to_toml(spec));
    EXPECT_EQ(back.generators[0].times_ms, spec.generators[0].times_ms);
    const network net = build_network(spec);
    ASSERT_EQ(net.generators.size(), 1u);
    EXPECT_EQ(net.generators[0].step, (std::vector<std::uint64_t>{0, 9, 24}));  // 0.06 ms rounds to the first step
    EXPECT_EQ(net.generators[0].neuron, (std::vector<std::uint32_t>{1, 2, 0}));
    EXPECT_TRUE(net.projections[0].from_generator);
}

// A from_file projection listing the synapses a rule made (delays from the file, weights drawn from
// the projection's distribution by synapse index) is the same network: the same spikes, bit for
// bit, whether the file lists the synapses in CSR order or shuffled, as CSV or as HDF5.
TEST(FromFile, ListingARulesSynapsesRunsTheSameNetwork) {
    temp_dir dir;
    const run_spec by_rule = ei_with_drawn_weights();
    const network net = build_network(by_rule);
    const auto reference = test::run_spikes("cpu", by_rule, 1000);
    EXPECT_GT(reference[0].size(), 1000u);  // an active network: a wrong synapse would show
    for (const bool shuffle : {false, true})
        for (const char* ext : {".csv", ".h5"}) {
            run_spec by_file = by_rule;
            for (std::size_t k = 0; k < net.projections.size(); ++k) {
                std::string name = shuffle ? "shuffled_p" : "p";  // appended, not "p" + ...: gcc 12's -Wrestrict
                name += std::to_string(k);
                name += ext;
                const fs::path file = dir.path() / name;
                const listed_synapses l = list_synapses(net.projections[k], by_rule.simulation.dt_ms, shuffle);
                if (std::string(ext) == ".csv") write_csv(file, l); else write_h5(file, l);
                by_file.projections[k].rule = {};
                by_file.projections[k].rule.kind = rule_kind::from_file;
                by_file.projections[k].rule.file = file.string();
                by_file.projections[k].delay_from_file = true;
            }
            const network file_net = build_network(by_file);
            for (std::size_t k = 0; k < net.projections.size(); ++k) {
                EXPECT_EQ(file_net.projections[k].conn.row_offsets, net.projections[k].conn.row_offsets);
                EXPECT_EQ(file_net.projections[k].conn.targets, net.projections[k].conn.targets);
                EXPECT_EQ(file_net.projections[k].weight, net.projections[k].weight);
                EXPECT_EQ(file_net.projections[k].delay8, net.projections[k].delay8);
                EXPECT_EQ(file_net.projections[k].delay16, net.projections[k].delay16);
            }
            EXPECT_TRUE(test::same_spikes(test::run_spikes("cpu", by_file, 1000), reference)) << ext << (shuffle ? ", shuffled" : "");
        }
}

// The file's weights become the synapses' weights (to the channel's quantum); rows are sorted by
// target within a source, repeated pairs kept; a file read through a config resolves relative to
// the config's folder.
TEST(FromFile, WeightsAndDelaysFromTheFileThroughAConfig) {
    temp_dir dir;
    {
        std::ofstream f(dir.path() / "syn.csv");
        f << "source,target,weight,delay\n2,1,0.75,1.0\n0,3,0.5,2.0\n2,0,1.25,1.5\n0,3,0.25,2.0\n";
    }
    const std::string text = R"(
[[population]]
name = "E"
size = 4
model = "lif"
[[projection]]
source = "E"
target = "E"
rule = { from_file = "syn.csv" }
)";
    const fs::path config = dir.path() / "net.toml";
    std::ofstream(config) << text;
    const run_spec spec = load_config(config);
    ASSERT_EQ(spec.projections.size(), 1u);
    EXPECT_TRUE(spec.projections[0].weight_from_file);
    EXPECT_TRUE(spec.projections[0].delay_from_file);
    EXPECT_EQ(fs::path(spec.projections[0].rule.file), fs::absolute(dir.path() / "syn.csv").lexically_normal());
    const network net = build_network(spec);
    const built_projection& b = net.projections[0];
    EXPECT_EQ(b.conn.row_offsets, (std::vector<std::uint64_t>{0, 2, 2, 4, 4}));
    EXPECT_EQ(b.conn.targets, (uninitialized_vector<std::uint32_t>{3, 3, 0, 1}));
    const double q = net.channels[0][0].format.quantum;
    std::vector<double> w;
    for (const std::int32_t x : b.weight) w.push_back(x * q);
    EXPECT_EQ(w, (std::vector<double>{0.5, 0.25, 1.25, 0.75}));  // exact: multiples of a power of two
    std::vector<std::uint16_t> d;
    for (std::uint64_t s = 0; s < 4; ++s) d.push_back(b.delay_of(s));
    EXPECT_EQ(d, (std::vector<std::uint16_t>{20, 20, 15, 10}));
    // The resolved config names the file absolutely and reads back the same.
    EXPECT_EQ(to_toml(parse_config(to_toml(spec), spec.source_path)), to_toml(spec));
}

namespace {

// Population E of n LIF neurons onto itself through the synapses `file` lists, weights 0.1 mV.
run_spec listed_onto_itself(std::uint64_t n, const fs::path& file) {
    run_spec spec;
    spec.populations.push_back(lif_population("E", n));
    projection_spec pr;
    pr.source = pr.target = "E";
    pr.rule.kind = rule_kind::from_file;
    pr.rule.file = file.string();
    pr.weight = synapse_distribution::constant(0.1);
    spec.projections.push_back(pr);
    return spec;
}

}  // namespace

// A file name with control characters (legal on Linux) is written to the resolved config escaped,
// which reads back to the same run (it was written raw: not TOML; found by a review).
TEST(FromFile, ControlCharactersInTheFileNameRoundTrip) {
    temp_dir dir;
    const std::string name = "a\x01" "b\rc.csv";
    std::ofstream(dir.path() / name) << "source,target\n0,1\n";
    const fs::path config = dir.path() / "net.toml";
    std::ofstream(config) << R"(
[[population]]
name = "E"
size = 4
model = "lif"
[[projection]]
source = "E"
target = "E"
rule = { from_file = "a\u0001b\rc.csv" }
weight = "0.1 mV"
)";
    const run_spec spec = load_config(config);
    EXPECT_EQ(fs::path(spec.projections[0].rule.file).filename(), name);
    const std::string resolved = to_toml(spec);
    EXPECT_NE(resolved.find("a\\u0001b\\rc.csv"), std::string::npos) << resolved;
    EXPECT_EQ(to_toml(parse_config(resolved, spec.source_path)), resolved);
}

TEST(FromFile, IndicesOutsideThePopulationsFailWhenBuilt) {
    temp_dir dir;
    std::ofstream(dir.path() / "syn.csv") << "source,target\n0,1\n1,4\n";
    const run_spec spec = listed_onto_itself(4, dir.path() / "syn.csv");
    const std::string m = build_error<config_error>(spec);
    EXPECT_NE(m.find("projection 0 (E -> E)"), std::string::npos) << m;
    EXPECT_NE(m.find("syn.csv:3"), std::string::npos) << m;
}

// A synapse file counts in the run's memory check before it is read: a CSV file that claims a
// terabyte (sparse: 70,000 rows, then a hole of zeros) fails with the projection named, rather than being
// read until the machine runs out of memory.
TEST(FromFile, TooLargeASynapseFileFailsClearlyBeforeItIsRead) {
    temp_dir dir;
    const fs::path file = dir.path() / "syn.csv";
    {
        std::ofstream out(file);
        out << "source,target\n";
        for (int r = 0; r < 70000; ++r) out << r % 100 << "," << (r * 7) % 100 << "\n";
    }
    const run_spec spec = listed_onto_itself(100, file);
    // About 70,000 synapses (the rows past the first 65,536 estimated), each its target and delay
    // kept (and a row offset per source), and while its projection is built, its source, target
    // and file row as read: the largest part.
    const memory_estimate small = estimate_memory(spec);
    EXPECT_GE(small.synapses, 70000.0);
    EXPECT_LE(small.synapses, 1.06 * 70000.0);
    EXPECT_EQ(small.largest_part, "projection 0 (E -> E) while it is built");
    EXPECT_EQ(small.largest, small.synapses * 3 * 8);
    EXPECT_GE(small.bytes, small.synapses * (4 + 2 + 3 * 8) + 100 * 8);

    fs::resize_file(file, std::uintmax_t{1} << 40);
    const std::string m = build_error<runtime_failure>(spec);
    EXPECT_NE(m.find("projection 0 (E -> E)"), std::string::npos) << m;
    EXPECT_NE(m.find("TiB"), std::string::npos) << m;
}

// What the CUDA backend needs at the least, from the config alone (least_device_memory), lies
// under what the network as built needs, part by part as the backend counts them: the rings as
// long as the longest delay sure to be drawn (the uniform delays' least, 5 steps, below the
// constant 3 ms), a Bernoulli count 5 standard deviations below its mean, exact counts else, the
// targets alone (weights drawn from a normal of std 0 are one value, stored once: counting 4 bytes
// each for them refused a network that fits).
TEST(DeviceMemory, TheLeastBeforeTheDrawIsUnderWhatTheBuiltNetworkNeeds) {
    const run_spec spec = parse_config(R"([simulation]
dt = "0.1 ms"
[[population]]
name = "A"
size = 1000
model = "lif"
[[population]]
name = "B"
size = 500
model = "adex"
input = { ou = { sigma_I = "10 pA", tau_I = "5 ms" } }
[[generator]]
name = "G"
size = 100
rate = "10 Hz"
[[projection]]
source = "A"
target = "A"
rule = { pairwise_bernoulli = 0.1 }
weight = { normal = ["0.1 mV", "0.01 mV"] }
delay = { uniform = ["0.5 ms", "2 ms"] }
[[projection]]
source = "B"
target = "A"
rule = { fixed_indegree = 10 }
weight = { normal = ["-0.2 mV", "0 mV"] }
delay = "3 ms"
[[projection]]
source = "G"
target = "B"
rule = { fixed_total = 1000 }
synapse = "exp_current"
weight = "5 pA"
tau_syn = "2 ms"
)",
                                       "<test>");
    const device_memory_need least = least_device_memory(spec);
    EXPECT_EQ(least.ring_slots, 31u);
    std::map<std::string, std::size_t> part;
    for (const memory_part& p : least.parts) part[p.name] = p.bytes;
    const double bernoulli = 0.1 * 1000 * 1000;
    EXPECT_EQ(part.at("projection 0 synapses"), std::size_t(std::floor(bernoulli - 5 * std::sqrt(bernoulli))) * 4 + 8 * 1001);
    EXPECT_EQ(part.at("projection 1 synapses"), 10 * 1000 * 4 + 8 * 501);
    EXPECT_EQ(part.at("projection 2 synapses"), 1000 * 4 + 8 * 101);
    EXPECT_EQ(part.at("population 'A' state"), 1000 * 4 * 2);
    EXPECT_EQ(part.at("population 'B' state"), 500 * 4 * 4);  // V, refractory count, w, the OU current
    EXPECT_EQ(part.at("population 'A' synaptic ring buffer"), 1000 * 31 * 8);  // one delta channel
    EXPECT_EQ(part.at("population 'B' synaptic ring buffer"), 500 * (31 * 8 + 4));  // an exp channel's state too

    const network net = build_network(spec);
    EXPECT_LE(least.ring_slots, net.max_delay_steps + 1);
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        const built_projection& b = net.projections[k];
        const std::size_t built = b.conn.row_offsets.size() * 8 + b.conn.targets.size() * 4 + b.weight.size() * 4 +
                                  b.delay8.size() + 2 * b.delay16.size();
        EXPECT_LE(part.at("projection " + std::to_string(k) + " synapses"), built) << k;
        // Exact counts, one weight and one delay each: all the built network stores.
        if (k > 0) {
            EXPECT_EQ(part.at("projection " + std::to_string(k) + " synapses"), built) << k;
        }
    }
}

// CPU = GPU with generators (listed times and Poisson) and a from_file projection (skips without a
// usable CUDA device).
TEST(NetworkSources, CudaEqualsCpu) {
    if (const std::string why = test::cuda_unavailable(); !why.empty()) GTEST_SKIP() << why;
    temp_dir dir;
    run_spec spec = ei_with_drawn_weights();
    const network net = build_network(spec);
    const fs::path file = dir.path() / "ee.csv";
    write_csv(file, list_synapses(net.projections[0], spec.simulation.dt_ms, true));
    spec.projections[0].rule = {};
    spec.projections[0].rule.kind = rule_kind::from_file;
    spec.projections[0].rule.file = file.string();
    spec.projections[0].delay_from_file = true;
    std::vector<double> times;
    for (int k = 1; k <= 40; ++k) times.push_back(4.7 * k);
    spec.generators.push_back({"kick", 50, times, {}});
    projection_spec kick;
    kick.source = "kick";
    kick.target = "E";
    kick.rule.kind = rule_kind::fixed_outdegree;
    kick.rule.degree = 20;
    kick.weight = synapse_distribution::constant(2.0);
    kick.delay = synapse_distribution::constant(0.3);
    spec.projections.push_back(kick);
    spec.generators.push_back(poisson_generator(200, 30.0, 5.0, 20.0));  // its schedule, drawn on the host
    projection_spec background = kick;
    background.source = "bg";
    background.rule.degree = 10;
    background.weight = synapse_distribution::constant(0.5);
    spec.projections.push_back(background);
    for (const precision real : {precision::single, precision::double_}) {
        spec.simulation.real = real;
        const auto cpu = test::run_spikes("cpu", spec, 250);
        EXPECT_GT(cpu[0].size(), 1000u);
        EXPECT_TRUE(test::same_spikes(cpu, test::run_spikes("cuda", spec, 250))) << (real == precision::single ? "float" : "double");
    }
}

// The host draws a whole projection's values in vector lanes, one loop per kind; every value must
// be the one its definition gives for its synapse's Philox block: the normal clipped at zero on the
// far side of the mean, the lognormal with the mean's sign.
TEST(NetworkSources, HostDrawsFollowTheDefinitionForEveryKind) {
    using K = synapse_distribution::kind;
    const philox_key key = make_key(11, 0x20002);
    const auto defined = [&](const synapse_distribution& d, std::uint64_t s) {
        const philox_block r = philox4x32_10(make_counter(s, 0), key);
        double z0 = 0, z1 = 0;
        box_muller<double>(r.x, r.y, z0, z1);
        switch (d.type) {
            case K::constant: return d.a;
            case K::uniform: return d.a + (d.b - d.a) * uniform_open<double>(r.x);
            case K::normal: {
                const double v = d.a + d.b * z0;
                return d.a > 0 ? std::max(v, 0.0) : std::min(v, 0.0);
            }
            case K::lognormal: {
                const double m = std::fabs(d.a), s2 = math::log1p(d.b * d.b / (m * m));
                const double v = math::exp(math::log(m) - 0.5 * s2 + math::sqrt(s2) * z0);
                return d.a < 0 ? -v : v;
            }
        }
        return 0.0;
    };
    const synapse_source host;
    for (const synapse_distribution d :
         {synapse_distribution::constant(-0.75), synapse_distribution{K::uniform, 0.5, 2.0},
          synapse_distribution{K::normal, 0.3, 1.0}, synapse_distribution{K::normal, -0.3, 1.0},
          synapse_distribution{K::normal, 0.0, 0.0}, synapse_distribution{K::lognormal, 2.0, 1.5},
          synapse_distribution{K::lognormal, -2.0, 1.5}}) {
        std::vector<double> drawn(10007);  // not a multiple of any vector width
        host.draw(d, key, drawn);
        std::size_t differ = 0, clipped = 0;
        for (std::uint64_t s = 0; s < drawn.size(); ++s) {
            const double want = defined(d, s);
            differ += std::memcmp(&drawn[s], &want, sizeof want) != 0;
            clipped += want == 0.0;
        }
        EXPECT_EQ(differ, 0u) << "kind " << int(d.type) << ", a = " << d.a;
        if (d.type == K::normal && d.b > 0) {
            EXPECT_GT(clipped, 3000u) << "the clip is exercised";
        }
    }
}

// The config bounds weights and delays by the furthest draw (synapse_value_extremes): no draw lies
// beyond it, and it is where the definition puts it (the bounds; 6.76 std from the mean, the
// largest 32-bit Box-Muller radius; the lognormal's matching tail).
TEST(NetworkSources, NoDrawLiesBeyondTheExtremes) {
    using K = synapse_distribution::kind;
    const double z_max = std::sqrt(-2.0 * std::log(0x1p-33));  // u1 = 2^-33, 6.7637
    const synapse_source host;
    for (const synapse_distribution d :
         {synapse_distribution::constant(-0.75), synapse_distribution{K::uniform, 0.5, 2.0},
          synapse_distribution{K::normal, 0.3, 1.0}, synapse_distribution{K::normal, -0.3, 1.0},
          synapse_distribution{K::lognormal, 2.0, 1.5}, synapse_distribution{K::lognormal, -2.0, 1.5}}) {
        const auto [lo, hi] = synapse_value_extremes(d);
        std::vector<double> drawn(1 << 20);
        host.draw(d, make_key(5, 0x20000), drawn);
        const auto [min, max] = std::minmax_element(drawn.begin(), drawn.end());
        EXPECT_LE(lo, *min) << "kind " << int(d.type) << ", a = " << d.a;
        EXPECT_GE(hi, *max) << "kind " << int(d.type) << ", a = " << d.a;
        const double s2 = std::log1p(d.b * d.b / (d.a * d.a)), tail = std::exp(std::log(std::fabs(d.a)) - 0.5 * s2 + std::sqrt(s2) * z_max);
        const double furthest = d.type == K::constant  ? d.a
                                : d.type == K::uniform ? d.b
                                : d.type == K::normal  ? d.a + (d.a > 0 ? 1 : -1) * d.b * z_max
                                                       : (d.a > 0 ? tail : -tail);
        EXPECT_NEAR(d.a > 0 ? hi : lo, furthest, 1e-9 * std::fabs(furthest)) << "kind " << int(d.type) << ", a = " << d.a;
    }
    // Parameters that overflow give NaN extremes, which the config rejects.
    const auto [lo, hi] = synapse_value_extremes({K::lognormal, 1e200, 1e250});
    EXPECT_TRUE(std::isnan(lo) && std::isnan(hi));
}

// The device draws the same connectivity and synapse values as the host, rule by rule (skips
// without a usable CUDA device). The CUDA backend builds every network with it.
TEST(NetworkSources, DeviceDrawsEqualHostDraws) {
    if (const std::string why = test::cuda_unavailable(); !why.empty()) GTEST_SKIP() << why;
#if IFSIM_HAVE_CUDA
    const std::unique_ptr<synapse_source> device = make_device_synapse_source();
    const synapse_source host;
    struct rule_case {
        rule_kind kind;
        double p;
        std::uint64_t degree;
        bool autapses, multapses, same;
    };
    const rule_case cases[] = {
        {rule_kind::fixed_indegree, 0, 50, false, false, true}, {rule_kind::fixed_indegree, 0, 50, true, true, false},
        {rule_kind::fixed_outdegree, 0, 30, false, false, true}, {rule_kind::fixed_outdegree, 0, 300, true, true, false},
        {rule_kind::pairwise_bernoulli, 0.05, 0, false, true, true}, {rule_kind::pairwise_bernoulli, 0.3, 0, true, true, false},
        {rule_kind::fixed_total, 0, 40000, false, true, true}, {rule_kind::fixed_total, 0, 0, true, true, false},
    };
    for (const rule_case& c : cases) {
        connection_rule r;
        r.kind = c.kind;
        r.p = c.p;
        r.degree = c.degree;
        r.autapses = c.autapses;
        r.multapses = c.multapses;
        const std::uint64_t S = 700, M = c.same ? 700 : 333;
        const csr a = host.connect(r, S, M, c.same, 99, 3), b = device->connect(r, S, M, c.same, 99, 3);
        EXPECT_EQ(a.row_offsets, b.row_offsets) << "rule " << int(c.kind) << ", degree " << c.degree;
        EXPECT_EQ(a.targets, b.targets) << "rule " << int(c.kind) << ", degree " << c.degree;
    }
    using K = synapse_distribution::kind;
    for (const synapse_distribution d : {synapse_distribution{K::uniform, 0.5, 2.0}, synapse_distribution{K::normal, -1.0, 0.7},
                                         synapse_distribution{K::lognormal, 2.0, 1.5}}) {
        std::vector<double> a(100003), b(100003);
        host.draw(d, make_key(5, 0x20001), a);
        device->draw(d, make_key(5, 0x20001), b);
        EXPECT_TRUE(a == b) << "distribution " << int(d.type);
    }
#endif
}
