// ifsim: the command line. Parses arguments and hands them to the subcommands in commands.hpp.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/spec.hpp"
#include "ifsim/units.hpp"

namespace {

// A time option's value in ms, as the config reads a time: a bare number of ms, or a number with
// its unit ("200 ms", "0.2 s").
const CLI::Validator time_in_ms(
    [](std::string& value) -> std::string {
        try {
            value = ifsim::format_number(ifsim::parse_quantity(value, ifsim::dimension::time, "the time"));
            return {};
        } catch (const ifsim::config_error& e) {
            return e.what();
        }
    },
    "TIME", "time");

// After time_in_ms: the value in ms at least 0, or above 0 (CLI11's own ranges print 1.8e308 in
// full).
CLI::Validator time_from(bool zero_allowed) {
    return CLI::Validator(
        [zero_allowed](std::string& value) -> std::string {
            const double ms = std::strtod(value.c_str(), nullptr);  // not stod: it throws on a subnormal (1e-320)
            if (zero_allowed ? ms >= 0.0 : ms > 0.0) return {};
            return value + " ms: must be " + (zero_allowed ? "0 or more" : "above 0");
        },
        zero_allowed ? "TIME >= 0" : "TIME > 0", "time range");
}

// The config file, --set, --seed and --threads (which a command that neither runs nor builds takes
// too, so that a script can pass the same options to each). Ranges are checked here, so that a
// bad value is blamed on the option given, not on the simulation.seed / simulation.threads
// override it becomes.
// Digits only: "abc" or "1e3" is no whole number, which CLI11's range check called out of range.
const CLI::Validator whole_number(
    [](const std::string& s) {
        const bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        return digits ? std::string() : "'" + s + "' is not a whole number (digits only: 0, 1, 2, ...)";
    },
    "INT");

void add_config_options(CLI::App* cmd, ifsim::cli::config_args& a, const char* config_help) {
    cmd->add_option("config", a.config, config_help)->required();
    cmd->add_option("--set", a.overrides, "Override a config value: KEY=VALUE (repeatable)");
    cmd->add_option("--seed", a.seed, "Override simulation.seed")
        ->check(whole_number)
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{0xFFFFFFFF}));
    cmd->add_option("--threads", a.threads, "CPU threads (default: OMP_NUM_THREADS, else all the process may use)")
        ->check(whole_number)
        ->check(CLI::Range(0u, ifsim::max_threads));
}

// An argument no option of `cmd` takes: named, with the nearest option, instead of CLI11's
// "The following arguments were not expected", which lists them in reverse.
int unexpected_arguments(const CLI::App& cmd) {
    const std::vector<std::string> extra = cmd.remaining();
    std::vector<std::string> names;
    for (const CLI::Option* o : cmd.get_options())
        for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    const std::vector<std::string_view> views(names.begin(), names.end());
    const std::string near = extra.front().starts_with("-") ? ifsim::suggest(extra.front(), views) : "";
    std::cerr << "ifsim " << cmd.get_name() << ": unexpected argument" << (extra.size() > 1 ? "s:" : ":");
    for (const auto& e : extra) std::cerr << " " << e;
    std::cerr << (near.empty() ? "" : " (did you mean " + near + "?)") << "\nRun with --help for more information.\n";
    return ifsim::cli::exit_bad_input;
}

bool is_command(const CLI::App& app, const std::string& name) {
    for (const CLI::App* cmd : app.get_subcommands({}))
        if (cmd->get_name() == name) return true;
    return false;
}

// No command, or a first argument that is neither a command nor one of ifsim's own options: said,
// with the nearest command (or `run` for a config file), instead of CLI11's "A subcommand is
// required".
int unknown_command(const CLI::App& app, const std::string& given) {
    std::vector<std::string> names;
    for (const CLI::App* cmd : app.get_subcommands({})) names.push_back(cmd->get_name());
    const std::vector<std::string_view> views(names.begin(), names.end());
    const std::string near = given.ends_with(".toml") ? "ifsim run " + given : ifsim::suggest(given, views);
    const std::string what = given.empty()              ? "no command"
                             : given.starts_with("-") ? "'" + given + "' is no option of ifsim before a command"
                                                      : "unknown command '" + given + "'";
    std::cerr << "ifsim: error: " << what << (near.empty() ? "" : " (did you mean " + near + "?)") << "; the commands:";
    for (const auto& n : names) std::cerr << " " << n;
    std::cerr << "\nRun with --help for more information.\n";
    return ifsim::cli::exit_bad_input;
}

// An empty --out (an unset $OUTDIR in a job script) is refused rather than taken as no --out.
const CLI::Validator not_empty_path(
    [](const std::string& s) { return s.empty() ? std::string("an empty path; name a folder or file") : std::string(); },
    "PATH");

}  // namespace

int main(int argc, char** argv) {
    using namespace ifsim::cli;
    // Past `ulimit -f` a write fails (EFBIG) and is said, its .part removed, rather than the
    // process being killed without a word (theory --out was).
    std::signal(SIGXFSZ, SIG_IGN);
    // A reader that goes (`ifsim theory ... | head -1`) makes a write fail (EPIPE), said on exit
    // (stdout_written), rather than killing the process without a word.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"ifsim: large populations of stochastic integrate-and-fire neurons on CPU and GPU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("ifsim ") + IFSIM_VERSION_STRING);

    run_args ra;
    auto* run_cmd = app.add_subcommand("run", "Run a simulation from a TOML config");
    add_config_options(run_cmd, ra, "Config file (TOML)");
    run_cmd->add_option("-o,--out", ra.out_dir, "Output folder (default: out/<config name>)")->check(not_empty_path);
    run_cmd->add_option("-b,--backend", ra.backend, "auto | cpu | cuda (default: auto, the GPU where one can run it)")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    run_cmd->add_flag("-q,--quiet", ra.quiet, "No progress or summary on stderr");

    bool info_bandwidth = false;
    app.add_subcommand("info", "Version, build options and devices found")
        ->add_flag("--bandwidth", info_bandwidth,
                   "Also measure the copy bandwidth of the host's memory and each usable GPU's (a few seconds)");

    config_args compare_args;
    std::uint32_t compare_block = 10;
    CLI::App* compare_cmd = nullptr;
#if IFSIM_HAVE_CUDA
    compare_cmd = app.add_subcommand("compare", "Run CPU and CUDA in float; print identical or the first difference");
    add_config_options(compare_cmd, compare_args, "Config file (TOML)");
    compare_cmd->add_option("--block", compare_block, "Steps between state comparisons (default 10)")
        ->check(CLI::Range(1u, 100000u));
#endif

    bench_args ba;
    auto* bench_cmd = app.add_subcommand(
        "bench", "Time a config here: build, wall time, real-time factor, neuron-steps/s, synaptic events/s");
    add_config_options(bench_cmd, ba, "Config file (TOML)");
    bench_cmd->add_option("-b,--backend", ba.backend, "auto | cpu | cuda (default: auto)")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    bench_cmd->add_option("--runs", ba.runs, "Runs, one after the other (default 3); the median is printed last")
        ->check(CLI::Range(1u, 1000u));
    bench_cmd->add_flag("--csv", ba.csv, "CSV on stdout: one line per run, then the median");

    config_args check_args;
    bool check_build = false;
    auto* check_cmd = app.add_subcommand(
        "check", "Validate a config and print what it would run (synapses, memory) without running it");
    add_config_options(check_cmd, check_args, "Config file (TOML)");
    check_cmd->add_flag("--build", check_build, "Also build the network on the CPU (every synapse, exact counts)");

    config_args theory_args;
    std::filesystem::path theory_csv;
    auto* theory_cmd = app.add_subcommand(
        "theory", "Write the predicted firing rate of every neuron (LIF/QIF/EIF F-I, Siegert, mean field) as CSV");
    add_config_options(theory_cmd, theory_args, "Config file (TOML), e.g. <out>/config.resolved.toml");
    theory_cmd->add_option("-o,--out", theory_csv, "CSV file (default: standard output)")->check(not_empty_path);

    config_args synapses_args;
    std::filesystem::path synapses_out;
    std::string synapses_format = "h5";
    auto* synapses_cmd = app.add_subcommand(
        "synapses", "Build the network on the CPU and write every projection's synapses to files, with a config that reads them");
    add_config_options(synapses_cmd, synapses_args, "Config file (TOML)");
    synapses_cmd->add_option("-o,--out", synapses_out, "Output folder")->required()->check(not_empty_path);
    synapses_cmd->add_option("--format", synapses_format, "h5 (default) | csv")->check(CLI::IsMember({"h5", "csv"}));

    std::filesystem::path stats_dir;
    stats_args sa;
    auto* stats_cmd = app.add_subcommand(
        "stats", "Spike statistics of a run's output folder (rate, CV, serial correlation, Fano) beside the theory's");
    stats_cmd->add_option("dir", stats_dir, "Output folder of ifsim run")->required()->check(CLI::ExistingDirectory);
    stats_cmd->add_option("--from", sa.from_ms, "Start of the analysed time, ms or with a unit (default: the record's start)")
        ->transform(time_in_ms)
        ->check(time_from(true));
    stats_cmd->add_option("--to", sa.to_ms, "End of the analysed time, ms or with a unit (default: the run's end)")
        ->transform(time_in_ms)
        ->check(time_from(true));
    stats_cmd->add_option("--fano-window", sa.fano_window_ms, "Count window of the Fano factor, ms or with a unit (default 100 ms, or dt where longer)")
        ->transform(time_in_ms)
        ->check(time_from(false));
    stats_cmd->add_flag("--csv", sa.csv, "CSV on stdout, every digit");

    for (CLI::App* cmd : app.get_subcommands({})) cmd->allow_extras();
    const auto own_option = [](std::string_view a) { return a == "-h" || a == "--help" || a == "--version"; };
    if (argc == 1 || (argv[1][0] != '-' && !is_command(app, argv[1])) || (argv[1][0] == '-' && !own_option(argv[1])))
        return unknown_command(app, argc > 1 ? argv[1] : "");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::cerr << "ifsim: error: " << e.what() << "\nRun with --help for more information.\n";
        return exit_bad_input;
    }
    for (const CLI::App* cmd : app.get_subcommands())
        if (!cmd->remaining().empty()) return unexpected_arguments(*cmd);
    const int code = [&] {
        if (*run_cmd) return run(ra);
        if (*bench_cmd) return bench(ba);
        if (*check_cmd) return check(check_args, check_build);
        if (*theory_cmd) return theory(theory_args, theory_csv);
        if (*synapses_cmd) return synapses(synapses_args, synapses_out, synapses_format);
        if (*stats_cmd) return stats(stats_dir, sa);
        if (compare_cmd && *compare_cmd) return compare(compare_args, compare_block);
        return info(info_bandwidth);
    }();
    return ifsim::cli::stdout_written(code);
}
