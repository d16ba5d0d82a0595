// Config parsing (include/ifsim/config.hpp): defaults, units, distributions, overrides, records,
// projections, to_toml round trip, suggestions. Malformed configs are in test_bad_config.cpp.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <string>
#include <vector>

#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {
namespace {

constexpr const char* minimal = R"(
[[population]]
name = "E"
size = 10
model = "lif"
)";

std::string error_of(std::string_view text, const std::vector<std::string>& overrides = {}) {
    try {
        parse_config(text, "test.toml", overrides);
    } catch (const config_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no config_error";
    return {};
}

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

void expect_same(const distribution& a, const distribution& b, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(a.type, b.type);
    EXPECT_TRUE(same_bits(a.a, b.a)) << a.a << " vs " << b.a;
    EXPECT_TRUE(same_bits(a.b, b.b)) << a.b << " vs " << b.b;
    ASSERT_EQ(a.values.size(), b.values.size());
    for (std::size_t i = 0; i < a.values.size(); ++i) EXPECT_TRUE(same_bits(a.values[i], b.values[i])) << i;
}

void expect_same(const std::map<std::string, distribution>& a, const std::map<std::string, distribution>& b,
                 const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (const auto& [k, v] : a) {
        ASSERT_TRUE(b.contains(k)) << what << "." << k;
        expect_same(v, b.at(k), what + "." + k);
    }
}

void expect_same(const synapse_distribution& a, const synapse_distribution& b, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(a.type, b.type);
    EXPECT_TRUE(same_bits(a.a, b.a)) << a.a << " vs " << b.a;
    EXPECT_TRUE(same_bits(a.b, b.b)) << a.b << " vs " << b.b;
}

void expect_same(const projection_spec& a, const projection_spec& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.rule.kind, b.rule.kind);
    EXPECT_TRUE(same_bits(a.rule.p, b.rule.p)) << a.rule.p << " vs " << b.rule.p;
    EXPECT_EQ(a.rule.degree, b.rule.degree);
    EXPECT_EQ(a.rule.autapses, b.rule.autapses);
    EXPECT_EQ(a.rule.multapses, b.rule.multapses);
    EXPECT_EQ(a.synapse, b.synapse);
    expect_same(a.weight, b.weight, "weight");
    expect_same(a.delay, b.delay, "delay");
    EXPECT_TRUE(same_bits(a.tau_syn_ms, b.tau_syn_ms));
    EXPECT_TRUE(same_bits(a.E_rev_mV, b.E_rev_mV));
}

// Field-by-field, doubles compared bit for bit.
void expect_same(const run_spec& a, const run_spec& b) {
    EXPECT_TRUE(same_bits(a.simulation.dt_ms, b.simulation.dt_ms));
    EXPECT_TRUE(same_bits(a.simulation.duration_ms, b.simulation.duration_ms));
    EXPECT_EQ(a.simulation.seed, b.simulation.seed);
    EXPECT_EQ(a.simulation.real, b.simulation.real);
    EXPECT_EQ(a.simulation.timing, b.simulation.timing);
    // threads: not written by to_toml (results and digest do not depend on them)
    ASSERT_EQ(a.populations.size(), b.populations.size());
    for (std::size_t i = 0; i < a.populations.size(); ++i) {
        const auto& p = a.populations[i];
        const auto& q = b.populations[i];
        EXPECT_EQ(p.name, q.name);
        EXPECT_EQ(p.size, q.size);
        EXPECT_EQ(p.model, q.model);
        expect_same(p.params, q.params, p.name + ".params");
        expect_same(p.init, q.init, p.name + ".init");
        expect_same(p.input.I_e, q.input.I_e, "I_e");
        ASSERT_EQ(p.input.steps.time_ms.size(), q.input.steps.time_ms.size());
        for (std::size_t k = 0; k < p.input.steps.time_ms.size(); ++k) {
            EXPECT_TRUE(same_bits(p.input.steps.time_ms[k], q.input.steps.time_ms[k]));
            EXPECT_TRUE(same_bits(p.input.steps.amplitude_pA[k], q.input.steps.amplitude_pA[k]));
        }
        expect_same(p.input.sigma_V, q.input.sigma_V, "sigma_V");
        EXPECT_EQ(p.input.bridge, q.input.bridge);
        expect_same(p.input.sigma_I, q.input.sigma_I, "sigma_I");
        EXPECT_TRUE(same_bits(p.input.tau_I_ms, q.input.tau_I_ms));
        EXPECT_TRUE(same_bits(p.input.poisson_rate_Hz, q.input.poisson_rate_Hz));
        EXPECT_TRUE(same_bits(p.input.poisson_weight, q.input.poisson_weight));
        EXPECT_EQ(p.input.poisson_count, q.input.poisson_count);
        EXPECT_EQ(p.input.poisson_synapse, q.input.poisson_synapse);
        EXPECT_TRUE(same_bits(p.input.poisson_tau_syn_ms, q.input.poisson_tau_syn_ms));
        EXPECT_TRUE(same_bits(p.input.poisson_E_rev_mV, q.input.poisson_E_rev_mV));
    }
    ASSERT_EQ(a.projections.size(), b.projections.size());
    for (std::size_t i = 0; i < a.projections.size(); ++i) {
        SCOPED_TRACE("projection " + std::to_string(i));
        expect_same(a.projections[i], b.projections[i]);
    }
    EXPECT_EQ(a.spikes.populations, b.spikes.populations);
    EXPECT_EQ(a.spikes.windows, b.spikes.windows);
    EXPECT_EQ(a.spikes.neurons, b.spikes.neurons);
    ASSERT_EQ(a.states.size(), b.states.size());
    for (std::size_t i = 0; i < a.states.size(); ++i) {
        EXPECT_EQ(a.states[i].name, b.states[i].name);
        EXPECT_EQ(a.states[i].population, b.states[i].population);
        EXPECT_EQ(a.states[i].variable, b.states[i].variable);
        EXPECT_EQ(a.states[i].projection, b.states[i].projection);
        EXPECT_EQ(a.states[i].neurons, b.states[i].neurons);
        EXPECT_TRUE(same_bits(a.states[i].interval_ms, b.states[i].interval_ms));
        EXPECT_EQ(a.states[i].window, b.states[i].window);
    }
    EXPECT_EQ(a.source_path, b.source_path);
}

// dt may equal the duration (a run of one step); only a longer dt is refused.
TEST(Config, DtUpToTheDurationIsAllowed) {
    const run_spec s = parse_config(minimal, "min.toml", {"simulation.duration=0.1 ms"});
    EXPECT_EQ(s.simulation.duration_ms, s.simulation.dt_ms);
    EXPECT_NE(error_of(minimal, {"simulation.duration=0.09 ms"}).find("is longer than simulation.duration"),
              std::string::npos);
}

TEST(Config, DefaultsAreFilledIn) {
    const run_spec s = parse_config(minimal, "min.toml");
    EXPECT_EQ(s.source_path, "min.toml");
    EXPECT_EQ(s.simulation.dt_ms, 0.1);
    EXPECT_EQ(s.simulation.duration_ms, 1000.0);
    EXPECT_EQ(s.simulation.seed, 12345u);
    EXPECT_EQ(s.simulation.real, precision::single);
    EXPECT_EQ(s.simulation.timing, spike_timing::grid);
    EXPECT_EQ(s.simulation.threads, 0u);
    ASSERT_EQ(s.populations.size(), 1u);
    const auto& p = s.populations[0];
    EXPECT_EQ(p.name, "E");
    EXPECT_EQ(p.size, 10u);
    EXPECT_EQ(p.model, model_kind::lif);
    const neuron_params d;
    ASSERT_EQ(p.params.size(), model_param_names(model_kind::lif).size());
    for (auto name : model_param_names(model_kind::lif)) {
        const auto& dist = p.params.at(std::string(name));
        EXPECT_TRUE(dist.is_constant()) << name;
        for (const auto& f : param_fields)
            if (f.name == name) {
                EXPECT_EQ(dist.a, d.*f.member) << name;
            }
    }
    ASSERT_EQ(p.init.size(), 1u);  // V_m only: no adaptation, no OU input
    EXPECT_EQ(p.init.at("V_m").a, d.E_L);
    EXPECT_EQ(p.input.I_e.a, 0.0);
    EXPECT_TRUE(p.input.steps.time_ms.empty());
    EXPECT_EQ(p.input.sigma_V.a, 0.0);
    EXPECT_TRUE(p.input.bridge);
    EXPECT_EQ(p.input.sigma_I.a, 0.0);
    EXPECT_EQ(p.input.tau_I_ms, 5.0);
    EXPECT_EQ(p.input.poisson_count, 0u);
    EXPECT_TRUE(s.spikes.populations.empty());
    EXPECT_TRUE(s.states.empty());
}

TEST(Config, ModelDefaultsPerModel) {
    for (auto m : all_models) {
        const std::string text = "[[population]]\nname = \"P\"\nsize = 3\nmodel = \"" +
                                 std::string(model_name(m)) + "\"\n";
        const run_spec s = parse_config(text, "m.toml");
        const auto& p = s.populations[0];
        EXPECT_EQ(p.params.size(), model_param_names(m).size()) << model_name(m);
        const neuron_params full = with_model_defaults({}, m);
        if (p.params.contains("V_peak")) {
            EXPECT_EQ(p.params.at("V_peak").a, full.V_peak) << model_name(m);
        }
        EXPECT_EQ(p.init.contains("w"), has_adaptation(m));
    }
}

TEST(Config, UnitsAreConverted) {
    const run_spec s = parse_config(R"(
[simulation]
dt = "50 us"
duration = "2 s"
seed = 4294967295
precision = "double"
spike_timing = "interpolated"
threads = 4
[[population]]
name = "E"
size = 2
model = "qif"
params = { C_m = "0.25 nF", k = "0.04 pA/mV^2", V_c = "-0.045 V", t_ref = 2, V_peak = "30 mV" }
input = { poisson = { rate = "1.5 kHz", weight = "-100 uV", count = 80 }, ou = { sigma_I = "0.05 nA", tau_I = "5000 us" } }
)",
                                    "u.toml");
    EXPECT_EQ(s.simulation.dt_ms, 0.05);
    EXPECT_EQ(s.simulation.duration_ms, 2000.0);
    EXPECT_EQ(s.simulation.seed, 4294967295u);
    EXPECT_EQ(s.simulation.real, precision::double_);
    EXPECT_EQ(s.simulation.timing, spike_timing::interpolated);
    EXPECT_EQ(s.simulation.threads, 4u);
    const auto& p = s.populations[0];
    EXPECT_EQ(p.params.at("C_m").a, 250.0);
    EXPECT_EQ(p.params.at("k").a, 0.04);
    EXPECT_EQ(p.params.at("V_c").a, -45.0);
    EXPECT_EQ(p.params.at("t_ref").a, 2.0);
    EXPECT_EQ(p.input.poisson_rate_Hz, 1500.0);
    EXPECT_EQ(p.input.poisson_weight, -0.1);
    EXPECT_EQ(p.input.poisson_count, 80u);
    EXPECT_EQ(p.input.sigma_I.a, 50.0);
    EXPECT_EQ(p.input.tau_I_ms, 5.0);
    EXPECT_EQ(p.init.at("I_noise").a, 0.0);  // OU input on: I_noise gets its default
}

TEST(Config, EveryDistributionForm) {
    const run_spec s = parse_config(R"(
[[population]]
name = "E"
size = 4
model = "lif"
[population.params]
V_th = { uniform = ["-52 mV", "-48 mV"] }
C_m = { linspace = ["100 pF", "0.4 nF"] }
g_L = { normal = { mean = "10 nS", std = "1 nS" } }
t_ref = { array = [1, 2, "3 ms", "0.004 s"] }
E_L = [-70, -71, -72, "-73 mV"]
V_reset = -60
[population.init]
V_m = { linspace = [-70, -60] }
[population.input]
I_e = { normal = ["0.3 nA", "20 pA"] }
noise = { sigma_V = { uniform = [0, "5 mV"] }, bridge = false }
)",
                                    "d.toml");
    const auto& p = s.populations[0];
    using K = distribution::kind;
    EXPECT_EQ(p.params.at("V_th").type, K::uniform);
    EXPECT_EQ(p.params.at("V_th").a, -52.0);
    EXPECT_EQ(p.params.at("V_th").b, -48.0);
    EXPECT_EQ(p.params.at("C_m").type, K::linspace);
    EXPECT_EQ(p.params.at("C_m").a, 100.0);
    EXPECT_EQ(p.params.at("C_m").b, 400.0);
    EXPECT_EQ(p.params.at("g_L").type, K::normal);
    EXPECT_EQ(p.params.at("g_L").a, 10.0);
    EXPECT_EQ(p.params.at("g_L").b, 1.0);
    EXPECT_EQ(p.params.at("t_ref").type, K::array);
    EXPECT_EQ(p.params.at("t_ref").values, (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(p.params.at("E_L").type, K::array);
    EXPECT_EQ(p.params.at("E_L").values, (std::vector<double>{-70, -71, -72, -73}));
    EXPECT_EQ(p.params.at("V_reset").type, K::constant);
    EXPECT_EQ(p.params.at("V_reset").a, -60.0);
    EXPECT_EQ(p.init.at("V_m").type, K::linspace);
    EXPECT_EQ(p.input.I_e.type, K::normal);  // normal = [mean, std], as a per-synapse value may be written
    EXPECT_EQ(p.input.I_e.a, 300.0);
    EXPECT_EQ(p.input.I_e.b, 20.0);
    const std::string one = std::string(minimal) + "params = { V_th = { normal = [\"-50 mV\"] } }\n";
    std::string m = error_of(one);
    EXPECT_NE(m.find("population[0].params.V_th.normal = [\"-50 mV\"]: expected normal = [mean, std] or { mean = ..., std = ... }"),
              std::string::npos) << m;
    m = error_of(std::string(minimal) + "params = { V_th = { normal = [\"-50 mV\", \"-1 mV\"] } }\n");
    EXPECT_NE(m.find("params.V_th.normal[1] = \"-1 mV\": a standard deviation must be >= 0"), std::string::npos) << m;
    EXPECT_EQ(p.input.sigma_V.type, K::uniform);
    EXPECT_EQ(p.input.sigma_V.b, 5.0);
    EXPECT_FALSE(p.input.bridge);
}

TEST(Config, InitialVoltageFollowsPerNeuronRestingPotential) {
    const run_spec s = parse_config(R"(
[[population]]
name = "E"
size = 3
model = "lif"
params = { E_L = [-70, -65, -60], V_th = -40, V_reset = -75 }
)",
                                    "i.toml");
    const auto& v = s.populations[0].init.at("V_m");
    EXPECT_EQ(v.type, distribution::kind::array);
    EXPECT_EQ(v.values, (std::vector<double>{-70, -65, -60}));
}

TEST(Config, PeakDefaultFollowsThresholdParameters) {
    const run_spec s = parse_config(R"(
[[population]]
name = "A"
size = 5
model = "adex"
params = { V_T = { linspace = ["-55 mV", "-45 mV"] }, Delta_T = "1 mV" }
[[population]]
name = "B"
size = 2
model = "eif"
params = { V_T = [-50, -49] }
)",
                                    "p.toml");
    const auto& a = s.populations[0].params.at("V_peak");
    EXPECT_EQ(a.type, distribution::kind::linspace);
    EXPECT_EQ(a.a, -50.0);
    EXPECT_EQ(a.b, -40.0);
    const auto& b = s.populations[1].params.at("V_peak");
    EXPECT_EQ(b.type, distribution::kind::array);
    EXPECT_EQ(b.values, (std::vector<double>{-40, -39}));
    // Random V_T leaves no sensible per-neuron default: V_peak must be given.
    const std::string m = error_of(R"(
[[population]]
name = "A"
size = 5
model = "eif"
params = { V_T = { uniform = ["-55 mV", "-45 mV"] } }
)");
    EXPECT_NE(m.find("V_peak"), std::string::npos) << m;
}

TEST(Config, DistributionsAreCheckedAgainstTheModel) {
    // The upper end of a uniform V_reset meets the lower end of V_th.
    const std::string m = error_of(R"(
[[population]]
name = "E"
size = 5
model = "lif"
params = { V_reset = { uniform = [-60, -49] }, V_th = { uniform = [-50, -45] }, t_ref = 0 }
)");
    EXPECT_NE(m.find("V_reset = -49"), std::string::npos) << m;
    EXPECT_NE(m.find("population[0].params"), std::string::npos) << m;
    // A linspace of C_m that crosses zero.
    const std::string c = error_of(R"(
[[population]]
name = "E"
size = 5
model = "lif"
params = { C_m = { linspace = [100, -100] } }
)");
    EXPECT_NE(c.find("C_m = -100"), std::string::npos) << c;
    EXPECT_NE(c.find("neuron 4"), std::string::npos) << c;
}

TEST(Config, Records) {
    const run_spec s = parse_config(R"(
[simulation]
dt = "0.1 ms"
[[population]]
name = "E"
size = 100
model = "alif"
[[population]]
name = "I"
size = 20
model = "lif"
input = { ou = { sigma_I = "10 pA" } }
[[record]]
spikes = ["I"]
[[record]]
spikes = "all"
[[record]]
state = "V_m"
population = "E"
[[record]]
state = "w"
population = "E"
neurons = { range = [10, 14] }
interval = "0.5 ms"
[[record]]
state = "I_noise"
population = "I"
neurons = [3, 1, 2]
interval = "0.3 ms"
name = "noise-I"
)",
                                    "r.toml");
    EXPECT_EQ(s.spikes.populations, (std::vector<std::string>{"E", "I"}));  // merged, in population order
    EXPECT_TRUE(s.spikes.windows.at(0).whole_run() && s.spikes.windows.at(1).whole_run());
    ASSERT_EQ(s.states.size(), 3u);
    EXPECT_EQ(s.states[0].name, "E_V_m");
    EXPECT_EQ(s.states[0].variable, "V_m");
    EXPECT_EQ(s.states[0].neurons, (std::vector<std::uint64_t>{0}));
    EXPECT_EQ(s.states[0].interval_ms, 0.1);
    EXPECT_EQ(s.states[1].name, "E_w");
    EXPECT_EQ(s.states[1].neurons, (std::vector<std::uint64_t>{10, 11, 12, 13}));
    EXPECT_EQ(s.states[1].interval_ms, 0.5);
    EXPECT_EQ(s.states[2].name, "noise-I");
    EXPECT_EQ(s.states[2].neurons, (std::vector<std::uint64_t>{3, 1, 2}));
    // 0.3 / 0.1 is 2.9999999999999996 in doubles: a whole number within the tolerance.
    EXPECT_EQ(s.states[2].interval_ms, 0.3);
}

// A population's table written at the top level ([params] for [population.params]) says where it goes.
TEST(Config, APopulationTableAtTheTopLevelSaysWhereItGoes) {
    for (const std::string table : {"params", "init", "input"}) {
        const std::string m = error_of(std::string(minimal) + "\n[" + table + "]\nx = 1\n");
        EXPECT_NE(m.find("unknown key '" + table + "'; a population's"), std::string::npos) << m;
        EXPECT_NE(m.find("[population." + table + "], after its [[population]]"), std::string::npos) << m;
    }
}

// NEST's model names say which model and synapse they are here; a misspelling still gets the nearest.
TEST(Config, NestModelNamesSayWhatTheyAreHere) {
    const auto with_model = [](const std::string& model) {
        std::string text = minimal;
        text.replace(text.find("\"lif\""), 5, "\"" + model + "\"");
        return error_of(text);
    };
    std::string m = with_model("iaf_psc_exp");
    EXPECT_NE(m.find("population[0].model = \"iaf_psc_exp\": expected one of \"lif\""), std::string::npos) << m;
    EXPECT_NE(m.find("NEST's iaf_psc_exp is model = \"lif\" with synapse = \"exp_current\" projections"), std::string::npos) << m;
    m = with_model("aeif_cond_exp");
    EXPECT_NE(m.find("model = \"adex\" with synapse = \"exp_conductance\""), std::string::npos) << m;
    m = with_model("adx");
    EXPECT_NE(m.find("did you mean 'adex'?"), std::string::npos) << m;
}

// neurons = "all", as a NEST multimeter on every neuron: a state record of each (written back as
// a range), and a spike record's default. Any other string is an error naming what is allowed.
TEST(Config, RecordNeuronsAll) {
    const std::string base = std::string(minimal) + "[[record]]\nspikes = [\"E\"]\nneurons = \"all\"\n"
                                                    "[[record]]\nstate = \"V_m\"\npopulation = \"E\"\nneurons = ";
    const run_spec s = parse_config(base + "\"all\"\n", "all.toml");
    ASSERT_EQ(s.states.size(), 1u);
    EXPECT_EQ(s.states[0].neurons, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_TRUE(s.spikes.neurons.at(0).all());
    EXPECT_NE(to_toml(s).find("neurons = { range = [0, 10] }"), std::string::npos) << to_toml(s);
    const std::string m = error_of(base + "\"some\"\n");
    EXPECT_NE(m.find("record[1].neurons = \"some\": expected \"all\", a non-empty list of neuron indices"), std::string::npos)
        << m;
}

TEST(Config, Overrides) {
    const std::string base = std::string(minimal) + R"(
[[record]]
state = "V_m"
population = "E"
[[record]]
spikes = ["E"]
)";
    const run_spec s = parse_config(base, "o.toml",
                                    {"simulation.dt=0.05 ms",                      // string fallback
                                     "simulation.duration = \"2 s\"",              // quoted TOML string
                                     "simulation.seed=7",                          // integer
                                     "population.E.size=500",
                                     "population.E.params.V_th=-52 mV",
                                     "population.0.input.I_e={ linspace = [\"0 pA\", \"500 pA\"] }",
                                     "population.E.input.noise.bridge=false",
                                     "record.E_V_m.interval=2 ms",
                                     "record.E_V_m.neurons=[1, 2]",
                                     "record.1.spikes=all"});
    EXPECT_EQ(s.simulation.dt_ms, 0.05);
    EXPECT_EQ(s.simulation.duration_ms, 2000.0);
    EXPECT_EQ(s.simulation.seed, 7u);
    const auto& p = s.populations[0];
    EXPECT_EQ(p.size, 500u);
    EXPECT_EQ(p.params.at("V_th").a, -52.0);
    EXPECT_EQ(p.input.I_e.type, distribution::kind::linspace);
    EXPECT_EQ(p.input.I_e.b, 500.0);
    EXPECT_FALSE(p.input.bridge);
    EXPECT_EQ(s.states.at(0).interval_ms, 2.0);
    EXPECT_EQ(s.states.at(0).neurons, (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(s.spikes.populations, (std::vector<std::string>{"E"}));

    // Renaming applies to later overrides' selectors.
    const run_spec r = parse_config(minimal, "o.toml", {"population.E.name=F", "population.F.size=3"});
    EXPECT_EQ(r.populations[0].name, "F");
    EXPECT_EQ(r.populations[0].size, 3u);
}

TEST(Config, BadOverridesAreExplained) {
    std::string m = error_of(minimal, {"population.E.parms.V_th=-52 mV"});
    EXPECT_NE(m.find("unknown key 'population[0].parms'"), std::string::npos) << m;
    EXPECT_NE(m.find("did you mean 'params'?"), std::string::npos) << m;
    EXPECT_NE(m.find("test.toml"), std::string::npos) << m;

    m = error_of(minimal, {"population.Ex.size=5"});
    EXPECT_NE(m.find("no population is named 'Ex'; did you mean 'E'?"), std::string::npos) << m;

    m = error_of(minimal, {"simulation.dt"});
    EXPECT_NE(m.find("expected KEY=VALUE"), std::string::npos) << m;

    m = error_of(minimal, {"simulaton.dt=1"});
    EXPECT_NE(m.find("did you mean 'simulation'?"), std::string::npos) << m;

    m = error_of(minimal, {"population.E.params.V_th.uniform=[1, 2]"});
    EXPECT_NE(m.find("holds a value"), std::string::npos) << m;

    m = error_of(minimal, {"population.E=1"});
    EXPECT_NE(m.find("population.<name or index>.<key>"), std::string::npos) << m;

    // A bad value from an override is validated like the file and the message says where it came from.
    m = error_of(minimal, {"population.E.params.V_th=5 ms"});
    EXPECT_NE(m.find("population[0].params.V_th"), std::string::npos) << m;
    EXPECT_NE(m.find("\"5 ms\""), std::string::npos) << m;
    EXPECT_NE(m.find("--set population.E.params.V_th=5 ms"), std::string::npos) << m;

    // A parameter the model does not read.
    m = error_of(minimal, {"population.E.params.V_T=-50"});
    EXPECT_NE(m.find("not a parameter of model 'lif'"), std::string::npos) << m;

    // A config whose table is not one is at fault itself: told with its line, not blamed on the
    // override (which --threads or --seed may have made).
    m = error_of("simulation = 5\n" + std::string(minimal), {"simulation.threads=2"});
    EXPECT_NE(m.find("test.toml:1:14: simulation = 5: expected a table (simulation = { ... }, or a [simulation] section)"), std::string::npos) << m;
    EXPECT_EQ(m.find("--set"), std::string::npos) << m;
    // The section form of a table under [[population]] has no element index (it used to suggest
    // [population[0].input.noise], which TOML rejects).
    m = error_of(minimal, {"population.E.input.noise=3"});
    EXPECT_NE(m.find("or a [population.input.noise] section"), std::string::npos) << m;
}

// Text from the config reaches a message escaped and cut: a NUL cannot end it early, a long value
// cannot flood it.
TEST(Config, MessagesShowControlCharactersAndCutLongValues) {
    std::string m = error_of("[[population]]\nname = \"E\\u0000X\"\nsize = 1\nmodel = \"lif\"\n");
    EXPECT_NE(m.find("population[0].name = \"E\\u0000X\": a population name is letters"), std::string::npos) << m;
    EXPECT_EQ(m.find('\0'), std::string::npos);

    m = error_of("[[population]]\nname = \"E\"\nsize = 1\nmodel = \"" + std::string(5000, 'x') + "\"\n");
    EXPECT_NE(m.find("model = \"" + std::string(60, 'x') + "... (5000 bytes)\""), std::string::npos) << m;
    EXPECT_LT(m.size(), 400u) << m;

    m = error_of("[simulation]\n\"d\\tt\" = 1\n" + std::string(minimal));
    EXPECT_NE(m.find("unknown key 'simulation.d\\tt'"), std::string::npos) << m;
}

// Records of the same neurons of two populations (or a population and a generator) stay two
// records in the resolved config: merged, their indices read as one population's and the
// resolved config was refused (ifsim stats exited 2; found by a review). Whole populations with
// one window merge.
TEST(Config, SpikeRecordsOfSomeNeuronsRoundTripApart) {
    const std::string text = R"(
[[population]]
name = "A"
size = 10
model = "lif"
[[population]]
name = "B"
size = 10
model = "lif"
[[generator]]
name = "G"
size = 10
rate = "5 Hz"
[[record]]
spikes = "A"
neurons = { range = [0, 5] }
[[record]]
spikes = "B"
neurons = { range = [0, 5] }
[[record]]
spikes = "G"
neurons = { range = [0, 5] }
[[record]]
spikes = ["G", "A"]
start = "20 ms"
)";
    EXPECT_THROW(parse_config(text, "<test>"), config_error);  // A twice, with two windows
    const std::string ok = text.substr(0, text.rfind("[[record]]"));
    const run_spec spec = parse_config(ok, "<test>");
    const std::string resolved = to_toml(spec);
    const run_spec back = parse_config(resolved, "<test>");
    EXPECT_EQ(back.spikes.populations, spec.spikes.populations);
    EXPECT_EQ(back.spikes.neurons, spec.spikes.neurons);
    EXPECT_EQ(to_toml(back), resolved);
    const std::string whole = "[[population]]\nname = \"A\"\nsize = 3\nmodel = \"lif\"\n[[population]]\nname = \"B\"\n"
                              "size = 3\nmodel = \"lif\"\n[[record]]\nspikes = \"all\"\n";
    const std::string merged = to_toml(parse_config(whole, "<test>"));
    EXPECT_NE(merged.find("spikes = [\"A\", \"B\"]"), std::string::npos) << merged;
}

TEST(Config, RoundTripThroughToToml) {
    const std::string text = R"(
[simulation]
dt = "0.025 ms"
duration = "0.3 s"
seed = 99
precision = "double"
spike_timing = "interpolated"
threads = 2
[[population]]
name = "E"
size = 12
model = "adex"
params.C_m = { linspace = ["100 pF", "0.3 nF"] }
params.V_T = [-50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40,
              -39.5]
params.a = { normal = { mean = "2 nS", std = "0.1 nS" } }
params.b = { uniform = ["10 pA", "30 pA"] }
params.tau_w = "0.1 s"
init = { V_m = { uniform = [-70, -60] }, w = "5 pA" }
[population.input]
I_e = "0.1 nA"
steps = { times = ["100 ms", "200.5 ms"], amplitudes = [0.3333333333333333, "0 pA"] }
noise = { sigma_V = "2.5 mV", bridge = false }
ou = { sigma_I = { normal = { mean = "20 pA", std = "2 pA" } }, tau_I = "3 ms" }
poisson = { rate = "8 Hz", weight = "0.2 mV", count = 100 }
[[population]]
name = "I"
size = 3
model = "qif"
params = { k = 0.0333333333333333, V_c = -45.1 }
[[record]]
spikes = ["I"]
neurons = [2, 0]
start = "0.1 s"
[[record]]
spikes = "E"
neurons = { range = [2, 9] }
stop = "250 ms"
[[record]]
state = "w"
population = "E"
neurons = { range = [0, 12] }
interval = "0.1 ms"
start = "2.5 ms"
stop = "1 s"
[[record]]
state = "I_noise"
population = "E"
neurons = [5, 2]
name = "ou"
[[record]]
state = "V_m"
population = "I"
neurons = [0, 1]
)";
    const run_spec s = parse_config(text, "rt.toml");
    const std::string written = to_toml(s);
    SCOPED_TRACE(written);
    const run_spec back = parse_config(written, "rt.toml");
    expect_same(s, back);
    EXPECT_EQ(to_toml(back), written);
    EXPECT_EQ(s.simulation.threads, 2u);
    EXPECT_EQ(back.simulation.threads, 0u);  // left out: any thread count gives the same run

    // Defaults only: the written file spells every default out and reads back the same.
    const run_spec m = parse_config(minimal, "min.toml");
    const std::string w = to_toml(m);
    EXPECT_NE(w.find("dt = \"0.1 ms\""), std::string::npos) << w;
    EXPECT_NE(w.find("C_m     = \"200 pF\""), std::string::npos) << w;
    expect_same(m, parse_config(w, "min.toml"));
}

TEST(Config, ErrorsNameFileLineKeyAndValue) {
    const std::string m = error_of("[[population]]\nname = \"E\"\nsize = \"ten\"\nmodel = \"lif\"\n");
    EXPECT_NE(m.find("test.toml:3:"), std::string::npos) << m;
    EXPECT_NE(m.find("population[0].size"), std::string::npos) << m;
    EXPECT_NE(m.find("\"ten\""), std::string::npos) << m;
    EXPECT_NE(m.find("integer from 1 to 4294967296"), std::string::npos) << m;
}

TEST(Config, LoadConfigReadsFilesAndNamesUnreadableOnes) {
    const std::filesystem::path good = std::filesystem::path(IFSIM_TEST_CONFIG_DIR) / "good";
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(good)) {
        SCOPED_TRACE(entry.path().string());
        const run_spec s = load_config(entry.path());
        EXPECT_EQ(s.source_path, entry.path().string());
        expect_same(s, parse_config(to_toml(s), s.source_path));
        ++count;
    }
    EXPECT_GE(count, 1);
    try {
        load_config("/nonexistent/dir/missing.toml");
        FAIL() << "no config_error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/missing.toml"), std::string::npos) << e.what();
    }
    EXPECT_THROW(load_config(good), config_error);  // a directory
}

// ---- [[projection]] ----

constexpr const char* network_pops = R"(
[[population]]
name = "E"
size = 8
model = "lif"
[[population]]
name = "I"
size = 4
model = "lif"
[[population]]
name = "F"
size = 4
model = "lif"
)";

constexpr const char* network = R"(
[[projection]]
source = "E"
target = "I"
rule = { fixed_indegree = 3 }
weight = "0.1 mV"

[[projection]]
source = "E"
target = "E"
rule = { pairwise_bernoulli = 0.25, autapses = false }
synapse = "exp_current"
weight = { uniform = ["10 pA", "0.02 nA"] }
delay = { normal = ["1.5 ms", "250 us"] }
tau_syn = "5 ms"

[[projection]]
source = "I"
target = "E"
rule = { fixed_outdegree = 4, multapses = false }
synapse = "exp_conductance"
weight = { lognormal = { mean = "2 nS", std = "500 pS" } }
delay = { lognormal = ["2 ms", "0.5 ms"] }
tau_syn = "0.01 s"
E_rev = "-80 mV"

[[projection]]
source = "I"
target = "F"
rule = "one_to_one"
weight = -0.25

[[projection]]
source = "F"
target = "F"
rule = { one_to_one = true }
synapse = "exp_conductance"
weight = { normal = { mean = "1 nS", std = 0 } }

[[projection]]
source = "E"
target = "I"
rule = { all_to_all = true, autapses = false, multapses = false }
synapse = "exp_current"
weight = { normal = ["-20 pA", "5 pA"] }
delay = { uniform = ["1 ms", "3 ms"] }

[[projection]]
source = "I"
target = "I"
rule = { fixed_total = 12, multapses = false, autapses = false }
weight = { uniform = ["-0.5 mV", "0 mV"] }
delay = "0.1 ms"

[[projection]]
source = "E"
target = "F"
rule = "all_to_all"
weight = 0
delay = "2 ms"

[[projection]]
source = "F"
target = "E"
rule = { pairwise_bernoulli = 1, autapses = true, multapses = true }
weight = { lognormal = ["-0.2 mV", "0.05 mV"] }

[[projection]]
source = "F"
target = "I"
rule = { fixed_indegree = 0 }
synapse = "exp_conductance"
weight = { uniform = ["0 nS", "1 nS"] }
)";

void expect_rule(const connection_rule& r, rule_kind kind, double p, std::uint64_t degree, bool autapses,
                 bool multapses) {
    EXPECT_EQ(r.kind, kind);
    EXPECT_EQ(r.p, p);
    EXPECT_EQ(r.degree, degree);
    EXPECT_EQ(r.autapses, autapses);
    EXPECT_EQ(r.multapses, multapses);
}

void expect_dist(const synapse_distribution& d, synapse_distribution::kind type, double a, double b) {
    EXPECT_EQ(d.type, type);
    EXPECT_EQ(d.a, a);
    EXPECT_EQ(d.b, b);
}

TEST(Config, ProjectionsEveryRuleAndSynapse) {
    const run_spec s = parse_config(std::string(network_pops) + network, "net.toml");
    using R = rule_kind;
    using D = synapse_distribution::kind;
    using S = synapse_kind;
    ASSERT_EQ(s.projections.size(), 10u);
    const auto& p = s.projections;

    // Defaults: delta, 1 ms delay, tau_syn 2 ms, E_rev 0 mV, autapses and multapses on.
    EXPECT_EQ(p[0].source, "E");
    EXPECT_EQ(p[0].target, "I");
    expect_rule(p[0].rule, R::fixed_indegree, 0, 3, true, true);
    EXPECT_EQ(p[0].synapse, S::delta);
    expect_dist(p[0].weight, D::constant, 0.1, 0);
    expect_dist(p[0].delay, D::constant, 1.0, 0);
    EXPECT_EQ(p[0].tau_syn_ms, 2.0);
    EXPECT_EQ(p[0].E_rev_mV, 0.0);

    EXPECT_EQ(p[1].source, "E");
    EXPECT_EQ(p[1].target, "E");
    expect_rule(p[1].rule, R::pairwise_bernoulli, 0.25, 0, false, true);
    EXPECT_EQ(p[1].synapse, S::exp_current);
    expect_dist(p[1].weight, D::uniform, 10.0, 20.0);
    expect_dist(p[1].delay, D::normal, 1.5, 0.25);
    EXPECT_EQ(p[1].tau_syn_ms, 5.0);
    EXPECT_EQ(p[1].E_rev_mV, 0.0);

    EXPECT_EQ(p[2].source, "I");
    EXPECT_EQ(p[2].target, "E");
    expect_rule(p[2].rule, R::fixed_outdegree, 0, 4, true, false);
    EXPECT_EQ(p[2].synapse, S::exp_conductance);
    expect_dist(p[2].weight, D::lognormal, 2.0, 0.5);
    expect_dist(p[2].delay, D::lognormal, 2.0, 0.5);
    EXPECT_EQ(p[2].tau_syn_ms, 10.0);
    EXPECT_EQ(p[2].E_rev_mV, -80.0);

    EXPECT_EQ(p[3].source, "I");
    EXPECT_EQ(p[3].target, "F");
    expect_rule(p[3].rule, R::one_to_one, 0, 0, true, true);
    EXPECT_EQ(p[3].synapse, S::delta);
    expect_dist(p[3].weight, D::constant, -0.25, 0);
    expect_dist(p[3].delay, D::constant, 1.0, 0);

    EXPECT_EQ(p[4].source, "F");
    EXPECT_EQ(p[4].target, "F");
    expect_rule(p[4].rule, R::one_to_one, 0, 0, true, true);
    EXPECT_EQ(p[4].synapse, S::exp_conductance);
    expect_dist(p[4].weight, D::normal, 1.0, 0.0);
    EXPECT_EQ(p[4].tau_syn_ms, 2.0);
    EXPECT_EQ(p[4].E_rev_mV, 0.0);

    expect_rule(p[5].rule, R::all_to_all, 0, 0, false, false);
    EXPECT_EQ(p[5].synapse, S::exp_current);
    expect_dist(p[5].weight, D::normal, -20.0, 5.0);
    expect_dist(p[5].delay, D::uniform, 1.0, 3.0);
    EXPECT_EQ(p[5].tau_syn_ms, 2.0);

    EXPECT_EQ(p[6].source, "I");
    EXPECT_EQ(p[6].target, "I");
    expect_rule(p[6].rule, R::fixed_total, 0, 12, false, false);  // 4 * 4 - 4 = 12 pairs: all
    EXPECT_EQ(p[6].synapse, S::delta);
    expect_dist(p[6].weight, D::uniform, -0.5, 0.0);
    expect_dist(p[6].delay, D::constant, 0.1, 0);

    expect_rule(p[7].rule, R::all_to_all, 0, 0, true, true);
    expect_dist(p[7].weight, D::constant, 0.0, 0);  // a weight of exactly 0 is allowed
    expect_dist(p[7].delay, D::constant, 2.0, 0);

    expect_rule(p[8].rule, R::pairwise_bernoulli, 1.0, 0, true, true);
    expect_dist(p[8].weight, D::lognormal, -0.2, 0.05);

    expect_rule(p[9].rule, R::fixed_indegree, 0, 0, true, true);
    EXPECT_EQ(p[9].synapse, S::exp_conductance);
    expect_dist(p[9].weight, D::uniform, 0.0, 1.0);

    // No [[projection]], or an empty list: no projections.
    EXPECT_TRUE(parse_config(network_pops, "n.toml").projections.empty());
    EXPECT_TRUE(parse_config(std::string("projection = []\n") + network_pops, "n.toml").projections.empty());
}

// input.poisson takes a projection's synapse keys: its weight's unit follows the synapse, tau_syn
// and E_rev are for the kinds that have them, and a channel only it feeds can be recorded.
TEST(Config, PoissonInputIntoASynapticChannel) {
    const auto with_poisson = [](const std::string& poisson) {
        return std::string(minimal) + "input = { poisson = { rate = \"8 Hz\", count = 100, " + poisson + " } }\n";
    };
    const run_spec s =
        parse_config(with_poisson("weight = \"87.8 pA\", synapse = \"exp_current\", tau_syn = \"0.5 ms\"") +
                         "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\n",
                     "p.toml");
    const input_spec& in = s.populations[0].input;
    EXPECT_EQ(in.poisson_synapse, synapse_kind::exp_current);
    EXPECT_EQ(in.poisson_weight, 87.8);
    EXPECT_EQ(in.poisson_tau_syn_ms, 0.5);
    EXPECT_EQ(s.states.at(0).projection, state_record::poisson_input_channel);
    expect_same(s, parse_config(to_toml(s), "p.toml"));
    const run_spec g = parse_config(
        with_poisson("weight = \"2 nS\", synapse = \"exp_conductance\", tau_syn = \"5 ms\", E_rev = \"-80 mV\""), "g.toml");
    EXPECT_EQ(g.populations[0].input.poisson_E_rev_mV, -80.0);
    expect_same(g, parse_config(to_toml(g), "g.toml"));
    EXPECT_EQ(parse_config(with_poisson("weight = 0.5"), "d.toml").populations[0].input.poisson_synapse, synapse_kind::delta);

    const std::pair<std::string, std::string> bad[] = {
        {"weight = \"1 mV\", synapse = \"exp_current\"",
         "population[0].input.poisson.weight = \"1 mV\": a voltage (mV), but synapse = \"exp_current\" takes a weight in pA"},
        {"weight = \"-1 nS\", synapse = \"exp_conductance\"", "conductances and must be >= 0 nS"},
        {"weight = 1, tau_syn = \"2 ms\"", "input.poisson.tau_syn = \"2 ms\": a delta synapse has no time constant"},
        {"weight = 1, synapse = \"exp_current\", E_rev = 0",
         "only synapse = \"exp_conductance\" has a reversal potential; population[0].input.poisson has synapse = "
         "\"exp_current\""},
        {"weight = 1, synapse = \"exp_current\", tau_syn = 0", "tau_syn must be a time > 0 ms"},
        {"weight = 1, synapse = \"alpha\"", "input.poisson.synapse"},
        {"weight = \"2e6 pA\", synapse = \"exp_current\"", "must be within +-1e6 pA"},
    };
    for (const auto& [keys, expected] : bad) {
        const std::string m = error_of(with_poisson(keys));
        EXPECT_NE(m.find(expected), std::string::npos) << keys << "\n-> " << m;
    }
    // projection = "input.poisson" names its channel where the population has others of the kind.
    const std::string two = with_poisson("weight = \"87.8 pA\", synapse = \"exp_current\", tau_syn = \"0.5 ms\"") +
                            "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = \"all_to_all\"\n"
                            "synapse = \"exp_current\"\nweight = 1\ntau_syn = \"2 ms\"\n";
    std::string m = error_of(two + "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\n");
    EXPECT_NE(m.find("choose one with projection = <index or name> or projection = \"input.poisson\""), std::string::npos) << m;
    const run_spec chosen =
        parse_config(two + "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\nprojection = \"input.poisson\"\n", "c.toml");
    EXPECT_EQ(chosen.states.at(0).projection, state_record::poisson_input_channel);
    EXPECT_EQ(chosen.states.at(0).name, "E_I_syn_poisson");
    expect_same(chosen, parse_config(to_toml(chosen), "c.toml"));
    EXPECT_EQ(to_toml(parse_config(to_toml(chosen), "c.toml")), to_toml(chosen));
    m = error_of(two + "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = \"all_to_all\"\n"
                       "synapse = \"exp_conductance\"\nweight = 1\n"
                       "[[record]]\nstate = \"g_syn\"\npopulation = \"E\"\nprojection = \"input.poisson\"\n");
    EXPECT_NE(m.find("has input.poisson.synapse = \"exp_current\", and g_syn is the state of exp_conductance ones"),
              std::string::npos) << m;
    m = error_of(std::string(minimal) + "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = \"all_to_all\"\n"
                                        "synapse = \"exp_current\"\nweight = 1\n"
                                        "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\nprojection = \"input.poisson\"\n");
    EXPECT_NE(m.find("population 'E' has no input.poisson into a synaptic channel"), std::string::npos) << m;
    m = error_of(two + "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\nprojection = \"poisson\"\n");
    EXPECT_NE(m.find("projection = \"poisson\": no [[projection]] has this name; expected a projection's name or index, "
                     "or \"input.poisson\""),
              std::string::npos) << m;
    // Without a channel of the kind there is nothing to record.
    m = error_of(with_poisson("weight = 0.5") + "[[record]]\nstate = \"I_syn\"\npopulation = \"E\"\n");
    EXPECT_NE(m.find("population 'E' receives no exp_current synapses (no [[projection]] onto it, and no input.poisson"),
              std::string::npos) << m;
}

TEST(Config, ProjectionsRoundTripThroughToToml) {
    const run_spec s = parse_config(std::string(network_pops) + network, "net.toml");
    const std::string written = to_toml(s);
    SCOPED_TRACE(written);
    EXPECT_NE(written.find("rule = { fixed_indegree = 3, autapses = true, multapses = true }"), std::string::npos);
    EXPECT_NE(written.find("delay = \"1 ms\""), std::string::npos);
    const run_spec back = parse_config(written, "net.toml");
    expect_same(s, back);
    EXPECT_EQ(to_toml(back), written);

    // Awkward numbers read back bit for bit.
    const run_spec odd = parse_config(std::string(network_pops) + R"(
[[projection]]
source = "E"
target = "I"
rule = { pairwise_bernoulli = 0.1234567890123456789 }
synapse = "exp_current"
weight = { normal = [-0.3333333333333333, 1e-7] }
delay = { uniform = ["0.1 ms", "0.30000000000000004 ms"] }
tau_syn = 3.3333333333333335
[[projection]]
source = "I"
target = "E"
rule = { pairwise_bernoulli = 1e-9 }
synapse = "exp_conductance"
weight = "1e-280 nS"
E_rev = -77.77777777777777
)",
                                      "odd.toml");
    expect_same(odd, parse_config(to_toml(odd), "odd.toml"));
}

TEST(Config, ProjectionOverrides) {
    const std::string text = std::string(network_pops) + network;
    const run_spec s = parse_config(text, "o.toml",
                                    {"projection.0.weight=0.2 mV",
                                     "projection.0.rule.fixed_indegree=5",
                                     "projection.0.rule.multapses=false",
                                     "projection.3.rule.autapses=false",  // expands rule = "one_to_one"
                                     "projection.1.delay={ uniform = [\"1 ms\", \"2 ms\"] }",
                                     "projection.2.E_rev=-70 mV",
                                     "projection.5.synapse=delta",
                                     "projection.5.weight=-1",
                                     "projection.7.rule=one_to_one",
                                     "projection.7.source=F",
                                     "projection.7.target=I",
                                     "projection.8.rule={ fixed_total = 7 }"});
    const auto& p = s.projections;
    expect_dist(p[0].weight, synapse_distribution::kind::constant, 0.2, 0);
    expect_rule(p[0].rule, rule_kind::fixed_indegree, 0, 5, true, false);
    expect_rule(p[3].rule, rule_kind::one_to_one, 0, 0, false, true);
    expect_dist(p[1].delay, synapse_distribution::kind::uniform, 1.0, 2.0);
    EXPECT_EQ(p[2].E_rev_mV, -70.0);
    EXPECT_EQ(p[5].synapse, synapse_kind::delta);
    expect_dist(p[5].weight, synapse_distribution::kind::constant, -1.0, 0);  // now in mV
    EXPECT_EQ(p[7].source, "F");
    EXPECT_EQ(p[7].target, "I");
    expect_rule(p[7].rule, rule_kind::one_to_one, 0, 0, true, true);
    expect_rule(p[8].rule, rule_kind::fixed_total, 0, 7, true, true);
}

// I_syn and g_syn records: the channel of the named projection, or the population's only one of
// the kind; the default name says which projection where one is named.
TEST(Config, SynapticStateRecords) {
    const std::string text = std::string(network_pops) + network + R"(
[[record]]
state = "I_syn"
population = "E"
[[record]]
state = "g_syn"
population = "E"
projection = 2
neurons = [0, 3]
[[record]]
state = "g_syn"
population = "F"
)";
    const run_spec s = parse_config(text, "syn.toml", {"record.E_g_syn_2.interval=1 ms"});
    ASSERT_EQ(s.states.size(), 3u);
    EXPECT_EQ(s.states[0].name, "E_I_syn");
    EXPECT_EQ(s.states[0].projection, 1u);  // E's only exp_current channel
    EXPECT_EQ(s.states[1].name, "E_g_syn_2");
    EXPECT_EQ(s.states[1].projection, 2u);
    EXPECT_EQ(s.states[1].interval_ms, 1.0);
    EXPECT_EQ(s.states[2].name, "F_g_syn");
    EXPECT_EQ(s.states[2].projection, 4u);
    expect_same(s, parse_config(to_toml(s), "syn.toml"));

    const auto record_error = [&](const std::string& record, const std::string& extra = "") {
        return error_of(std::string(network_pops) + network + extra + "[[record]]\n" + record);
    };
    std::string m = record_error("state = \"I_syn\"\npopulation = \"F\"\n");
    EXPECT_NE(m.find("record[0].state = \"I_syn\": population 'F' receives no exp_current synapses"), std::string::npos) << m;
    m = record_error("state = \"g_syn\"\npopulation = \"E\"\nprojection = 1\n");
    EXPECT_NE(m.find("record[0].projection = 1: projection 1 (E -> E) makes exp_current synapses, and g_syn is the "
                     "state of exp_conductance ones (projections of exp_conductance synapses onto 'E': 2)"),
              std::string::npos) << m;
    m = record_error("state = \"g_syn\"\npopulation = \"E\"\nprojection = 4\n");
    EXPECT_NE(m.find("projection 4 (F -> F) targets 'F', not 'E'"), std::string::npos) << m;
    m = record_error("state = \"g_syn\"\npopulation = \"E\"\nprojection = 10\n");
    EXPECT_NE(m.find("record[0].projection = 10: out of range; expected an integer from 0 to 9"), std::string::npos) << m;
    m = record_error("state = \"V_m\"\npopulation = \"E\"\nprojection = 1\n");
    EXPECT_NE(m.find("key 'record[0].projection': only an I_syn or g_syn record names a projection"), std::string::npos) << m;
    // A second conductance channel onto E (another E_rev): which one is then for the record to say.
    const std::string second = "[[projection]]\nsource = \"F\"\ntarget = \"E\"\nrule = \"all_to_all\"\n"
                               "synapse = \"exp_conductance\"\nweight = 1\nE_rev = 0\n";
    m = record_error("state = \"g_syn\"\npopulation = \"E\"\n", second);
    EXPECT_NE(m.find("population 'E' has 2 exp_conductance channels (one per tau_syn and E_rev); choose one with "
                     "projection = <index or name> (projections of exp_conductance synapses onto 'E': 2, 10)"),
              std::string::npos) << m;
    EXPECT_EQ(parse_config(std::string(network_pops) + network + second +
                               "[[record]]\nstate = \"g_syn\"\npopulation = \"E\"\nprojection = 10\n",
                           "syn.toml")
                  .states[0]
                  .projection,
              10u);
    // A report name must fit a file name (a 260-character one failed the run after check passed).
    m = record_error("state = \"g_syn\"\npopulation = \"E\"\nprojection = 2\nname = \"" + std::string(201, 'a') + "\"\n");
    EXPECT_NE(m.find("record[0].name = \"aaaaaaaaaaaaaaaaaaaa...\" has 201 characters; a report name has at most 200"),
              std::string::npos) << m;
    EXPECT_NO_THROW(parse_config(std::string(network_pops) + network + "[[record]]\nstate = \"g_syn\"\npopulation = \"E\"\n"
                                 "projection = 2\nname = \"" + std::string(200, 'a') + "\"\n",
                                 "syn.toml"));
    // A named projection answers to its name, in the record's default name too.
    const run_spec by_name =
        parse_config(std::string(network_pops) + network + second + "name = \"FE_cond\"\n" +
                         "[[record]]\nstate = \"g_syn\"\npopulation = \"E\"\nprojection = \"FE_cond\"\n",
                     "syn.toml");
    EXPECT_EQ(by_name.states.at(0).projection, 10u);
    EXPECT_EQ(by_name.states.at(0).name, "E_g_syn_FE_cond");
    expect_same(by_name, parse_config(to_toml(by_name), "syn.toml"));
    m = record_error("state = \"g_syn\"\npopulation = \"F\"\nprojection = \"FE_cond\"\n", second + "name = \"FE_cond\"\n");
    EXPECT_NE(m.find("record[0].projection = \"FE_cond\": projection 10 'FE_cond' (F -> E) targets 'E', not 'F'"),
              std::string::npos) << m;
}

// A projection may have a name: --set chooses it by that (or still by index), the resolved config
// keeps it, and it is unique and an identifier like a population's.
TEST(Config, NamedProjections) {
    const std::string two = std::string(network_pops) +
                            "[[projection]]\nname = \"EI\"\nsource = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\n"
                            "[[projection]]\nsource = \"I\"\ntarget = \"E\"\nrule = \"all_to_all\"\nweight = -1\n";
    const run_spec s = parse_config(two, "n.toml", {"projection.EI.weight=0.5 mV", "projection.1.weight=-2 mV"});
    EXPECT_EQ(s.projections[0].name, "EI");
    EXPECT_EQ(s.projections[1].name, "");
    EXPECT_EQ(s.projections[0].weight.a, 0.5);
    EXPECT_EQ(s.projections[1].weight.a, -2.0);
    expect_same(s, parse_config(to_toml(s), "n.toml"));
    std::string m = error_of(two, {"projection.IE.weight=1"});
    EXPECT_NE(m.find("no projection is named 'IE'; did you mean 'EI'? (projection names: EI; or give an index 0 .. 1)"),
              std::string::npos) << m;
    std::string twice = two;
    twice.insert(twice.rfind("source = \"I\""), "name = \"EI\"\n");
    m = error_of(twice);
    EXPECT_NE(m.find("projection[1].name = \"EI\": projection names must be unique"), std::string::npos) << m;
    std::string bad = two;
    bad.replace(bad.find("\"EI\""), 4, "\"E-I\"");
    m = error_of(bad);
    EXPECT_NE(m.find("projection[0].name = \"E-I\": a projection name is letters, digits and _"), std::string::npos) << m;
}

TEST(Config, BadProjectionOverridesAreExplained) {
    const std::string text = std::string(network_pops) + network;
    std::string m = error_of(text, {"projection.E.weight=1"});
    EXPECT_NE(m.find("chosen by their 0-based position"), std::string::npos) << m;
    EXPECT_NE(m.find("index 0 .. 9"), std::string::npos) << m;

    m = error_of(text, {"projection.10.weight=1"});
    EXPECT_NE(m.find("no projection has index '10'"), std::string::npos) << m;

    m = error_of(network_pops, {"projection.0.weight=1"});
    EXPECT_NE(m.find("there is no [[projection]]"), std::string::npos) << m;

    m = error_of(text, {"projection.0=1"});
    EXPECT_NE(m.find("projection.<name or index>.<key>"), std::string::npos) << m;

    m = error_of(text, {"projection.0.wieght=1"});
    EXPECT_NE(m.find("unknown key 'projection[0].wieght'; did you mean 'weight'?"), std::string::npos) << m;

    m = error_of(text, {"projection.0.rule.fixed_indegre=1"});
    EXPECT_NE(m.find("did you mean 'fixed_indegree'?"), std::string::npos) << m;

    m = error_of(text, {"projection.1.weight=0.2 mV"});
    EXPECT_NE(m.find("projection[1].weight = \"0.2 mV\""), std::string::npos) << m;
    EXPECT_NE(m.find("takes a weight in pA"), std::string::npos) << m;
    EXPECT_NE(m.find("(set by --set projection.1.weight=0.2 mV)"), std::string::npos) << m;
}

std::string projection_error(std::string_view body) {
    return error_of(std::string(network_pops) + "[[projection]]\n" + std::string(body));
}

TEST(Config, ProjectionErrorsNameKeyValueAndWhatIsAllowed) {
    struct case_ {
        const char* body;
        std::vector<const char*> expect;
    };
    const std::vector<case_> cases = {
        {"target = \"I\"\nrule = \"all_to_all\"\nweight = 1\n", {"projection[0].source is missing"}},
        {"source = \"E\"\ntarget = \"I\"\nweight = 1\n", {"projection[0].rule is missing"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\n", {"projection[0].weight is missing", "in mV"}},
        {"source = \"E\"\ntarget = \"Inh\"\nrule = \"all_to_all\"\nweight = 1\n",
         {"projection[0].target = \"Inh\"", "no population is named 'Inh'", "(populations: E, I, F)"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"fixed_indegree\"\nweight = 1\n",
         {"projection[0].rule = \"fixed_indegree\"", "needs a value: rule = { fixed_indegree = K }"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_al\"\nweight = 1\n", {"did you mean 'all_to_all'?"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"static_synapse\"\nweight = 1\n",
         {"projection[0].synapse = \"static_synapse\"", "NEST's static_synapse is every projection here"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = 5\nweight = 1\n", {"projection[0].rule = 5", "\"all_to_all\""}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { autapses = false }\nweight = 1\n", {"names no rule"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { fixed_indegree = 1, fixed_outdegree = 2 }\nweight = 1\n",
         {"names 2 rules (fixed_indegree, fixed_outdegree)"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { all_to_all = false }\nweight = 1\n",
         {"projection[0].rule.all_to_all = false", "expected true"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { all_to_all = true, autapses = 1 }\nweight = 1\n",
         {"projection[0].rule.autapses = 1", "true or false"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { pairwise_bernoulli = -0.1 }\nweight = 1\n",
         {"projection[0].rule.pairwise_bernoulli = -0.1", "[0, 1]"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { pairwise_bernoulli = nan }\nweight = 1\n",
         {"projection[0].rule.pairwise_bernoulli", "not a finite number"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = { fixed_total = 33, multapses = false }\nweight = 1\n",
         {"exceeds the 32 distinct pairs", "fixed_total <= 32"}},
        {"source = \"E\"\ntarget = \"E\"\nrule = { fixed_outdegree = 8, multapses = false, autapses = false }\nweight = 1\n",
         {"target 'E' offers 7", "autapses = false"}},
        {"source = \"E\"\ntarget = \"E\"\nrule = { one_to_one = true, autapses = false }\nweight = 1\n",
         {"makes only autapses", "set autapses = true"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = \"1 nS\"\n",
         {"projection[0].weight = \"1 nS\"", "a conductance (nS), but synapse = \"delta\" takes a weight in mV"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp_conductance\"\nweight = \"1 pA\"\n",
         {"takes a weight in nS"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp\"\nweight = 1\n",
         {"projection[0].synapse = \"exp\"", "\"delta\" | \"exp_current\" | \"exp_conductance\""}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = [1, 2]\n", {"no per-synapse array"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = { linspace = [1, 2] }\n",
         {"unknown key 'projection[0].weight.linspace'", "uniform, normal, lognormal"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = { uniform = [2, 1] }\n", {"low <= high"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = { normal = [1, -1] }\n",
         {"projection[0].weight.normal[1] = -1", "must be >= 0"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = { normal = [0, 1] }\n",
         {"projection[0].weight.normal", "mean must not be 0"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = { normal = [1] }\n",
         {"normal = [mean, std]"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp_conductance\"\nweight = { uniform = [\"-1 nS\", \"1 nS\"] }\n",
         {"projection[0].weight.uniform", "must be >= 0 nS"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp_conductance\"\nweight = { lognormal = [\"-1 nS\", \"1 nS\"] }\n",
         {"must be >= 0 nS"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = -1\n",
         {"projection[0].delay = -1", "must be > 0 ms"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { uniform = [0, 1] }\n",
         {"projection[0].delay.uniform", "low end"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { normal = [0, 1] }\n",
         {"projection[0].delay.normal", "mean of a delay must be > 0 ms"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { lognormal = { mean = -1, std = 1 } }\n",
         {"projection[0].delay.lognormal", "> 0 ms"}},
        // Under one step of dt = 0.1 ms: a constant, or a distribution whose every draw is.
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = \"0.05 ms\"\n",
         {"projection[0].delay", "a delay must be at least one step of dt = \"0.1 ms\""}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { uniform = [0.01, 0.02] }\n",
         {"projection[0].delay.uniform", "its draws reach 0.02 ms (its bounds); every draw is under one step of dt = \"0.1 ms\""}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { normal = [0.05, 0] }\n",
         {"projection[0].delay.normal", "every draw is under one step"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = { uniform = [1, 2], normal = [1, 1] }\n",
         {"exactly one of"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\ndelay = \"inf ms\"\n", {"not a finite number"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp_current\"\nweight = 1\ntau_syn = 0\n",
         {"projection[0].tau_syn = 0", "> 0 ms"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nsynapse = \"exp_conductance\"\nweight = 1\nE_rev = \"1 nS\"\n",
         {"projection[0].E_rev", "E_rev is a voltage (mV)"}},
        {"source = \"E\"\ntarget = \"I\"\nrule = \"all_to_all\"\nweight = 1\nE_rev = -80\n",
         {"projection[0] has synapse = \"delta\""}},
    };
    for (const auto& c : cases) {
        const std::string m = projection_error(c.body);
        for (const char* e : c.expect) EXPECT_NE(m.find(e), std::string::npos) << c.body << "\n-> " << m;
        EXPECT_NE(m.find("test.toml:"), std::string::npos) << m;
    }

    // [projection] as a table, not a list of tables.
    const std::string m = error_of(std::string(network_pops) + "[projection]\nsource = \"E\"\n");
    EXPECT_NE(m.find("write [[projection]]"), std::string::npos) << m;
}

TEST(Config, AtMost65535Projections) {
    const auto text = [](std::size_t n) {
        std::string out = "projection = [\n";
        for (std::size_t i = 0; i < n; ++i)
            out += "{ source = \"E\", target = \"E\", rule = \"one_to_one\", weight = 1 },\n";
        return out + "]\n" + network_pops;
    };
    EXPECT_EQ(parse_config(text(65535), "many.toml").projections.size(), 65535u);
    const std::string m = error_of(text(65536));
    EXPECT_NE(m.find("projection has 65536 entries; at most 65535"), std::string::npos) << m;
}

TEST(Suggest, NearestCandidateOrNothing) {
    const std::vector<std::string_view> keys = {"params", "init", "input", "name", "size", "model"};
    EXPECT_EQ(suggest("parms", keys), "params");
    EXPECT_EQ(suggest("Params", keys), "params");
    EXPECT_EQ(suggest("modle", keys), "model");  // transposition
    EXPECT_EQ(suggest("inputs", keys), "input");
    EXPECT_EQ(suggest("xyzzy", keys), "");
    EXPECT_EQ(suggest("a", keys), "");
    EXPECT_EQ(suggest("anything", {}), "");
}

}  // namespace
}  // namespace ifsim
