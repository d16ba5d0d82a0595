// Networks for the tests: a LIF population, a Brunel-type E/I network, and the spikes of a run.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/network.hpp"
#include "ifsim/spec.hpp"
#include "simulate.hpp"

namespace ifsim::test {

// What build_network says of `s`: the message of the Error it throws, or "accepted".
template <class Error>
std::string build_error(const run_spec& s) {
    try {
        build_network(s);
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

// A Poisson generator "bg" of `size` neurons at rate_Hz over [start_ms, stop_ms).
inline generator_spec poisson_generator(std::uint64_t size, double rate_Hz, double start_ms, double stop_ms) {
    generator_spec g;
    g.name = "bg";
    g.size = size;
    g.type = generator_spec::kind::poisson;
    g.rate_Hz = rate_Hz;
    g.start_ms = start_ms;
    g.stop_ms = stop_ms;
    return g;
}

// K delta synapses of weight w from `source` onto each neuron of `target` (fixed_indegree, 1.5 ms).
inline projection_spec fixed_indegree_from(const std::string& source, const std::string& target, std::uint64_t K,
                                           synapse_distribution w) {
    projection_spec pr;
    pr.source = source;
    pr.target = target;
    pr.rule.kind = rule_kind::fixed_indegree;
    pr.rule.degree = K;
    pr.weight = w;
    pr.delay = synapse_distribution::constant(1.5);
    return pr;
}

// A LIF population at rest, E_L = 0, threshold 20 mV, reset 10 mV (other parameters default).
inline population_spec lif_population(const std::string& name, std::uint64_t n) {
    population_spec p;
    p.name = name;
    p.size = n;
    p.model = model_kind::lif;
    p.params["E_L"] = distribution::constant(0.0);
    p.params["V_th"] = distribution::constant(20.0);
    p.params["V_reset"] = distribution::constant(10.0);
    p.init["V_m"] = distribution::constant(0.0);
    return p;
}

// A Brunel-type E/I network: LIF neurons (tau_m 20 ms, theta 20 mV, V_r 10 mV), delta synapses
// J and -g J with fixed in-degrees K_E and K_I, and `inputs` Poisson inputs of J at rate_Hz each.
struct ei_network {
    std::uint64_t n_E, n_I, K_E, K_I;
    double J, g, rate_Hz;
    std::uint64_t inputs;
    synapse_distribution delay;
    bool autapses = true;
    bool bernoulli = false;  // pairwise_bernoulli with p = K / N instead of fixed in-degrees
};

inline run_spec make_ei(const ei_network& e, double duration_ms) {
    run_spec s;
    s.simulation.dt_ms = 0.1;
    s.simulation.duration_ms = duration_ms;
    s.simulation.real = precision::single;
    for (const auto& [name, n] : {std::pair{"E", e.n_E}, std::pair{"I", e.n_I}}) {
        population_spec p = lif_population(name, n);
        p.params["C_m"] = distribution::constant(250.0);
        p.params["g_L"] = distribution::constant(12.5);  // tau_m = 20 ms
        p.init["V_m"] = {distribution::kind::uniform, 0.0, 20.0, {}};
        p.input.poisson_rate_Hz = e.rate_Hz;
        p.input.poisson_weight = e.J;
        p.input.poisson_count = e.inputs;
        s.populations.push_back(p);
    }
    const auto add = [&](const char* src, const char* tgt, std::uint64_t K, std::uint64_t n_src, double w) {
        projection_spec pr;
        pr.source = src;
        pr.target = tgt;
        pr.rule.kind = e.bernoulli ? rule_kind::pairwise_bernoulli : rule_kind::fixed_indegree;
        pr.rule.degree = K;
        pr.rule.p = double(K) / double(n_src);
        pr.rule.autapses = e.autapses || std::string(src) != tgt;
        pr.weight = synapse_distribution::constant(w);
        pr.delay = e.delay;
        s.projections.push_back(pr);
    };
    add("E", "E", e.K_E, e.n_E, e.J);
    add("E", "I", e.K_E, e.n_E, e.J);
    add("I", "E", e.K_I, e.n_I, -e.g * e.J);
    add("I", "I", e.K_I, e.n_I, -e.g * e.J);
    return s;
}

// A small one, heterogeneous delays: the determinism and CPU = GPU tests.
inline run_spec small_network(double duration_ms) {
    return make_ei({800, 200, 80, 20, 0.2, 5.0, 30.0, 400, {synapse_distribution::kind::uniform, 0.8, 2.0}},
                   duration_ms);
}

// small_network's Poisson inputs into synaptic channels, each spike about the same charge as its
// 0.2 mV jump: into E as a current (16.7 pA, tau_syn 3 ms), into I as a conductance (0.167 nS,
// tau_syn 6 ms, E_rev 60 mV, some 50 mV above V).
inline void poisson_into_channels(run_spec& s) {
    input_spec& e = s.populations[0].input;
    e.poisson_synapse = synapse_kind::exp_current;
    e.poisson_weight = 0.2 * 250.0 / 3.0;
    e.poisson_tau_syn_ms = 3.0;
    input_spec& i = s.populations[1].input;
    i.poisson_synapse = synapse_kind::exp_conductance;
    i.poisson_weight = 0.2 * 250.0 / (6.0 * 50.0);
    i.poisson_tau_syn_ms = 6.0;
    i.poisson_E_rev_mV = 60.0;
}

// small_network with every synapse kind: E -> E again as an exp_current (normal 20 +- 5 pA,
// tau_syn 3 ms), I -> E again as an exp_conductance (uniform 0.5-1.5 nS, tau_syn 6 ms, E_rev
// -10 mV); the Poisson inputs into channels where asked (poisson_into_channels: E's then shares
// the exp_current projection's channel, I's has one of its own).
inline run_spec every_synapse_kind_network(double duration_ms, precision real, bool poisson_into_channels_too) {
    run_spec spec = small_network(duration_ms);
    spec.simulation.real = real;
    if (poisson_into_channels_too) poisson_into_channels(spec);
    projection_spec cur = spec.projections[0];
    cur.synapse = synapse_kind::exp_current;
    cur.weight = {synapse_distribution::kind::normal, 20.0, 5.0};
    cur.tau_syn_ms = 3.0;
    spec.projections.push_back(cur);
    projection_spec cond = spec.projections[2];
    cond.synapse = synapse_kind::exp_conductance;
    cond.weight = {synapse_distribution::kind::uniform, 0.5, 1.5};
    cond.tau_syn_ms = 6.0;
    cond.E_rev_mV = -10.0;
    spec.projections.push_back(cond);
    return spec;
}

// Populations in several update groups (kernels/update_group.cuh), from small_network's LIF: 19 of
// one kernel (a full group of 16, then three more; two of them outside the chain, with synaptic
// input only from their Poisson input, into a current and into a conductance), the chain's head
// without synaptic input, an EIF, and one driven by white noise instead of Poisson input, in five
// groups. Each has its own size (1 + 37 i) and step current; one has per-neuron thresholds, and
// one has `large` neurons, fluctuation-driven at a few Hz (16 mV mean drive).
inline run_spec grouped_network(double duration_ms, std::uint64_t large) {
    const run_spec base = small_network(duration_ms);
    run_spec spec = base;
    spec.populations.clear();
    spec.projections.clear();
    for (int i = 0; i < 22; ++i) {
        population_spec p = base.populations[0];
        p.name = std::string("P") + std::to_string(i);
        p.size = std::uint64_t(1 + 37 * i);
        p.input.steps = {{duration_ms * 0.025 * (i % 7), duration_ms * (0.2 + 0.005 * i)}, {-3.0 * i, 60.0}};
        if (i == 1) {
            p.size = large;
            p.input.poisson_rate_Hz = 10.0;
        }
        if (i == 5) p.params["V_th"] = {distribution::kind::uniform, 18.0, 22.0, {}};
        if (i == 18) {
            p.model = model_kind::eif;
            p.params["V_T"] = distribution::constant(18.0);
            p.params["Delta_T"] = distribution::constant(2.0);
        }
        if (i == 19) {
            p.input.poisson_count = 0;
            p.input.I_e = distribution::constant(300.0);  // 24 mV over E_L
            p.input.sigma_V = distribution::constant(4.0);
        }
        if (i >= 20) {  // the charge of base's 0.2 mV jumps (poisson_into_channels)
            p.input.poisson_synapse = i == 20 ? synapse_kind::exp_current : synapse_kind::exp_conductance;
            p.input.poisson_weight = i == 20 ? 0.2 * 250.0 / 3.0 : 0.2 * 250.0 / (6.0 * 50.0);
            p.input.poisson_tau_syn_ms = i == 20 ? 3.0 : 6.0;
            p.input.poisson_E_rev_mV = 60.0;
        }
        spec.populations.push_back(p);
        if (i == 0 || i >= 20) continue;
        projection_spec pr = base.projections[0];
        pr.source = spec.populations[std::size_t(i - 1)].name;
        pr.target = p.name;
        pr.rule.degree = std::min<std::uint64_t>(20, spec.populations[std::size_t(i - 1)].size);
        pr.weight = synapse_distribution::constant(i % 2 == 0 ? 0.5 : -0.5);
        spec.projections.push_back(pr);
    }
    return spec;
}

// A block's spikes appended to those of the run so far, population by population.
inline void append_spikes(std::vector<spike_list>& all, const block_output& out) {
    for (std::size_t p = 0; p < all.size(); ++p) {
        auto& a = all[p];
        const auto& s = out.spikes[p];
        a.step.insert(a.step.end(), s.step.begin(), s.step.end());
        a.neuron.insert(a.neuron.end(), s.neuron.begin(), s.neuron.end());
        a.offset.insert(a.offset.end(), s.offset.begin(), s.offset.end());
    }
}

// Every spike of a run on `backend` ("cpu" or "cuda"), advancing `block` steps at a time.
inline std::vector<spike_list> run_spikes(const std::string& backend, const run_spec& spec, std::uint32_t block) {
    auto engine = make_backend(backend, spec);
    std::vector<spike_list> all(spec.populations.size());
    block_output out;
    const auto total = std::uint64_t(std::llround(spec.simulation.duration_ms / spec.simulation.dt_ms));
    for (std::uint64_t t = 0; t < total; t += block) {
        out.clear();
        engine->advance(t, std::uint32_t(std::min<std::uint64_t>(block, total - t)), out);
        append_spikes(all, out);
    }
    return all;
}

// The same spikes (steps, neurons, offsets) in every population.
inline bool same_spikes(const std::vector<spike_list>& a, const std::vector<spike_list>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t p = 0; p < a.size(); ++p)
        if (a[p].step != b[p].step || a[p].neuron != b[p].neuron || a[p].offset != b[p].offset) return false;
    return true;
}

}  // namespace ifsim::test
