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
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

int compare(const config_args& args, std::uint32_t block) {
    return reporting_errors("compare", [&] {
        std::vector<std::string> overrides = args.all_overrides();
        overrides.push_back("simulation.precision=float");  // the bitwise contract is for float
        const run_spec spec = load_config(args.config, overrides);
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
            std::cout << "identical (" << steps << " steps, " << spec.populations.size() << " populations)\n";
            return exit_ok;
        }
        std::cout << "differ: " << *difference << "\n";
        return exit_failure;
    });
}

}  // namespace ifsim::cli
