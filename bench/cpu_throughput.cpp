// CPU throughput of the uncoupled noisy population for every model: neuron-steps/s, the bytes the
// step must move per neuron, and the memory-bandwidth floor they imply. Measures and reports; it
// asserts nothing. Usage: ifsim_bench_cpu [N ...] [--steps S] [--models lif,eif,...] [--no-bridge] [--csv]
// --no-bridge checks threshold on the grid only, the same discretisation as Brian2's peer run.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/spec.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

ifsim::run_spec noisy_population(ifsim::model_kind m, std::uint64_t n, bool bridge) {
    ifsim::run_spec s;
    s.simulation.dt_ms = 0.1;
    s.simulation.real = ifsim::precision::single;
    ifsim::population_spec p;
    p.name = "P";
    p.size = n;
    p.model = m;
    // The benchmark's noisy LIF regime (also bench/brian2_noisy_lif.py): mu 2 mV below threshold,
    // sigma_V = 4 mV: Siegert rate 21.65 Hz. The other models get the same drive.
    p.input.I_e = ifsim::distribution::constant(m == ifsim::model_kind::qif ? 95.0 : 180.0);
    p.input.sigma_V = ifsim::distribution::constant(4.0);
    p.input.bridge = bridge;
    p.init["V_m"] = {ifsim::distribution::kind::uniform, -60.0, -50.0, {}};
    s.populations.push_back(p);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> sizes;
    std::uint64_t steps = 1000;
    std::vector<ifsim::model_kind> models(ifsim::all_models.begin(), ifsim::all_models.end());
    bool csv = false;
    bool bridge = true;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::stoull(argv[++i]);
        else if (!std::strcmp(argv[i], "--csv")) csv = true;
        else if (!std::strcmp(argv[i], "--no-bridge")) bridge = false;
        else if (!std::strcmp(argv[i], "--models") && i + 1 < argc) {
            models.clear();
            const std::string list = std::string(",") + argv[++i] + ",";
            for (auto m : ifsim::all_models)
                if (list.find("," + std::string(ifsim::model_name(m)) + ",") != std::string::npos) models.push_back(m);
        } else sizes.push_back(std::uint64_t(std::stod(argv[i])));
    }
    if (sizes.empty()) sizes = {100000, 1000000};

    const double bandwidth = ifsim::host_copy_bandwidth(ifsim::host_copy_bytes);
    if (csv) std::printf("model,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,floor_neuron_steps_per_s\n");
    else std::printf("# copy bandwidth %.2f GB/s, %d threads\n", bandwidth * 1e-9, omp_get_max_threads());
    for (const auto m : models) {
        for (const auto n : sizes) {
            const auto spec = noisy_population(m, n, bridge);
            auto engine = ifsim::make_cpu_backend(spec);
            ifsim::block_output out;
            out.spikes.resize(1);
            engine->advance(0, 100, out);  // warm-up: first touch, caches
            out.clear();
            std::uint64_t spikes = 0;
            const auto t0 = clock_type::now();
            for (std::uint64_t step = 100; step < 100 + steps; step += 100) {
                out.clear();
                engine->advance(step, 100, out);
                spikes += out.spikes[0].size();
            }
            const double wall = seconds_since(t0);
            const double nsps = double(n) * double(steps) / wall;
            const double rate = double(spikes) / (double(n) * double(steps) * spec.simulation.dt_ms * 1e-3);
            // V and the refractory state (and w for the adaptive models), read and written.
            const double bytes = engine->least_bytes_per_step() / double(n);
            const double floor = bandwidth / bytes;
            if (csv)
                std::printf("%s,%llu,%llu,%d,%.4f,%.4g,%.3f,%.0f,%.4g\n", std::string(ifsim::model_name(m)).c_str(),
                            (unsigned long long)n, (unsigned long long)steps, omp_get_max_threads(), wall, nsps, rate,
                            bytes, floor);
            else
                std::printf("%-5s N=%-9llu %.3g neuron-steps/s  rate %.2f Hz  (%.0f B/neuron-step, floor %.3g/s)\n",
                            std::string(ifsim::model_name(m)).c_str(), (unsigned long long)n, nsps, rate, bytes, floor);
            std::fflush(stdout);
        }
    }
    return 0;
}
