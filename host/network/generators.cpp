// Generators' spikes over the run (network.hpp): the listed times on the step grid, or each
// neuron's Poisson process drawn ahead from the stateless RNG, in step order for both backends.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <omp.h>

#include "ifsim/math.hpp"
#include "ifsim/network.hpp"
#include "ifsim/parallel_errors.hpp"
#include "ifsim/random.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim {

namespace {

using spike = std::pair<std::uint64_t, std::uint32_t>;  // (step, neuron)

std::vector<spike> listed_spikes(const generator_spec& g, double dt_ms) {
    std::vector<spike> spikes;
    const auto step_of = [&](double ms) { return std::uint64_t(nearest_steps(ms, dt_ms)) - 1; };
    if (g.neurons.empty()) {
        spikes.reserve(g.times_ms.size() * g.size);
        for (const double t : g.times_ms)
            for (std::uint64_t i = 0; i < g.size; ++i) spikes.emplace_back(step_of(t), std::uint32_t(i));
    } else {
        for (std::size_t k = 0; k < g.times_ms.size(); ++k)
            spikes.emplace_back(step_of(g.times_ms[k]), std::uint32_t(g.neurons[k]));
    }
    return spikes;
}

// Sorted (step, neuron) pairs as a schedule.
generator_spikes as_schedule(const std::vector<spike>& sorted) {
    generator_spikes out;
    out.step.reserve(sorted.size());
    out.neuron.reserve(sorted.size());
    for (const auto& [step, neuron] : sorted) {
        out.step.push_back(step);
        out.neuron.push_back(neuron);
    }
    return out;
}

// Whether n drawn spikes over `steps` steps are ordered by sorting them: where the steps' counts
// would outweigh the spikes (a long run with few spikes).
bool sorted_not_counted(double n, double steps) { return steps > 2.0 * n + double(1 << 20); }

// The parts, consecutive neuron ranges with each neuron's spikes in step order, as one schedule in
// (step, neuron) order: a stable counting sort by step, O(n + steps), straight into the schedule
// (1e8 spikes drawn and ordered in 7.5 s, against 14.4 s with std::sort of the pairs), unless
// sorted_not_counted.
generator_spikes in_step_order(const std::vector<std::vector<spike>>& parts, std::uint64_t steps) {
    std::uint64_t n = 0;
    for (const auto& p : parts) n += p.size();
    if (sorted_not_counted(double(n), double(steps))) {
        std::vector<spike> all;
        all.reserve(n);
        for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
        std::sort(all.begin(), all.end());
        return as_schedule(all);
    }
    std::vector<std::uint64_t> next(steps + 1, 0);  // where each step's spikes go
    for (const auto& p : parts)
        for (const auto& s : p) ++next[s.first + 1];
    for (std::uint64_t t = 0; t < steps; ++t) next[t + 1] += next[t];
    generator_spikes out;
    out.step.resize(n);
    out.neuron.resize(n);
    for (const auto& p : parts)
        for (const auto& [step, neuron] : p) {
            const std::uint64_t k = next[step]++;
            out.step[k] = step;
            out.neuron[k] = neuron;
        }
    return out;
}

// Neuron i's inter-spike intervals are exponential, -log(u) / rate, u the words of the Philox
// blocks (subsequence i, block 0, 1, ...) of the generator's stream, four per block; a spike at t
// falls in the step (k dt, (k + 1) dt] that holds it, whose end is its time. Neurons are drawn in
// parallel, each alone: the same spikes on any number of threads.
generator_spikes poisson_schedule(const generator_spec& g, const simulation_spec& sim, std::uint32_t index) {
    const double stop = std::min(g.stop_ms, sim.duration_ms);  // later spikes are never delivered
    if (!(g.rate_Hz > 0.0) || !(g.start_ms < stop)) return {};
    const philox_key key = make_key(sim.seed, generator_stream_base + index);
    const double mean_interval_ms = 1000.0 / g.rate_Hz;
    const std::uint64_t steps = total_steps(sim);
    std::vector<std::vector<spike>> parts(static_cast<std::size_t>(omp_get_max_threads()));
    const double expected_per_neuron = expected_generator_spikes(g, sim) / double(g.size);
    parallel_errors errors;  // a part that cannot grow (std::bad_alloc)
#pragma omp parallel
    errors.run([&] {
        const auto t = std::uint64_t(omp_get_thread_num()), T = std::uint64_t(omp_get_num_threads());
        const std::uint64_t first = g.size * t / T, last = g.size * (t + 1) / T;
        std::vector<spike>& out = parts[t];
        out.reserve(std::size_t(1.01 * expected_per_neuron * double(last - first)) + 1024);
        for (std::uint64_t i = first; i < last; ++i) {
            double time = g.start_ms;
            philox_block words{};
            for (std::uint64_t n = 0;; ++n) {
                if (n % 4 == 0) words = philox4x32_10(make_counter(i, n / 4), key);
                const std::uint32_t w = n % 4 == 0 ? words.x : n % 4 == 1 ? words.y : n % 4 == 2 ? words.z : words.w;
                time -= math::log(uniform_open<double>(w)) * mean_interval_ms;
                if (!(time < stop)) break;
                const std::uint64_t step = std::uint64_t(std::ceil(time / sim.dt_ms)) - 1;
                if (step >= steps) break;
                out.emplace_back(step, std::uint32_t(i));
            }
        }
    });
    errors.rethrow();
    return in_step_order(parts, steps);
}

}  // namespace

double expected_generator_spikes(const generator_spec& g, const simulation_spec& sim) {
    if (g.type == generator_spec::kind::times)
        return double(g.times_ms.size()) * double(g.neurons.empty() ? g.size : 1);
    const double span_ms = std::min(g.stop_ms, sim.duration_ms) - g.start_ms;
    return span_ms > 0.0 ? double(g.size) * g.rate_Hz * span_ms * 1e-3 : 0.0;
}

double generator_schedule_bytes(const generator_spec& g, const simulation_spec& sim) {
    const double n = expected_generator_spikes(g, sim);
    const double schedule = 12.0 * n, drawn = sizeof(spike) * n;  // (step, neuron) pairs: 16 B
    if (g.type != generator_spec::kind::poisson) return drawn + schedule;  // listed, sorted in place
    const double steps = double(total_steps(sim));
    return sorted_not_counted(n, steps) ? 2.0 * drawn + schedule : drawn + 8.0 * steps + schedule;
}

double generator_spikes_after_the_run(const generator_spec& g, const simulation_spec& sim) {
    if (g.type != generator_spec::kind::times) return 0.0;
    // A time t is sent in step round(t / dt) - 1 (listed_spikes); the run's steps are 0 .. n - 1.
    const double steps = double(total_steps(sim));
    const double late = double(std::count_if(g.times_ms.begin(), g.times_ms.end(),
                                             [&](double t) { return nearest_steps(t, sim.dt_ms) > steps; }));
    return late * double(g.neurons.empty() ? g.size : 1);
}

generator_spikes schedule(const generator_spec& g, const simulation_spec& sim, std::uint32_t index) {
    if (g.type == generator_spec::kind::poisson) return poisson_schedule(g, sim, index);
    std::vector<spike> spikes = listed_spikes(g, sim.dt_ms);
    std::sort(spikes.begin(), spikes.end());
    return as_schedule(spikes);
}

std::pair<std::size_t, std::size_t> generator_spikes::between(std::uint64_t first, std::uint64_t last) const {
    const auto lo = std::lower_bound(step.begin(), step.end(), first);
    const auto hi = std::lower_bound(lo, step.end(), last);
    return {std::size_t(lo - step.begin()), std::size_t(hi - step.begin())};
}

std::uint64_t generator_spikes::most_in_one_step() const {
    std::uint64_t most = 0, run = 0;  // (step, neuron) order: a neuron's spikes of a step are adjacent
    for (std::size_t k = 0; k < step.size(); ++k) {
        run = k > 0 && step[k] == step[k - 1] && neuron[k] == neuron[k - 1] ? run + 1 : 1;
        most = std::max(most, run);
    }
    return most;
}

}  // namespace ifsim
