// Helpers for tests that run the engine in memory: a one-population spec, the backends a backend
// test is instantiated for, and spike trains collected from a run.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/spec.hpp"

namespace ifsim::test {

// A spec with one population "P" of `n` neurons of `model`, default parameters.
inline run_spec one_population(model_kind model, std::uint64_t n, double duration_ms, double dt_ms = 0.1,
                               precision real = precision::double_) {
    run_spec s;
    s.simulation.dt_ms = dt_ms;
    s.simulation.duration_ms = duration_ms;
    s.simulation.real = real;
    population_spec p;
    p.name = "P";
    p.size = n;
    p.model = model;
    s.populations.push_back(p);
    return s;
}

inline void set_param(run_spec& s, const std::string& name, double value) {
    s.populations[0].params[name] = distribution::constant(value);
}

#if IFSIM_HAVE_CUDA
// Device 0 as this process found it, asked once.
inline const cuda_status& cuda_here() {
    static const cuda_status status = query_cuda();
    return status;
}
#endif

// Why the CUDA backend cannot run here, or "" when it can.
inline std::string cuda_unavailable() {
#if IFSIM_HAVE_CUDA
    return cuda_here().usable ? "" : "no usable CUDA device: " + cuda_here().reason;
#else
    return "ifsim was built without CUDA (nvcc not found)";
#endif
}

// Threads device 0 holds resident at once (2048 per multiprocessor); 0 without a usable device.
inline std::uint64_t cuda_resident_threads() {
#if IFSIM_HAVE_CUDA
    return cuda_here().usable ? std::uint64_t(cuda_here().devices[0].multiprocessors) * 2048 : 0;
#else
    return 0;
#endif
}

// The backends a backend test runs on, by name.
inline std::unique_ptr<backend> make_backend(const std::string& name, const run_spec& spec) {
#if IFSIM_HAVE_CUDA
    if (name == "cuda") return make_cuda_backend(spec);
#endif
    if (name == "cpu") return make_cpu_backend(spec);
    ADD_FAILURE() << "unknown backend " << name;
    return nullptr;
}

struct run_output {
    std::vector<std::vector<double>> trains;  // spike times [ms] per neuron of population 0
    std::uint64_t spikes = 0;
    std::unique_ptr<backend> engine;          // for the final state
};

// Runs `spec` to its end in blocks of `block` steps, collecting population 0's spikes.
inline run_output simulate(const std::string& backend_name, const run_spec& spec, std::uint32_t block = 500) {
    run_output r;
    r.engine = make_backend(backend_name, spec);
    r.trains.resize(spec.populations[0].size);
    block_output out;
    out.spikes.resize(spec.populations.size());
    out.samples.resize(spec.states.size());
    out.sample_rows.resize(spec.states.size());
    const auto total = std::uint64_t(std::llround(spec.simulation.duration_ms / spec.simulation.dt_ms));
    for (std::uint64_t step = 0; step < total; step += block) {
        out.clear();
        const auto n = std::uint32_t(std::min<std::uint64_t>(block, total - step));
        r.engine->advance(step, n, out);
        const spike_list& s = out.spikes[0];
        for (std::size_t k = 0; k < s.size(); ++k)
            r.trains[s.neuron[k]].push_back((double(s.step[k]) + s.offset[k]) * spec.simulation.dt_ms);
        r.spikes += s.size();
    }
    return r;
}

}  // namespace ifsim::test
