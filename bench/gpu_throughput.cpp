// GPU throughput of uncoupled noisy populations (lif, eif, adex) at N = 1e6, 1e7, 1e8 as memory
// allows: neuron-steps/s, state bytes per neuron-step, achieved bandwidth and its ratio to the
// device's measured copy bandwidth, the CPU backend on the same work for the speedup, and what
// recording every spike costs at ~10 Hz. Measures and reports; asserts nothing.
// Usage: ifsim_bench_gpu [N ...] [--steps S] [--cpu-steps S]   (prints CSV)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/spec.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The CPU benchmark's population (bench/cpu_throughput.cpp) at I_e = 150 pA: the LIF fires at
// ~12 Hz, near the ~10 Hz at which the recording cost is to be measured. `silent` puts threshold
// out of reach so that nothing spikes: the difference between the two runs is what recording costs.
ifsim::run_spec noisy_population(ifsim::model_kind m, std::uint64_t n, bool silent) {
    ifsim::run_spec s;
    s.simulation.dt_ms = 0.1;
    s.simulation.real = ifsim::precision::single;
    ifsim::population_spec p;
    p.name = "P";
    p.size = n;
    p.model = m;
    p.input.I_e = ifsim::distribution::constant(silent ? 0.0 : 150.0);  // lif: ~12 Hz
    p.input.sigma_V = ifsim::distribution::constant(4.0);
    p.init["V_m"] = {ifsim::distribution::kind::uniform, -70.0, -60.0, {}};
    if (silent) p.params["V_th"] = ifsim::distribution::constant(1000.0);
    if (silent && m != ifsim::model_kind::lif) p.params["V_T"] = ifsim::distribution::constant(1000.0);
    s.populations.push_back(p);
    return s;
}

struct timing {
    double seconds = 0;
    double rate_Hz = 0;
};

timing time_steps(ifsim::backend& b, std::uint64_t n, std::uint64_t steps) {
    ifsim::block_output out;
    out.spikes.resize(1);
    b.advance(0, 100, out);  // warm-up
    std::uint64_t spikes = 0;
    const auto t0 = clock_type::now();
    for (std::uint64_t step = 100; step < 100 + steps; step += 100) {
        out.clear();
        b.advance(step, 100, out);
        spikes += out.spikes[0].size();
    }
    const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    return {s, double(spikes) / (double(n) * double(steps) * 1e-4)};
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> sizes;
    std::uint64_t steps = 1000, cpu_steps = 200;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::stoull(argv[++i]);
        else if (!std::strcmp(argv[i], "--cpu-steps") && i + 1 < argc) cpu_steps = std::stoull(argv[++i]);
        else sizes.push_back(std::uint64_t(std::stod(argv[i])));
    }
    if (sizes.empty()) sizes = {1000000, 10000000, 100000000};
    const ifsim::cuda_status status = ifsim::query_cuda();
    if (!status.usable) {
        std::fprintf(stderr, "ifsim_bench_gpu: no usable CUDA device (%s)\n", status.reason.c_str());
        return 1;
    }
    const double bandwidth = ifsim::device_copy_bandwidth(ifsim::device_copy_bytes);
    std::printf("# device %s, copy bandwidth %.1f GB/s\n", status.devices[0].name.c_str(), bandwidth * 1e-9);
    std::printf("model,N,steps,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,achieved_GB_s,of_copy_bandwidth,"
                "silent_neuron_steps_per_s,recording_cost,cpu_neuron_steps_per_s,speedup\n");
    for (const auto m : {ifsim::model_kind::lif, ifsim::model_kind::eif, ifsim::model_kind::adex}) {
        for (const auto n : sizes) {
            try {
                auto gpu = ifsim::make_cuda_backend(noisy_population(m, n, false));
                const timing t = time_steps(*gpu, n, steps);
                // V and the refractory state (and w for AdEx), read and written.
                const double bytes = gpu->least_bytes_per_step() / double(n);
                gpu.reset();
                auto quiet = ifsim::make_cuda_backend(noisy_population(m, n, true));
                const timing q = time_steps(*quiet, n, steps);
                quiet.reset();
                const double nsps = double(n) * double(steps) / t.seconds;
                const double silent = double(n) * double(steps) / q.seconds;
                // The CPU on the same work, at the smallest size only (it is ~1000x slower).
                double cpu = 0;
                if (n == sizes.front()) {
                    auto c = ifsim::make_cpu_backend(noisy_population(m, n, false));
                    cpu = double(n) * double(cpu_steps) / time_steps(*c, n, cpu_steps).seconds;
                }
                std::printf("%s,%llu,%llu,%.4f,%.4g,%.2f,%.0f,%.1f,%.3f,%.4g,%.3f,%.4g,%.1f\n",
                            std::string(ifsim::model_name(m)).c_str(), (unsigned long long)n,
                            (unsigned long long)steps, t.seconds, nsps, t.rate_Hz, bytes, nsps * bytes * 1e-9,
                            nsps * bytes / bandwidth, silent, t.seconds / q.seconds - 1.0, cpu,
                            cpu > 0 ? nsps / cpu : 0.0);
            } catch (const std::exception& e) {
                std::printf("%s,%llu,skipped: %s\n", std::string(ifsim::model_name(m)).c_str(),
                            (unsigned long long)n, e.what());
            }
            std::fflush(stdout);
        }
    }
    return 0;
}
