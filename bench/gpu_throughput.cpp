// GPU throughput of uncoupled noisy populations (lif, eif, adex, and lif_varied: the LIF with a
// C_m of its own per neuron, so per-neuron coefficients) at N = 1e6, 1e7, 1e8 as memory allows:
// neuron-steps/s, state bytes per neuron-step, achieved bandwidth and its ratio to the device's
// measured copy bandwidth, the CPU backend on the same work for the speedup, and what recording
// every spike costs at ~10 Hz. Measures and reports; asserts nothing.
// Usage: ifsim_bench_gpu [N ...] [--steps S] [--cpu-steps S]   (prints CSV; --help says more)
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "population_bench.hpp"

namespace {

// The CPU benchmark's population at I_e = 150 pA: the LIF fires at ~12 Hz, near the ~10 Hz at
// which the recording cost is to be measured. `silent` puts threshold out of reach so that nothing
// spikes: the difference between the two runs is what recording costs.
// `varied`: C_m uniform in [190, 210] pF per neuron (the default is 200 pF), which the update
// reads as per-neuron coefficients instead of the population's one set.
ifsim::run_spec noisy_population(ifsim::model_kind m, std::uint64_t n, bool silent, bool varied) {
    ifsim::run_spec s = ifsim::bench::noisy_population(m, n, silent ? 0.0 : 150.0, -70.0, -60.0);
    if (silent) s.populations[0].params["V_th"] = ifsim::distribution::constant(1000.0);
    if (silent && m != ifsim::model_kind::lif) s.populations[0].params["V_T"] = ifsim::distribution::constant(1000.0);
    if (varied) s.populations[0].params["C_m"] = {ifsim::distribution::kind::uniform, 190.0, 210.0, {}};
    return s;
}

struct variant {
    const char* name;
    ifsim::model_kind model;
    bool varied;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ifsim_bench_gpu: GPU throughput of one uncoupled noisy population (lif, eif, adex, lif_varied) per size"};
    std::vector<double> sizes{1e6, 1e7, 1e8};
    std::uint64_t steps = 1000, cpu_steps = 200;
    ifsim::bench::add_sizes(app, sizes, "1e6 1e7 1e8");
    app.add_option("--steps", steps, "timed GPU steps, after 100 untimed ones (default 1000)")
        ->check(CLI::PositiveNumber);
    app.add_option("--cpu-steps", cpu_steps, "timed CPU steps at the smallest size (default 200)")
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    const ifsim::cuda_status status = ifsim::query_cuda();
    if (!status.usable) {
        std::fprintf(stderr, "ifsim_bench_gpu: no usable CUDA device (%s)\n", status.reason.c_str());
        return 1;
    }
    // Without the bandwidth (too little free memory) the throughputs are still measured.
    double bandwidth = std::nan("");
    try {
        const ifsim::measured_copy b = ifsim::device_copy_bandwidth();
        bandwidth = b.bytes_per_s;
        std::printf("# device %s, copy bandwidth %.1f GB/s (%zu MiB copies)\n", status.devices[0].name.c_str(),
                    bandwidth * 1e-9, b.copy_bytes >> 20);
    } catch (const std::exception& e) {
        std::printf("# device %s, copy bandwidth not measured: %s\n", status.devices[0].name.c_str(), e.what());
    }
    std::printf("model,N,steps,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,achieved_GB_s,of_copy_bandwidth,"
                "silent_neuron_steps_per_s,recording_cost,cpu_neuron_steps_per_s,speedup\n");
    const variant variants[] = {{"lif", ifsim::model_kind::lif, false},
                                {"eif", ifsim::model_kind::eif, false},
                                {"adex", ifsim::model_kind::adex, false},
                                {"lif_varied", ifsim::model_kind::lif, true}};
    for (const auto& [name, m, varied] : variants) {
        for (const std::uint64_t n : ifsim::bench::as_sizes(sizes)) {
            try {
                auto gpu = ifsim::make_cuda_backend(noisy_population(m, n, false, varied));
                const ifsim::bench::timing t = ifsim::bench::time_steps(*gpu, n, steps);
                // V and the refractory state (and w for AdEx), read and written.
                const double bytes = gpu->least_bytes_per_step() / double(n);
                gpu.reset();
                auto quiet = ifsim::make_cuda_backend(noisy_population(m, n, true, varied));
                const ifsim::bench::timing q = ifsim::bench::time_steps(*quiet, n, steps);
                quiet.reset();
                const double nsps = double(n) * double(steps) / t.seconds;
                const double silent = double(n) * double(steps) / q.seconds;
                // The CPU on the same work, at the smallest size only (it is ~1000x slower).
                double cpu = 0;
                if (double(n) == sizes.front()) {
                    auto c = ifsim::make_cpu_backend(noisy_population(m, n, false, varied));
                    cpu = double(n) * double(cpu_steps) / ifsim::bench::time_steps(*c, n, cpu_steps).seconds;
                }
                std::printf("%s,%llu,%llu,%.4f,%.4g,%.2f,%.0f,%.4g,%.4g,%.4g,%.3f,%.4g,%.4g\n",
                            name, (unsigned long long)n,
                            (unsigned long long)steps, t.seconds, nsps, t.rate_Hz, bytes, nsps * bytes * 1e-9,
                            nsps * bytes / bandwidth, silent, t.seconds / q.seconds - 1.0, cpu,
                            cpu > 0 ? nsps / cpu : 0.0);
            } catch (const std::exception& e) {
                std::printf("%s,%llu,skipped: %s\n", name,
                            (unsigned long long)n, e.what());
            }
            std::fflush(stdout);
        }
    }
    return 0;
}
