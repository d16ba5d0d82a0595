// What the two population benchmarks (cpu_throughput.cpp, gpu_throughput.cpp) share: the
// uncoupled noisy population they time, the timed loop, and their command line's sizes.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/spec.hpp"

namespace ifsim::bench {

inline constexpr double dt_ms = 0.1;
inline constexpr std::uint64_t block_steps = 100;  // steps per advance() call, and the warm-up

// One population of n neurons with white noise of sigma_V = 4 mV, a constant current I_e [pA]
// and V_m uniform in [V_lo, V_hi] mV at the start; single precision, dt = 0.1 ms.
inline run_spec noisy_population(model_kind m, std::uint64_t n, double I_e_pA, double V_lo, double V_hi,
                                 bool bridge = true) {
    run_spec s;
    s.simulation.dt_ms = dt_ms;
    s.simulation.real = precision::single;
    population_spec p;
    p.name = "P";
    p.size = n;
    p.model = m;
    p.input.I_e = distribution::constant(I_e_pA);
    p.input.sigma_V = distribution::constant(4.0);
    p.input.bridge = bridge;
    p.init["V_m"] = {distribution::kind::uniform, V_lo, V_hi, {}};
    s.populations.push_back(p);
    return s;
}

struct timing {
    double seconds = 0;
    double rate_Hz = 0;  // spikes per neuron and second of the timed steps
};

// `steps` steps of b's one population of n neurons, timed, after block_steps untimed ones (first
// touch, caches), in advance() calls of at most block_steps.
inline timing time_steps(backend& b, std::uint64_t n, std::uint64_t steps) {
    block_output out;
    out.spikes.resize(1);
    b.advance(0, block_steps, out);
    std::uint64_t spikes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t done = 0; done < steps;) {
        const std::uint64_t now = std::min(block_steps, steps - done);
        out.clear();
        b.advance(block_steps + done, now, out);
        spikes += out.spikes[0].size();
        done += now;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {s, double(spikes) / (double(n) * double(steps) * dt_ms * 1e-3)};
}

// The positional sizes, written as numbers such as 1e6: whole, at least 1 and at most 2^32.
inline CLI::Option* add_sizes(CLI::App& app, std::vector<double>& sizes, const std::string& defaults) {
    return app.add_option("N", sizes, "population sizes, e.g. 1e5 1e6 (default " + defaults + ")")
        ->check(CLI::Validator(
            [](const std::string& text) -> std::string {
                char* end = nullptr;
                const double v = std::strtod(text.c_str(), &end);
                const bool number = end != text.c_str() && *end == '\0';
                const bool whole = number && v >= 1 && v <= 4294967296.0 && std::floor(v) == v;
                return whole ? "" : "'" + text + "' is not a size: a whole number in [1, 2^32] (e.g. 1e6)";
            },
            "SIZE"));
}

inline std::vector<std::uint64_t> as_sizes(const std::vector<double>& sizes) {
    return {sizes.begin(), sizes.end()};
}

}  // namespace ifsim::bench
