// `ifsim compare`: the same config on the CPU and CUDA backends in float, step block by step block,
// until the first bit that differs — spikes, recorded samples, then the state — or "identical"
// (the comparison itself: compare.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "ifsim/compare.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

int compare(const config_args& args, std::uint32_t block) {
    return reporting_errors("compare", [&] {
        // The bitwise contract is float's: a config (or --set) asking for double is compared in
        // float, and said so; one that float cannot run is refused with the reason.
        std::vector<std::string> overrides = args.all_overrides();
        const bool asked_double = load_config(args.config, overrides).simulation.real != precision::single;
        overrides.push_back("simulation.precision=float");
        const run_spec spec = [&] {
            try {
                return load_config(args.config, overrides);
            } catch (const config_error& e) {
                if (!asked_double) throw;
                throw config_error(std::string(e.what()) + " (ifsim compare runs in float only: CPU and CUDA "
                                   "agree bit for bit there)");
            }
        }();
        if (asked_double)
            std::cerr << "ifsim compare: comparing in float, not the double this config asks for: CPU and CUDA "
                         "agree bit for bit in float\n";
        const cuda_status status = probe_cuda();
        if (!status.usable) {
            std::cerr << "ifsim compare: no usable CUDA device (" << status.reason << ")\n";
            return exit_failure;
        }
        const std::uint64_t steps = total_steps(spec.simulation);
        const compared_backend cpu{"cpu", [&] { return make_cpu_backend(spec); }};
        const compared_backend cuda{"cuda", [&] { return make_cuda_backend(spec, block); }};
        const auto difference = first_difference(spec, cpu, cuda, steps, block);
        if (!difference) {
            const std::size_t n = spec.populations.size();
            std::cout << "identical (" << steps << " steps, " << n << (n == 1 ? " population)\n" : " populations)\n");
            return exit_ok;
        }
        std::cout << "differ: " << *difference << "\n";
        return exit_failure;
    });
}

}  // namespace ifsim::cli
