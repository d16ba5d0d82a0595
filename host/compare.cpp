// Two backends' runs compared block by block until the first bit that differs (compare.hpp).
#include "ifsim/compare.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "ifsim/errors.hpp"
#include "ifsim/network.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim {
namespace {

template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// The two sides of a comparison by their labels, for the messages.
struct sides {
    const std::string& a;
    const std::string& b;
};

// The first difference between two blocks' spikes, the earlier of the two events that disagree.
std::optional<std::string> first_spike_difference(const run_spec& spec, sides who, const block_output& a,
                                                  const block_output& b) {
    for (std::size_t p = 0; p < spec.populations.size(); ++p) {
        const spike_list &x = a.spikes[p], &y = b.spikes[p];
        for (std::size_t k = 0; k <= std::min(x.size(), y.size()); ++k) {
            const bool x_ends = k == x.size(), y_ends = k == y.size();
            if (x_ends && y_ends) break;
            const bool same_spike = !x_ends && !y_ends && x.step[k] == y.step[k] && x.neuron[k] == y.neuron[k];
            if (same_spike && same_bits(x.offset[k], y.offset[k])) continue;
            char line[512];
            if (same_spike) {  // both spiked, at different times within the step (all digits: they may be close)
                std::snprintf(line, sizeof line,
                              "population %s, neuron %llu, step %llu, variable spike offset: %s %.17g, %s %.17g",
                              spec.populations[p].name.c_str(), (unsigned long long)x.neuron[k],
                              (unsigned long long)x.step[k], who.a.c_str(), x.offset[k], who.b.c_str(), y.offset[k]);
                return line;
            }
            const bool from_x = y_ends || (!x_ends && (x.step[k] < y.step[k] ||
                                                       (x.step[k] == y.step[k] && x.neuron[k] <= y.neuron[k])));
            const spike_list& s = from_x ? x : y;
            std::snprintf(line, sizeof line,
                          "population %s, neuron %llu, step %llu, variable spike: %s has a spike (offset %.9g) the %s does not",
                          spec.populations[p].name.c_str(), (unsigned long long)s.neuron[k],
                          (unsigned long long)s.step[k], (from_x ? who.a : who.b).c_str(), s.offset[k],
                          (from_x ? who.b : who.a).c_str());
            return line;
        }
    }
    return std::nullopt;
}

// The first difference between the state records' samples of a block that starts at block_start.
std::optional<std::string> first_sample_difference(const run_spec& spec, sides who, const block_output& a,
                                                   const block_output& b, std::uint64_t block_start) {
    for (std::size_t r = 0; r < spec.states.size(); ++r) {
        const state_record& rec = spec.states[r];
        const std::vector<float>&x = a.samples[r], &y = b.samples[r];
        for (std::size_t k = 0; k < std::max(x.size(), y.size()); ++k) {
            if (k < x.size() && k < y.size() && same_bits(x[k], y[k])) continue;
            // Row j of a block samples the j-th multiple of the interval from block_start on.
            const std::uint64_t interval = rec.interval_steps(spec.simulation.dt_ms);
            const std::uint64_t step =
                rec.sample_from(block_start, spec.simulation.dt_ms) + k / rec.neurons.size() * interval;
            const auto value = [&](const std::vector<float>& v) {
                char text[32] = "no sample";
                if (k < v.size()) std::snprintf(text, sizeof text, "%.9g", double(v[k]));
                return std::string(text);
            };
            char line[512];
            std::snprintf(line, sizeof line,
                          "population %s, neuron %llu, step %llu, variable %s (record %s): %s %s, %s %s",
                          rec.population.c_str(), (unsigned long long)rec.neurons[k % rec.neurons.size()],
                          (unsigned long long)step, rec.variable.c_str(), rec.name.c_str(), who.a.c_str(),
                          value(x).c_str(), who.b.c_str(), value(y).c_str());
            return line;
        }
    }
    return std::nullopt;
}

// The first difference between the two backends' states once they have run to block_end: each
// population's V_m, w and I_noise, then its exp channels' state (a delta channel holds none).
std::optional<std::string> first_state_difference(const run_spec& spec, sides who, const backend& a,
                                                  const backend& b, std::uint64_t block_end) {
    static constexpr state_variable variables[] = {state_variable::V_m, state_variable::w, state_variable::I_noise};
    static constexpr const char* names[] = {"V_m", "w", "I_noise"};
    for (std::size_t p = 0; p < spec.populations.size(); ++p) {
        const auto differ = [&](const std::string& name, const std::vector<double>& x,
                                const std::vector<double>& y) -> std::optional<std::string> {
            for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
                if (i < x.size() && i < y.size() && same_bits(x[i], y[i])) continue;
                const auto value = [&](const std::vector<double>& s) {
                    char text[32] = "no value";
                    if (i < s.size()) std::snprintf(text, sizeof text, "%.9g", s[i]);
                    return std::string(text);
                };
                char line[512];
                std::snprintf(line, sizeof line, "population %s, neuron %zu, by step %llu, variable %s: %s %s, %s %s",
                              spec.populations[p].name.c_str(), i, (unsigned long long)block_end, name.c_str(),
                              who.a.c_str(), value(x).c_str(), who.b.c_str(), value(y).c_str());
                return line;
            }
            return std::nullopt;
        };
        for (std::size_t v = 0; v < std::size(variables); ++v)
            if (auto d = differ(names[v], a.state(p, variables[v]), b.state(p, variables[v]))) return d;
        const std::vector<synapse_channel> channels = channels_onto(spec, spec.populations[p]);
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (channels[c].kind == synapse_kind::delta) continue;
            const std::string name = std::string(channels[c].kind == synapse_kind::exp_current ? "I_syn" : "g_syn") +
                                     " of channel " + std::to_string(c);
            if (auto d = differ(name, a.synaptic_state(p, c), b.synaptic_state(p, c))) return d;
        }
    }
    return std::nullopt;
}

struct found {
    std::string sentence;
    bool state_only = false;  // known only to the block that ended at `block_end`
    std::uint64_t block_end = 0;
};

std::optional<found> compare_blocks(const run_spec& spec, const compared_backend& a, const compared_backend& b,
                                    std::uint64_t steps, std::uint32_t block) {
    const sides who{a.label, b.label};
    const auto x = a.make(), y = b.make();
    block_output out_x, out_y;
    for (block_output* o : {&out_x, &out_y}) {
        o->spikes.resize(spec.populations.size());
        o->samples.resize(spec.states.size());
        o->sample_rows.resize(spec.states.size());
    }
    for (std::uint64_t step = 0; step < steps; step += block) {
        const auto n = std::uint32_t(std::min<std::uint64_t>(block, steps - step));
        out_x.clear();
        out_y.clear();
        // A runaway (V not finite) named as a run names it, with the backend it was found on.
        const auto advance = [&](backend& engine, const std::string& label, block_output& out) {
            try {
                engine.advance(step, n, out);
            } catch (const numerical_error& e) {
                throw runtime_failure("the " + label + " backend: " + located(e, spec, step, n).what());
            }
        };
        advance(*x, a.label, out_x);
        advance(*y, b.label, out_y);
        if (auto d = first_spike_difference(spec, who, out_x, out_y)) return found{*d};
        if (auto d = first_sample_difference(spec, who, out_x, out_y, step)) return found{*d};
        if (auto d = first_state_difference(spec, who, *x, *y, step + n)) return found{*d, true, step + n};
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> first_difference(const run_spec& spec, const compared_backend& a,
                                            const compared_backend& b, std::uint64_t steps, std::uint32_t block) {
    auto d = compare_blocks(spec, a, b, steps, std::max<std::uint32_t>(block, 1));
    if (!d) return std::nullopt;
    if (d->state_only && block > 1)
        if (auto exact = compare_blocks(spec, a, b, d->block_end, 1)) d = exact;
    return d->sentence;
}

}  // namespace ifsim
