// "did you mean ...?": the nearest candidate by optimal-string-alignment distance.
#include <algorithm>
#include <string>
#include <vector>

#include "config_detail.hpp"
#include "ifsim/config.hpp"

namespace ifsim {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Levenshtein distance plus adjacent transpositions, on lower-cased text.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const bool same = lower(a[i - 1]) == lower(b[j - 1]);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return prev[m];
}

}  // namespace

std::string suggest(std::string_view word, std::span<const std::string_view> candidates) {
    // A third of the word may be wrong (at least one character), never the whole of it.
    const std::size_t limit = std::max<std::size_t>(1, (word.size() + 1) / 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (auto c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance && d < std::max(word.size(), c.size())) {
            best_distance = d;
            best = std::string(c);
        }
    }
    return best;
}

namespace config_detail {

std::string did_you_mean(std::string_view path, std::string_view key, std::span<const std::string_view> candidates) {
    // What NEST and Brian2 call a parameter or recorder setting that ifsim keeps elsewhere.
    struct elsewhere {
        std::string_view in, key, where;
    };
    static constexpr elsewhere moved[] = {
        {"params", "tau_m", "tau_m is C_m / g_L here: set C_m and g_L (tau_m = 20 ms: C_m = \"200 pF\", g_L = \"10 nS\")"},
        {"params", "I_e", "the bias current is input.I_e"},
        {"params", "V_m", "the initial membrane potential is init.V_m"},
        {"params", "tau_syn", "synaptic time constants are set per [[projection]] (tau_syn)"},
        {"params", "tau_syn_ex", "synaptic time constants are set per [[projection]] (tau_syn)"},
        {"params", "tau_syn_in", "synaptic time constants are set per [[projection]] (tau_syn)"},
        {"params", "E_ex", "reversal potentials are set per [[projection]] (E_rev)"},
        {"params", "E_in", "reversal potentials are set per [[projection]] (E_rev)"},
        {"input", "sigma_V", "white noise is input.noise.sigma_V"},
        {"input", "sigma", "white noise is input.noise.sigma_V (the free membrane potential's std), OU current "
                           "noise input.ou.sigma_I"},
        {"input", "sigma_I", "OU current noise is input.ou.sigma_I"},
        {"input", "rate", "Poisson input is input.poisson = { rate = ..., count = ..., weight = ... }"},
        {"projection", "allow_autapses", "NEST's allow_autapses is rule.autapses here"},
        {"projection", "allow_multapses", "NEST's allow_multapses is rule.multapses here"},
        {"projection", "indegree", "NEST's indegree is rule = { fixed_indegree = K }"},
        {"projection", "outdegree", "NEST's outdegree is rule = { fixed_outdegree = K }"},
        {"projection", "p", "NEST's p is rule = { pairwise_bernoulli = p }"},
        {"rule", "allow_autapses", "NEST's allow_autapses is autapses here"},
        {"rule", "allow_multapses", "NEST's allow_multapses is multapses here"},
        {"rule", "rule", "the rule is the key: rule = { fixed_indegree = 100 }"},
        {"rule", "indegree", "NEST's indegree is rule = { fixed_indegree = K }"},
        {"rule", "outdegree", "NEST's outdegree is rule = { fixed_outdegree = K }"},
        {"rule", "p", "NEST's p is rule = { pairwise_bernoulli = p }"},
        {"rule", "N", "NEST's N is rule = { fixed_total = N }"},
        {"", "params", "a population's parameters are [population.params], after its [[population]] (or params = "
                       "{ ... } inside it)"},
        {"", "init", "a population's initial state is [population.init], after its [[population]]"},
        {"", "input", "a population's input is [population.input], after its [[population]]"},
        {"record", "variable", "a state record names its variable with state = \"V_m\" (or w, I_noise, I_syn, g_syn)"},
        {"record", "record_from", "a state record names its variable with state = \"V_m\" (or w, I_noise, I_syn, g_syn)"},
    };
    const std::string_view last = path.substr(path.rfind('.') == std::string_view::npos ? 0 : path.rfind('.') + 1);
    for (const auto& m : moved)
        if (key == m.key && (last == m.in || last.starts_with(std::string(m.in) + "[")))
            return "; " + std::string(m.where);
    const std::string near = suggest(key, candidates);
    return near.empty() ? "" : "; did you mean '" + near + "'?";
}

std::string other_simulators_value(std::string_view value) {
    // NEST's models bundle the neuron with its synapses; here the synapse is each projection's.
    struct hint {
        std::string_view value, says;
    };
    static constexpr hint hints[] = {
        {"iaf_psc_delta", "NEST's iaf_psc_delta is model = \"lif\" with synapse = \"delta\" projections"},
        {"iaf_psc_exp", "NEST's iaf_psc_exp is model = \"lif\" with synapse = \"exp_current\" projections"},
        {"iaf_cond_exp", "NEST's iaf_cond_exp is model = \"lif\" with synapse = \"exp_conductance\" projections"},
        {"iaf_psc_alpha", "NEST's iaf_psc_alpha is model = \"lif\"; alpha synapses are not available here "
                          "(synapse = \"exp_current\" is)"},
        {"aeif_cond_exp", "NEST's aeif_cond_exp is model = \"adex\" with synapse = \"exp_conductance\" projections"},
        {"aeif_psc_exp", "NEST's aeif_psc_exp is model = \"adex\" with synapse = \"exp_current\" projections"},
        {"aeif_psc_delta", "NEST's aeif_psc_delta is model = \"adex\" with synapse = \"delta\" projections"},
        {"static_synapse", "NEST's static_synapse is every projection here; synapse names what a spike does: "
                           "\"delta\" (a jump of V), \"exp_current\" or \"exp_conductance\""},
        {"exp_cond", "exp_cond is synapse = \"exp_conductance\""},
        {"exp_curr", "exp_curr is synapse = \"exp_current\""},
    };
    for (const auto& h : hints)
        if (value == h.value) return std::string(h.says);
    return {};
}

}  // namespace config_detail

}  // namespace ifsim
