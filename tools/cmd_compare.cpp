// `ifsim compare`: the same config on the CPU and CUDA backends in float, step block by step block,
// until the first bit that differs — spikes, recorded samples, then the state — or "identical".
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

cuda_status probe_cuda();  // cmd_info.cpp

namespace {

template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// The first difference between the state records' samples of a block [block_start, block_end).
std::optional<std::string> first_sample_difference(const run_spec& spec, const block_output& a, const block_output& b,
                                                   std::uint64_t block_start) {
    char line[512];
    for (std::size_t r = 0; r < spec.states.size(); ++r) {
        const state_record& rec = spec.states[r];
        const std::vector<float>&x = a.samples[r], &y = b.samples[r];
        for (std::size_t k = 0; k < std::max(x.size(), y.size()); ++k) {
            if (k < x.size() && k < y.size() && same_bits(x[k], y[k])) continue;
            // Row j of a block samples the j-th multiple of the interval from block_start on.
            const std::uint64_t interval = rec.interval_steps(spec.simulation.dt_ms);
            const std::uint64_t step = (block_start + interval - 1) / interval * interval + k / rec.neurons.size() * interval;
            const auto value = [&](const std::vector<float>& v) {
                char text[32] = "no sample";
                if (k < v.size()) std::snprintf(text, sizeof text, "%.9g", double(v[k]));
                return std::string(text);
            };
            std::snprintf(line, sizeof line, "population %s, neuron %llu, step %llu, variable %s (record %s): cpu %s, cuda %s",
                          rec.population.c_str(), (unsigned long long)rec.neurons[k % rec.neurons.size()],
                          (unsigned long long)step, rec.variable.c_str(), rec.name.c_str(), value(x).c_str(),
                          value(y).c_str());
            return line;
        }
    }
    return std::nullopt;
}

// The first difference within one block's outputs and states, as a sentence; nothing if none.
std::optional<std::string> first_difference(const run_spec& spec, backend& cpu, backend& gpu, const block_output& a,
                                            const block_output& b, std::uint64_t block_start, std::uint64_t block_end) {
    char line[512];
    for (std::size_t p = 0; p < spec.populations.size(); ++p) {
        const spike_list &x = a.spikes[p], &y = b.spikes[p];
        const std::size_t n = std::min(x.size(), y.size());
        for (std::size_t k = 0; k <= n; ++k) {
            const bool x_ends = k == x.size(), y_ends = k == y.size();
            if (x_ends && y_ends) break;
            if (!x_ends && !y_ends && x.step[k] == y.step[k] && x.neuron[k] == y.neuron[k] &&
                same_bits(x.offset[k], y.offset[k]))
                continue;
            // Report the earlier of the two events that disagree.
            const bool from_x = y_ends || (!x_ends && (x.step[k] < y.step[k] || (x.step[k] == y.step[k] && x.neuron[k] <= y.neuron[k])));
            const spike_list& s = from_x ? x : y;
            std::snprintf(line, sizeof line,
                          "population %s, neuron %llu, step %llu, variable spike: %s has a spike (offset %.9g) the %s does not",
                          spec.populations[p].name.c_str(), (unsigned long long)s.neuron[k],
                          (unsigned long long)s.step[k], from_x ? "cpu" : "cuda", s.offset[k], from_x ? "cuda" : "cpu");
            return line;
        }
    }
    if (auto d = first_sample_difference(spec, a, b, block_start)) return d;
    for (std::size_t p = 0; p < spec.populations.size(); ++p) {
        for (const auto v : {state_variable::V_m, state_variable::w, state_variable::I_noise}) {
            const auto x = cpu.state(p, v), y = gpu.state(p, v);
            for (std::size_t i = 0; i < x.size(); ++i) {
                if (same_bits(x[i], y[i])) continue;
                static const char* names[] = {"V_m", "w", "I_noise"};
                std::snprintf(line, sizeof line,
                              "population %s, neuron %zu, by step %llu, variable %s: cpu %.9g, cuda %.9g",
                              spec.populations[p].name.c_str(), i, (unsigned long long)block_end,
                              names[int(v)], x[i], y[i]);
                return line;
            }
        }
    }
    return std::nullopt;
}

// Runs both backends from the start in blocks of `block` steps up to `steps`; the first difference.
std::optional<std::string> compare_run(const run_spec& spec, std::uint64_t steps, std::uint32_t block) {
    auto cpu = make_cpu_backend(spec);
    auto gpu = make_cuda_backend(spec);
    block_output a, b;
    for (auto* o : {&a, &b}) {
        o->spikes.resize(spec.populations.size());
        o->samples.resize(spec.states.size());
        o->sample_rows.resize(spec.states.size());
    }
    for (std::uint64_t step = 0; step < steps; step += block) {
        const auto n = std::uint32_t(std::min<std::uint64_t>(block, steps - step));
        a.clear();
        b.clear();
        cpu->advance(step, n, a);
        gpu->advance(step, n, b);
        if (auto d = first_difference(spec, *cpu, *gpu, a, b, step, step + n)) return d;
    }
    return std::nullopt;
}

}  // namespace

int compare(const std::filesystem::path& config, std::vector<std::string> overrides, std::uint32_t block) {
    return reporting_errors("compare", [&] {
        overrides.push_back("simulation.precision=float");  // the bitwise contract is for float
        const run_spec spec = load_config(config, overrides);
        const cuda_status status = probe_cuda();
        if (!status.usable) {
            std::cerr << "ifsim compare: no usable CUDA device (" << status.reason << ")\n";
            return exit_failure;
        }
        const std::uint64_t steps = total_steps(spec.simulation);
        auto difference = compare_run(spec, steps, block);
        if (!difference) {
            std::cout << "identical (" << steps << " steps, " << spec.populations.size() << " populations)\n";
            return exit_ok;
        }
        // A state difference is only known to the block; one-step blocks up to there pinpoint it.
        const auto by = difference->find("by step ");
        if (by != std::string::npos && block > 1) {
            const std::uint64_t end = std::stoull(difference->substr(by + 8));
            if (auto exact = compare_run(spec, end, 1)) difference = exact;
        }
        std::cout << "differ: " << *difference << "\n";
        return exit_failure;
    });
}

}  // namespace ifsim::cli
