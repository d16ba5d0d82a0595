// CPU throughput of the uncoupled noisy population for every model: neuron-steps/s, the bytes the
// step must move per neuron, and the memory-bandwidth floor they imply. Measures and reports; it
// asserts nothing. Usage: ifsim_bench_cpu [N ...] [--steps S] [--models lif,eif,...] [--no-bridge] [--csv]
// (--help says more); --no-bridge checks threshold on the grid only, as Brian2's peer run does.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ifsim/backend.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/memory_traffic.hpp"
#include "population_bench.hpp"

int main(int argc, char** argv) {
    CLI::App app{"ifsim_bench_cpu: CPU throughput of one uncoupled noisy population per model and size"};
    std::vector<double> sizes{1e5, 1e6};
    std::uint64_t steps = 1000;
    std::vector<std::string> names;
    bool csv = false, no_bridge = false;
    ifsim::bench::add_sizes(app, sizes, "1e5 1e6");
    app.add_option("--steps", steps, "timed steps, after 100 untimed ones (default 1000)")
        ->check(CLI::PositiveNumber);
    std::vector<std::string> all;
    for (const auto m : ifsim::all_models) all.emplace_back(ifsim::model_name(m));
    app.add_option("--models", names, "comma-separated models (default all)")
        ->delimiter(',')
        ->check(CLI::IsMember(all));
    app.add_flag("--no-bridge", no_bridge, "threshold on the grid only (Brian2's discretisation)");
    app.add_flag("--csv", csv, "CSV rows instead of text");
    CLI11_PARSE(app, argc, argv);

    const double bandwidth = ifsim::host_copy_bandwidth(ifsim::host_copy_bytes);
    if (csv)
        std::printf("model,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,"
                    "floor_neuron_steps_per_s\n");
    else
        std::printf("# copy bandwidth %.2f GB/s, %d threads\n# host code: %s\n", bandwidth * 1e-9,
                    omp_get_max_threads(), ifsim::build::host_isa);
    for (const auto m : ifsim::all_models) {
        if (!names.empty() && std::find(names.begin(), names.end(), ifsim::model_name(m)) == names.end()) continue;
        for (const std::uint64_t n : ifsim::bench::as_sizes(sizes)) {
            // The noisy LIF regime of bench/brian2_noisy_lif.py: mu 2 mV below threshold, sigma_V
            // 4 mV, Siegert rate 21.65 Hz. The other models get the same drive.
            const double I_e = m == ifsim::model_kind::qif ? 95.0 : 180.0;
            auto engine = ifsim::make_cpu_backend(ifsim::bench::noisy_population(m, n, I_e, -60.0, -50.0, !no_bridge));
            const ifsim::bench::timing t = ifsim::bench::time_steps(*engine, n, steps);
            const double nsps = double(n) * double(steps) / t.seconds;
            // V and the refractory state (and w for the adaptive models), read and written.
            const double bytes = engine->least_bytes_per_step() / double(n);
            const double floor = bandwidth / bytes;
            if (csv)
                std::printf("%s,%llu,%llu,%d,%.4f,%.4g,%.3f,%.0f,%.4g\n", std::string(ifsim::model_name(m)).c_str(),
                            (unsigned long long)n, (unsigned long long)steps, omp_get_max_threads(), t.seconds, nsps,
                            t.rate_Hz, bytes, floor);
            else
                std::printf("%-5s N=%-9llu %.3g neuron-steps/s  rate %.2f Hz  (%.0f B/neuron-step, floor %.3g/s)\n",
                            std::string(ifsim::model_name(m)).c_str(), (unsigned long long)n, nsps, t.rate_Hz, bytes,
                            floor);
            std::fflush(stdout);
        }
    }
    return 0;
}
