// build_network: connectivity, per-synapse weights and delays, and the target channels with their
// fixed-point formats (network.hpp).
#include "ifsim/network.hpp"
#include "ifsim/memory.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include <omp.h>

#include "ifsim/errors.hpp"
#include "ifsim/models.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/simulation.hpp"
#include "ifsim/synapse_file.hpp"
#include "ifsim/synapses.hpp"
#include "ifsim/units.hpp"
#include "ifsim/uninitialized_vector.hpp"
#include "../cpu_philox.hpp"

namespace ifsim {
namespace {

// `who` names what refers to the population, for the error where none has that name (a run_spec
// built in code: a config's names are checked when it is read).
std::size_t population_index(const run_spec& spec, const std::string& name, std::string_view who = "projection") {
    for (std::size_t p = 0; p < spec.populations.size(); ++p)
        if (spec.populations[p].name == name) return p;
    throw config_error(std::string(who) + ": no population is named '" + name + "'");
}

// A projection's source: a population or a generator, with its size.
struct source_ref {
    std::size_t index;
    bool generator;
    std::uint64_t size;
};

source_ref find_source(const run_spec& spec, const std::string& name) {
    for (std::size_t g = 0; g < spec.generators.size(); ++g)
        if (spec.generators[g].name == name) return {g, true, spec.generators[g].size};
    const std::size_t p = population_index(spec, name);
    return {p, false, spec.populations[p].size};
}

}  // namespace

std::uint64_t source_size(const run_spec& spec, const std::string& name) { return find_source(spec, name).size; }

namespace {

std::size_t channel_of(std::vector<synapse_channel>& channels, synapse_kind kind, double tau_syn_ms, double E_rev_mV) {
    const double tau = kind != synapse_kind::delta ? tau_syn_ms : 0.0;
    const double E_rev = kind == synapse_kind::exp_conductance ? E_rev_mV : 0.0;
    for (std::size_t c = 0; c < channels.size(); ++c)
        if (channels[c].kind == kind && channels[c].tau_syn_ms == tau && channels[c].E_rev_mV == E_rev) return c;
    channels.push_back({kind, tau, E_rev, {}});
    return channels.size() - 1;
}

// The channel a population's Poisson input feeds, marked as such, where it feeds one.
void add_poisson_channel(std::vector<synapse_channel>& channels, const input_spec& in) {
    if (!in.poisson_feeds_channel()) return;
    synapse_channel& c = channels[channel_of(channels, in.poisson_synapse, in.poisson_tau_syn_ms, in.poisson_E_rev_mV)];
    c.takes_poisson = true;
    c.poisson_weight = in.poisson_weight;
}

// Counts of inputs, held at the top of the range: choose_format refuses a count that large.
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}
std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max() : a * b;
}

}  // namespace

std::size_t channel_for(std::vector<synapse_channel>& channels, const projection_spec& pr) {
    const std::size_t c = channel_of(channels, pr.synapse, pr.tau_syn_ms, pr.E_rev_mV);
    channels[c].has_ring = true;
    return c;
}

std::vector<synapse_channel> channels_onto(const run_spec& spec, const population_spec& pop) {
    std::vector<synapse_channel> channels;
    for (const projection_spec& pr : spec.projections)
        if (pr.target == pop.name) channel_for(channels, pr);
    add_poisson_channel(channels, pop.input);
    return channels;
}

std::size_t recorded_population(const run_spec& spec, const state_record& r) {
    const std::size_t p = population_index(spec, r.population, "state record '" + r.name + "'");
    for (const std::uint64_t i : r.neurons)
        if (i >= spec.populations[p].size)
            throw config_error("state record '" + r.name + "': neuron " + std::to_string(i) +
                               " is not in population '" + r.population + "' (size " +
                               std::to_string(spec.populations[p].size) + ")");
    return p;
}

std::size_t recorded_channel(const network& net, const run_spec& spec, const state_record& r) {
    if (!r.samples_a_channel()) return 0;
    if (r.projection != state_record::poisson_input_channel) return net.projections.at(r.projection).channel;
    const std::vector<synapse_channel>& channels = net.channels.at(population_index(spec, r.population));
    for (std::size_t c = 0; c < channels.size(); ++c)
        if (channels[c].takes_poisson) return c;
    throw config_error("state record '" + r.name + "': population '" + r.population +
                       "' has no synaptic channel that its input.poisson feeds (input.poisson.synapse is delta)");
}

namespace {

// Delays converted to whole steps: their least and greatest, and how many were out of range.
struct steps_range {
    std::uint16_t lo = std::numeric_limits<std::uint16_t>::max(), hi = 0;
    std::uint64_t bad = 0;
};

// in[s] ms as whole steps of dt into `out` (resized to n), in vector lanes; a delay out of range
// (NaN, infinite, beyond max_delay_steps or the storage type) is stored as 1 and counted, for the
// caller to name after the loop (an exception must not leave a parallel region).
template <class Delay>
steps_range delays_to_steps(const double* in, std::uint64_t n, double dt, uninitialized_vector<Delay>& out) {
    out.resize(n);
    Delay* const stored = out.data();  // plain pointers: gcc keeps loops over members scalar
    constexpr double most = std::min<double>(max_delay_steps, std::numeric_limits<Delay>::max());
    std::uint16_t lo = std::numeric_limits<std::uint16_t>::max(), hi = 0;
    std::uint64_t bad = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : bad) reduction(min : lo) reduction(max : hi)
    for (std::uint64_t s = 0; s < n; ++s) {
        const double steps = delay_steps(in[s], dt);
        // x - x is 0 only for finite x: a NaN delay would otherwise pass max(1, NaN) as 1
        const bool fits = steps <= most && in[s] - in[s] == 0.0;
        const auto d = std::uint16_t(fits ? steps : 1.0);
        stored[s] = Delay(d);
        bad += fits ? 0 : 1;
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    return {lo, hi, bad};
}

}  // namespace

bool has_one_weight(const projection_spec& pr) {
    return !pr.weight_from_file && pr.weight.type == synapse_distribution::kind::constant;
}

bool sends_spikes(const run_spec& spec, const generator_spec& g) {
    return std::any_of(spec.projections.begin(), spec.projections.end(),
                       [&](const projection_spec& pr) { return pr.source == g.name; });
}

csr synapse_source::connect(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
                            bool same_population, std::uint64_t seed, std::uint32_t projection_index) const {
    return ifsim::connect(r, num_sources, num_targets, same_population, seed, projection_index);
}

namespace {

// out[s] for s in [first, last), from the words of philox4x32_10(make_counter(s, 0), key): a
// batch's words in Philox lanes (draw_words, step 0 and purpose 0 make that counter), then its
// values in a loop flattened (log, sincos inlined) so that gcc runs it in vector lanes; one
// instance per kind, as a switch inside would keep it scalar.
template <synapse_distribution::kind K>
[[gnu::flatten]] void draw_range(const synapse_distribution d, philox_key key, double* out, std::int64_t first,
                                 std::int64_t last) {
    if constexpr (K == synapse_distribution::kind::constant) {
        std::fill(out + first, out + last, d.a);
        return;
    }
    constexpr std::int64_t batch = 1024;
    static_assert(batch % cpu::philox_lanes == 0);
    alignas(64) std::uint32_t x[batch], y[batch], z[batch];
    for (std::int64_t s0 = first; s0 < last; s0 += batch) {
        const std::int64_t count = std::min(batch, last - s0);
        cpu::draw_words(key, std::uint64_t(s0), count, 0, 0, x, y, z);
#pragma omp simd
        for (std::int64_t j = 0; j < count; ++j) out[s0 + j] = synapse_value_of<K>(d, x[j], y[j]);
    }
}

// Every value is a pure function of its synapse index: drawn in parallel, the same bits.
template <synapse_distribution::kind K>
void draw_values(const synapse_distribution& d, philox_key key, double* out, std::int64_t n) {
#pragma omp parallel
    {
        const std::int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
        draw_range<K>(d, key, out, n * t / T, n * (t + 1) / T);
    }
}

}  // namespace

void synapse_source::draw(const synapse_distribution& d, philox_key key, std::span<double> out) const {
    using kind = synapse_distribution::kind;
    const auto n = std::int64_t(out.size());
    switch (d.type) {
        case kind::constant: return draw_values<kind::constant>(d, key, out.data(), n);
        case kind::uniform: return draw_values<kind::uniform>(d, key, out.data(), n);
        case kind::normal: return draw_values<kind::normal>(d, key, out.data(), n);
        case kind::lognormal: return draw_values<kind::lognormal>(d, key, out.data(), n);
    }
}

double network::bytes_per_synapse() const {
    if (synapses == 0) return 0.0;
    double bytes = 0.0;
    for (const auto& p : projections)
        bytes += 4.0 * double(p.conn.targets.size()) + 4.0 * double(p.weight.size()) + double(p.delay8.size()) +
                 2.0 * double(p.delay16.size());
    return bytes / double(synapses);
}

namespace {

// The longest delay of any projection in steps, at most: a constant's, a distribution's largest
// draw, 1 for synapses from files (unknown until read).
double longest_delay_steps(const run_spec& spec) {
    double longest = 1.0;
    for (const projection_spec& pr : spec.projections) {
        if (pr.delay_from_file) continue;
        const bool one = pr.delay.type == synapse_distribution::kind::constant;
        const double ms = one ? pr.delay.a : synapse_value_extremes(pr.delay).second;
        if (std::isfinite(ms))
            longest = std::max(longest, std::min(delay_steps(ms, spec.simulation.dt_ms), max_delay_steps));
    }
    return longest;
}

// Bytes per neuron of population p at the run's peak, its rings apart (estimate_memory).
double population_bytes_per_neuron(const run_spec& spec, const population_spec& p) {
    const bool single = spec.simulation.real == precision::single;
    const double real_bytes = single ? 4.0 : 8.0;
    const auto [adaptive, coeff_bytes] = with_model(p.model, [single]<class Model>() {
        return std::pair{Model::adaptive, double(single ? sizeof(typename Model::template coeffs<float>)
                                                        : sizeof(typename Model::template coeffs<double>))};
    });
    const bool ou = !(p.input.sigma_I.is_constant() && p.input.sigma_I.a == 0.0);
    // Kept for the run: the state, the bias current where it varies, the coefficients where
    // parameters or noise vary.
    double bytes = real_bytes * (2.0 + (adaptive ? 1.0 : 0.0) + (ou ? 1.0 : 0.0));
    if (!p.input.I_e.is_constant()) bytes += real_bytes;
    bool params_vary = false;
    for (const auto& [name, d] : p.params) params_vary = params_vary || !d.is_constant();
    double noise_drawn = 0.0;  // the noise levels drawn per neuron, in double
    for (const distribution* d : {&p.input.sigma_V, &p.input.sigma_I})
        if (!d->is_constant()) noise_drawn += 8.0;
    if (params_vary || noise_drawn > 0.0) bytes += coeff_bytes;
    // Besides, while the coefficients are derived, each neuron's parameters (double) where they
    // vary and its noise levels, or else one value drawn per neuron (the bias current, an initial
    // value); then the CPU backend's copy of varying coefficients field by field, made before it
    // frees the structs (cpu_population.hpp); then, while it runs, the spike statistics.
    bool drawn_alone = !p.input.I_e.is_constant();
    for (const auto& [name, d] : p.init) drawn_alone = drawn_alone || !d.is_constant();
    const double with_params = (params_vary ? double(sizeof(neuron_params)) : 0.0) + noise_drawn;
    const double by_field = params_vary || noise_drawn > 0.0 ? coeff_bytes : 0.0;
    const double setup = std::max({with_params, by_field, drawn_alone ? 8.0 : 0.0});
    bytes += std::max(setup, spike_statistics_bytes_per_neuron);
    for (const synapse_channel& c : channels_onto(spec, p))
        if (c.kind != synapse_kind::delta) bytes += real_bytes;  // an exp channel's state
    return bytes;
}

// Bytes per neuron of population p's synaptic rings of `slots` slots (their channels' state apart).
double ring_bytes_per_neuron(const run_spec& spec, const population_spec& p, double slots) {
    double bytes = 0.0;
    for (const synapse_channel& c : channels_onto(spec, p)) bytes += double(channel_bytes_per_neuron(c, std::size_t(slots), 0));
    return bytes;
}

}  // namespace

memory_estimate estimate_memory(const run_spec& spec, std::span<const double> synapses, double file_delay_steps) {
    memory_estimate m;
    const auto add = [&](double bytes, const std::string& name, const std::string& advice) {
        m.bytes += bytes;
        if (bytes > m.largest) m.largest = bytes, m.largest_part = name, m.advice = advice;
    };
    const double slots = std::max(longest_delay_steps(spec), file_delay_steps) + 1.0;
    for (const population_spec& p : spec.populations) {
        add(double(p.size) * population_bytes_per_neuron(spec, p), "population '" + p.name + "'", populations_advice);
        add(double(p.size) * ring_bytes_per_neuron(spec, p, slots), "the synaptic rings of population '" + p.name + "'",
            rings_advice(slots));
    }
    double largest_building = 0.0;  // the projections are built one after the other
    std::string largest_building_part;
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        const source_ref s = find_source(spec, pr.source);
        const std::size_t t = population_index(spec, pr.target);
        const bool listed = pr.rule.kind == rule_kind::from_file;
        double n = 0.0;
        if (k < synapses.size()) {
            n = synapses[k];
        } else if (listed) {
            try {
                n = double(synapse_file_rows_estimate(pr.rule.file));
            } catch (const config_error& e) {
                throw config_error(describe_projection(pr, k) + ": " + e.what());
            }
        } else {
            n = expected_synapses(pr.rule, double(s.size), double(spec.populations[t].size), pr.source == pr.target);
        }
        m.synapses += n;
        // Kept until the build ends: the target and delay, and where weights vary, each drawn
        // (double) and in fixed point; each source's row offset.
        const double bytes = 4.0 + 2.0 + (has_one_weight(pr) ? 0.0 : 8.0 + 4.0);
        add(n * bytes + 8.0 * double(s.size), describe_projection(pr, k), connections_advice);
        // Held while this projection alone is built, beyond its targets and delays kept, first
        // while it is connected: the rows of the rules drawn row by row, a vector per source and
        // its targets again (with spare capacity, 6 B each); fixed_indegree's sources drawn per
        // target (4 B, before the delays' 2 B); fixed_total's pairs and their sources by target
        // (12 B, the targets' 4 B among them), and without multapses the pairs taken besides; then
        // delays that vary, in double before they become steps. (fixed_total of 2e7 synapses took
        // 2.8 times the estimate that left the pairs out.)
        double connecting = 0.0;
        if (pr.rule.kind == rule_kind::all_to_all || pr.rule.kind == rule_kind::one_to_one ||
            pr.rule.kind == rule_kind::pairwise_bernoulli || pr.rule.kind == rule_kind::fixed_outdegree)
            connecting = 6.0 * n + 24.0 * double(s.size);
        if (pr.rule.kind == rule_kind::fixed_indegree) connecting = 2.0 * n;
        if (pr.rule.kind == rule_kind::fixed_total) {
            const double pairs = double(s.size) * double(spec.populations[t].size);
            connecting = std::max(6.0 * n, pr.rule.multapses ? 0.0 : taken_pairs_bytes(pairs, n) + 2.0 * n);
        }
        // A file's synapses as read (source, target and its columns) and each one's file row, held
        // while its projection is built, not after (summed over the projections, they had a run of
        // 6e6 file synapses estimated at 1.4 times what it took).
        if (listed)
            connecting = 8.0 * n * (2.0 + (pr.weight_from_file ? 1.0 : 0.0) + (pr.delay_from_file ? 1.0 : 0.0) + 1.0);
        const double delays = pr.delay_from_file || pr.delay.type != synapse_distribution::kind::constant ? 8.0 * n : 0.0;
        const double building = std::max(connecting, delays);
        if (building > largest_building) largest_building = building, largest_building_part = describe_projection(pr, k);
    }
    if (largest_building > 0.0) add(largest_building, largest_building_part + " while it is built", connections_advice);
    // A state record's samples of a block, twice where the run has more than one (the block
    // being computed and the one being written); per recorded neuron its index in the record, the
    // backend's sampling lists and the report's mapping (36 B); and its writer's buffer of a
    // chunk's frames, with the chunk HDF5 caches (500 records of a neuron each took 0.6 MiB apiece).
    const std::uint64_t steps = total_steps(spec.simulation);
    const double blocks_held = steps > default_block_steps ? 2.0 : 1.0;
    for (const state_record& r : spec.states) {
        const double block = double(std::min<std::uint64_t>(steps, default_block_steps));
        const double rows = std::ceil(block / double(r.interval_steps(spec.simulation.dt_ms)));
        const report_chunks c = report_chunk_shape(r.neurons.size());
        const double writer = double(c.rows) * (double(r.neurons.size()) + double(c.cols)) * sizeof(float);
        add(double(r.neurons.size()) * (blocks_held * rows * sizeof(float) + 36.0) + writer, "record '" + r.name + "'",
            records_advice);
    }
    // A generator's schedule for the network, and another for the writer where it is recorded:
    // drawn one after the other, so one drawing's peak and the other's 12 B a spike.
    for (const generator_spec& g : spec.generators) {
        const double copies = (sends_spikes(spec, g) ? 1.0 : 0.0) +
                              double(std::count(spec.spikes.populations.begin(), spec.spikes.populations.end(), g.name));
        if (copies > 0.0)
            add(generator_schedule_bytes(g, spec.simulation) + (copies - 1.0) * 12.0 * expected_generator_spikes(g, spec.simulation),
                "generator '" + g.name + "'", "Give the generator fewer spikes: fewer neurons, a lower rate or a shorter window");
    }
    return m;
}

synapse_table read_projection_file(const run_spec& spec, std::size_t k) {
    const projection_spec& pr = spec.projections[k];
    const std::uint64_t num_targets = spec.populations[population_index(spec, pr.target)].size;
    try {
        return read_synapse_file(pr.rule.file, {find_source(spec, pr.source).size, num_targets,
                                                pr.synapse == synapse_kind::exp_conductance, spec.simulation.dt_ms,
                                                weight_unit_of(pr.synapse)});
    } catch (const config_error& e) {
        throw config_error(describe_projection(pr, k) + ": " + e.what());
    }
}

std::vector<double> synapse_counts(const run_spec& spec, double* file_delay_steps) {
    std::vector<double> counts;
    if (file_delay_steps) *file_delay_steps = 1.0;
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        const source_ref s = find_source(spec, pr.source);
        const std::uint64_t num_targets = spec.populations[population_index(spec, pr.target)].size;
        if (pr.rule.kind != rule_kind::from_file) {
            counts.push_back(expected_synapses(pr.rule, double(s.size), double(num_targets), pr.source == pr.target));
            continue;
        }
        const synapse_table file = read_projection_file(spec, k);
        counts.push_back(double(file.source.size()));
        if (file_delay_steps)
            for (const double ms : file.delay_ms)
                *file_delay_steps = std::max(*file_delay_steps, delay_steps(ms, spec.simulation.dt_ms));
    }
    return counts;
}

std::string format_bytes(double bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t u = 0;
    while (u + 1 < std::size(units) && bytes >= 1024.0) bytes /= 1024.0, ++u;
    char text[32];
    std::snprintf(text, sizeof text, "%.3g %s", bytes, units[u]);
    return text;
}

bool fits_in_memory(const memory_estimate& m, std::uint64_t available) {
    return available == 0 || m.bytes <= 0.9 * double(available);
}

std::string but_available(std::uint64_t available) {
    return ", but " + format_bytes(double(available)) +
           " of memory are available, a tenth of which is kept for what the estimate leaves out";
}

// Asked before the run, first before anything is drawn or allocated, and again once the synapse
// files are read if their delays lengthen the rings.
void require_memory(const memory_estimate& m, std::uint64_t available, const std::string& why) {
    if (fits_in_memory(m, available)) return;
    throw runtime_failure("the run needs at least about " + format_bytes(m.bytes) + why + but_available(available) +
                          "; the largest part is " + m.largest_part + " (" + format_bytes(m.largest) + "). " +
                          m.advice + ".");
}

network build_network(const run_spec& spec, const synapse_source& source) {
    const auto start = std::chrono::steady_clock::now();
    const simulation_spec& sim = spec.simulation;
    const std::uint64_t available = available_memory();
    require_memory(estimate_memory(spec), available);
    network net;
    net.channels.resize(spec.populations.size());

    // Connectivity and real-valued weights, projection by projection.
    std::vector<uninitialized_vector<double>> weights(spec.projections.size());
    for (std::size_t k = 0; k < spec.projections.size(); ++k) {
        const projection_spec& pr = spec.projections[k];
        built_projection b;
        const source_ref src = find_source(spec, pr.source);
        b.source = src.index;
        b.from_generator = src.generator;
        b.target = population_index(spec, pr.target);
        b.channel = channel_for(net.channels[b.target], pr);
        const std::uint64_t num_targets = spec.populations[b.target].size;
        synapse_table listed;           // from_file: the file's synapses
        std::vector<std::uint64_t> row;  // from_file: the file row of each synapse, in CSR order
        if (pr.rule.kind == rule_kind::from_file) {
            listed = read_projection_file(spec, k);
            b.conn = csr_of_pairs(listed.source, listed.target, src.size, num_targets, row);
        } else {
            b.conn = source.connect(pr.rule, src.size, num_targets, pr.source == pr.target, sim.seed, std::uint32_t(k));
        }
        const std::uint64_t n = num_synapses(b.conn);
        const philox_key wkey = make_key(sim.seed, weight_stream_base + std::uint32_t(k));
        const philox_key dkey = make_key(sim.seed, delay_stream_base + std::uint32_t(k));
        const bool one_weight = has_one_weight(pr);
        weights[k].resize(one_weight ? std::min<std::uint64_t>(n, 1) : n);
        if (one_weight) {
            if (n > 0) weights[k][0] = pr.weight.a;
        } else if (pr.weight_from_file) {
#pragma omp parallel for schedule(static)
            for (std::uint64_t s = 0; s < n; ++s) weights[k][s] = listed.weight[row[s]];
        } else {
            source.draw(pr.weight, wkey, weights[k]);
        }
        // Delays in whole steps; to_steps also checks the range (a file's delays are first
        // checked here: the config checked its distributions' extremes).
        const auto to_steps = [&](double ms) -> std::uint16_t {
            const double steps = delay_steps(ms, sim.dt_ms);
            if (!std::isfinite(ms))
                throw config_error(describe_projection(pr, k) + ": a delay of " + format_number(ms) +
                                   " ms is not finite: the delay distribution's parameters are out of range");
            if (!(steps <= max_delay_steps))
                throw config_error(describe_projection(pr, k) + ": a delay of " + format_number(ms) + " ms is " +
                                   format_number(steps) + " steps of dt = " + format_number(sim.dt_ms) +
                                   " ms; at most " + format_number(max_delay_steps) + " steps are allowed");
            return std::uint16_t(steps);
        };
        std::uint16_t lo = 65535, hi = 0;  // the projection's delay range [steps]
        if (!pr.delay_from_file && pr.delay.type == synapse_distribution::kind::constant) {
            b.constant_delay = lo = hi = to_steps(pr.delay.a);
        } else {
            uninitialized_vector<double> ms(n);
            if (pr.delay_from_file) {
#pragma omp parallel for schedule(static)
                for (std::uint64_t s = 0; s < n; ++s) ms[s] = listed.delay_ms[row[s]];
            } else {
                source.draw(pr.delay, dkey, ms);
            }
            // In one byte each where every delay fits one (delay_steps grows with ms; a NaN, which
            // max passes over, is out of range below either way).
            const double* const in = ms.data();
            double longest_ms = 0.0;
#pragma omp parallel for simd schedule(static) reduction(max : longest_ms)
            for (std::uint64_t s = 0; s < n; ++s) longest_ms = std::max(longest_ms, in[s]);
            const steps_range r = delay_steps(longest_ms, sim.dt_ms) <= std::numeric_limits<std::uint8_t>::max()
                                      ? delays_to_steps(in, n, sim.dt_ms, b.delay8)
                                      : delays_to_steps(in, n, sim.dt_ms, b.delay16);
            for (std::uint64_t s = 0; r.bad > 0 && s < n; ++s) to_steps(in[s]);  // throws for the first
            if (r.bad > 0)  // the width is chosen by the longest delay: cannot happen
                throw runtime_failure(describe_projection(pr, k) + ": a delay does not fit the width chosen for them");
            lo = r.lo;
            hi = r.hi;
            // One delay after rounding (a file's, a narrow range): stored once.
            if (n > 0 && lo == hi) {
                b.constant_delay = lo;
                b.delay8 = {};
                b.delay16 = {};
            }
        }
        if (n > 0) {  // a projection without synapses delivers nothing, whatever its delays
            net.min_delay_steps = net.min_delay_steps == 0 ? lo : std::min<std::uint32_t>(net.min_delay_steps, lo);
            net.max_delay_steps = std::max<std::uint32_t>(net.max_delay_steps, hi);
        }
        net.synapses += n;
        net.projection_synapses.push_back(n);
        net.projections.push_back(std::move(b));
    }
    // The rings are allocated after the build, as long as the longest delay, which a file's
    // delays were not known for before.
    const bool file_delays = std::any_of(spec.projections.begin(), spec.projections.end(),
                                         [](const projection_spec& pr) { return pr.delay_from_file; });
    if (file_delays && net.max_delay_steps > longest_delay_steps(spec)) {
        const std::vector<double> counts(net.projection_synapses.begin(), net.projection_synapses.end());
        require_memory(estimate_memory(spec, counts, net.max_delay_steps), available,
                             " (rings for the synapse files' longest delay, " + std::to_string(net.max_delay_steps) +
                                 " steps)");
    }

    for (std::size_t p = 0; p < spec.populations.size(); ++p)
        add_poisson_channel(net.channels[p], spec.populations[p].input);

    // A generator no projection leaves sends nothing: its spikes are not drawn.
    for (std::size_t g = 0; g < spec.generators.size(); ++g)
        net.generators.push_back(sends_spikes(spec, spec.generators[g]) ? schedule(spec.generators[g], sim, std::uint32_t(g))
                                                                        : generator_spikes{});
    // A synapse from a generator carries as many inputs in one step as its neuron fires in it.
    std::vector<std::uint64_t> most_per_step(net.generators.size());
    for (std::size_t g = 0; g < net.generators.size(); ++g) most_per_step[g] = net.generators[g].most_in_one_step();
    std::vector<std::uint64_t> inputs_per_synapse(net.projections.size(), 1);
    for (std::size_t k = 0; k < net.projections.size(); ++k)
        if (net.projections[k].from_generator) inputs_per_synapse[k] = most_per_step[net.projections[k].source];

    // Each channel's fixed-point format: its largest weight, and the most inputs one of its
    // neurons can receive in one step (every synapse onto it arriving together, a generator's as
    // often as its neuron fires in the step). Any bound on those keeps every sum in range; the
    // exact most can only refine the quantum where the synapses onto the channel, the bound, give
    // a coarser one than a single input would. With int64 sums that takes over 2^32 of them, so
    // the neurons are counted (0.4 s of the microcircuit's build, serially) only then.
    for (std::size_t p = 0; p < spec.populations.size(); ++p) {
        for (std::size_t c = 0; c < net.channels[p].size(); ++c) {
            double max_abs = 0.0;
            std::uint64_t onto = 0;  // synapses onto the channel
            std::string feeding;     // the projections onto this channel, for an error
            for (std::size_t k = 0; k < net.projections.size(); ++k) {
                const built_projection& b = net.projections[k];
                if (b.target != p || b.channel != c) continue;
                feeding += (feeding.empty() ? "" : ", ") + describe_projection(spec.projections[k], k);
                const double* const w = weights[k].data();
                double largest = 0.0;  // in vector lanes, on every thread: a serial max was ~1 s of the microcircuit's build
#pragma omp parallel for simd schedule(static) reduction(max : largest)
                for (std::uint64_t s = 0; s < weights[k].size(); ++s) largest = std::max(largest, std::fabs(w[s]));
                max_abs = std::max(max_abs, largest);
                onto = saturating_add(onto, saturating_multiply(num_synapses(b.conn), inputs_per_synapse[k]));
            }
            const auto most_inputs = [&] {
                std::vector<std::uint64_t> inputs(spec.populations[p].size, 0);
                for (std::size_t k = 0; k < net.projections.size(); ++k) {
                    const built_projection& b = net.projections[k];
                    if (b.target == p && b.channel == c)
                        for (const std::uint32_t t : b.conn.targets) inputs[t] = saturating_add(inputs[t], inputs_per_synapse[k]);
                }
                return inputs.empty() ? std::uint64_t{0} : *std::max_element(inputs.begin(), inputs.end());
            };
            try {
                fixed_point_format f = choose_format(max_abs, onto);
                if (f.exponent != choose_format(max_abs, 1).exponent) f = choose_format(max_abs, most_inputs());
                net.channels[p][c].format = f;
            } catch (const config_error& e) {
                throw config_error(feeding + ": the weights do not fit a fixed-point format (" + e.what() +
                                   "); the largest weight of a channel must be 0 or of magnitude " +
                                   format_number(min_largest_abs_weight) + " to " + format_number(max_abs_weight) +
                                   " in its unit");
            }
        }
    }
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        built_projection& b = net.projections[k];
        const fixed_point_format f = net.channels[b.target][b.channel].format;
        const std::uint64_t n = weights[k].size();
        b.weight.resize(n);
        const double* const in = weights[k].data();  // plain pointers, as for the delays above
        std::int32_t* const out = b.weight.data();
        std::uint64_t bad = 0;  // weights that do not fit; the first is named below
        std::int32_t lo = std::numeric_limits<std::int32_t>::max(), hi = std::numeric_limits<std::int32_t>::min();
        // f firstprivate: read through the shared copy, gcc kept this loop scalar.
#pragma omp parallel for simd schedule(static) reduction(+ : bad) reduction(min : lo) reduction(max : hi) firstprivate(f)
        for (std::uint64_t s = 0; s < n; ++s) {
            bad += weight_to_fixed(in[s], f, out[s]) ? 0 : 1;
            lo = std::min(lo, out[s]);
            hi = std::max(hi, out[s]);
        }
        for (std::uint64_t s = 0; bad > 0; ++s)
            if (std::int32_t unused = 0; !weight_to_fixed(in[s], f, unused))
                throw config_error(describe_projection(spec.projections[k], k) + ": weight " + format_number(in[s]) +
                                   (std::isfinite(in[s])
                                        ? " does not fit the fixed-point format of its channel"
                                        : " is not finite: the weight distribution's parameters are out of range"));
        // One weight in quanta (a constant, a file's, a narrow range): stored once, as delays are.
        if (n > 0 && lo == hi) {
            b.constant_weight = lo;
            b.weight = {};
        }
        weights[k] = {};  // release as we go
    }

    net.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return net;
}

}  // namespace ifsim
