// ifsim: the command line. Parses arguments and hands them to the subcommands in commands.hpp.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "ifsim/spec.hpp"

int main(int argc, char** argv) {
    using namespace ifsim::cli;
    CLI::App app{"ifsim: large populations of stochastic integrate-and-fire neurons on CPU and GPU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("ifsim ") + IFSIM_VERSION_STRING);

    run_args ra;
    auto* run_cmd = app.add_subcommand("run", "Run a simulation from a TOML config");
    run_cmd->add_option("config", ra.config, "Config file (TOML)")->required();
    run_cmd->add_option("-o,--out", ra.out_dir, "Output folder (default: out/<config name>)");
    run_cmd->add_option("-b,--backend", ra.backend, "auto | cpu | cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    // Ranges checked here, so that a bad value is blamed on the option given, not on the
    // simulation.seed / simulation.threads override it becomes.
    run_cmd->add_option("--seed", ra.seed, "Override simulation.seed")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{0xFFFFFFFF}));
    run_cmd->add_option("--threads", ra.threads, "CPU threads (default: all)")->check(CLI::Range(0u, ifsim::max_threads));
    run_cmd->add_option("--set", ra.overrides, "Override a config value: KEY=VALUE (repeatable)");
    run_cmd->add_flag("-q,--quiet", ra.quiet, "No progress or summary on stderr");

    bool info_bandwidth = false;
    app.add_subcommand("info", "Version, build options and devices found")
        ->add_flag("--bandwidth", info_bandwidth,
                   "Also measure the copy bandwidth of the host's memory and each usable GPU's (a few seconds)");

    std::filesystem::path compare_config;
    std::vector<std::string> compare_overrides;
    std::uint32_t compare_block = 10;
    CLI::App* compare_cmd = nullptr;
#if IFSIM_HAVE_CUDA
    compare_cmd = app.add_subcommand("compare", "Run CPU and CUDA in float; print identical or the first difference");
    compare_cmd->add_option("config", compare_config, "Config file (TOML)")->required();
    compare_cmd->add_option("--set", compare_overrides, "Override a config value: KEY=VALUE");
    compare_cmd->add_option("--block", compare_block, "Steps between state comparisons (default 10)")
        ->check(CLI::Range(1u, 100000u));
#endif

    bench_args ba;
    auto* bench_cmd = app.add_subcommand(
        "bench", "Time a config here: build, wall time, real-time factor, neuron-steps/s, synaptic events/s");
    bench_cmd->add_option("config", ba.config, "Config file (TOML)")->required();
    bench_cmd->add_option("-b,--backend", ba.backend, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    bench_cmd->add_option("--runs", ba.runs, "Runs, one after the other (default 3); the median is printed last")
        ->check(CLI::Range(1u, 1000u));
    bench_cmd->add_option("--threads", ba.threads, "CPU threads (default: all)")->check(CLI::Range(0u, ifsim::max_threads));
    bench_cmd->add_option("--set", ba.overrides, "Override a config value: KEY=VALUE (repeatable)");
    bench_cmd->add_flag("--csv", ba.csv, "CSV on stdout: one line per run, then the median");

    std::filesystem::path check_config;
    std::vector<std::string> check_overrides;
    bool check_build = false;
    auto* check_cmd = app.add_subcommand(
        "check", "Validate a config and print what it would run (synapses, memory) without running it");
    check_cmd->add_option("config", check_config, "Config file (TOML)")->required();
    check_cmd->add_option("--set", check_overrides, "Override a config value: KEY=VALUE (repeatable)");
    check_cmd->add_flag("--build", check_build, "Also build the network on the CPU (every synapse, exact counts)");

    std::filesystem::path theory_config, theory_csv;
    std::vector<std::string> theory_overrides;
    auto* theory_cmd = app.add_subcommand(
        "theory", "Write the predicted firing rate of every neuron (LIF/QIF F-I, Siegert) as CSV");
    theory_cmd->add_option("config", theory_config, "Config file (TOML), e.g. <out>/config.resolved.toml")
        ->required();
    theory_cmd->add_option("-o,--out", theory_csv, "CSV file (default: standard output)");
    theory_cmd->add_option("--set", theory_overrides, "Override a config value: KEY=VALUE");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_bad_input;
    }
    if (*run_cmd) return run(ra);
    if (*bench_cmd) return bench(ba);
    if (*check_cmd) return check(check_config, check_overrides, check_build);
    if (*theory_cmd) return theory(theory_config, theory_overrides, theory_csv);
    if (compare_cmd && *compare_cmd) return compare(compare_config, compare_overrides, compare_block);
    return info(info_bandwidth);
}
