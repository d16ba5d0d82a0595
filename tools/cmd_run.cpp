// `ifsim run`: config -> backend -> simulation -> files, with progress and a short report on stderr.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/models.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/network.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

namespace {

std::string format_duration(double s) {
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%.0f s", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%.0f min %02.0f s", std::floor(s / 60), std::fmod(s, 60));
    else std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
    return buf;
}

// Progress on stderr: a line rewritten in place on a terminal, else a line every few seconds.
class progress_printer {
public:
    explicit progress_printer(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO)) {}

    void operator()(const run_progress& p) {
        if (!enabled_ || p.wall_s < 1.0) return;
        const double every = tty_ ? 0.25 : 5.0;
        if (p.wall_s - last_ < every && p.steps_done < p.steps_total) return;
        last_ = p.wall_s;
        const double fraction = double(p.steps_done) / double(p.steps_total);
        const double rtf = p.wall_s / (p.simulated_ms * 1e-3);  // wall / simulated: < 1 is faster than real time
        const double eta = p.wall_s * (1.0 - fraction) / fraction;
        char buf[200];
        std::snprintf(buf, sizeof buf, "step %llu/%llu (%5.1f %%), t = %.1f ms, real-time factor %.3g, ETA %s",
                      (unsigned long long)p.steps_done, (unsigned long long)p.steps_total, 100 * fraction,
                      p.simulated_ms, rtf, format_duration(eta).c_str());
        std::cerr << (tty_ ? "\r" : "") << buf << (tty_ ? "\033[K" : "\n") << std::flush;
        printed_ = true;
    }
    ~progress_printer() {
        if (printed_ && tty_) std::cerr << "\n";
    }

private:
    bool enabled_, tty_;
    bool printed_ = false;
    double last_ = 0;
};

}  // namespace

std::atomic<bool> stop_requested{false};
extern "C" void on_stop_signal(int) { stop_requested.store(true); }

void stop_on_signals() {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        // A signal ignored on entry stays ignored: nohup's SIGHUP, a background job's SIGINT.
        struct sigaction old {};
        if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        std::signal(sig, on_stop_signal);
    }
}

namespace {

std::unique_ptr<backend> make_backend(const run_spec& spec, const std::string& choice, bool quiet) {
    // Millions of synapses take seconds to build, before the first progress line.
    const auto announce_build = [&] {
        if (const double synapses = estimate_memory(spec).synapses; !quiet && synapses >= 1e7)
            std::fprintf(stderr, "building the network: about %.3g synapses\n", synapses);
    };
    // Known from the config, so bad input on any machine, with a GPU or without.
    const std::string refused = choice == "cpu" ? std::string() : cuda_cannot_run(spec);
    if (choice == "cuda" && !refused.empty()) throw config_error("--backend cuda: " + refused);
    const cuda_status s = choice == "cpu" ? cuda_status{} : probe_cuda();
    if (choice == "cpu" || !s.usable || !refused.empty()) {
        if (choice == "cuda") throw runtime_failure("--backend cuda: no usable CUDA device (" + s.reason + ")");
        if (choice == "auto" && !quiet)
            std::cerr << "backend auto: "
                      << (s.usable ? "the CUDA backend cannot run this config" : "no usable GPU")
                      << ", running on the CPU (" << (s.usable ? refused : s.reason) << ")\n";
        announce_build();
        return make_cpu_backend(spec);
    }
    announce_build();
#if IFSIM_HAVE_CUDA
    try {
        return make_cuda_backend(spec);
    } catch (const device_memory_exhausted& e) {  // found as the backend was made, before anything ran
        if (choice == "cuda") throw runtime_failure(std::string(e.what()) + "; or run it on the CPU (--backend cpu)");
        if (!quiet) std::cerr << "backend auto: " << e.shortfall() << "; running on the CPU\n";
        return make_cpu_backend(spec);
    }
#else
    return make_cpu_backend(spec);  // unreachable: without the library probe_cuda() is never usable
#endif
}

}  // namespace

std::unique_ptr<backend> choose_backend(const run_spec& spec, const std::string& choice, bool quiet) {
    return naming_the_config(spec, [&] { return make_backend(spec, choice, quiet); });
}

namespace {

// An aLIF or AdEx whose V-w coupling the step does not resolve (adaptation_step_decay): it rings
// into spikes the model does not make (a = 3000 nS, tau_w = 0.5 ms fired at 120 Hz where the
// equations settle below threshold; a = 100 nS, tau_w = 1 ms at dt = 0.25 ms, decaying at 0.87 of
// the equations' rate, still fired once too many, at 0.125 ms (0.94) not). Said where the step
// decays at under 0.9 of the equations' rate, or grows, with the largest dt / 2^k that does not.
void warn_about_adaptation_step(const std::string& name, const neuron_params& p, double dt_ms) {
    const auto unresolved = [&](double dt) {
        const adaptation_decay d = adaptation_step_decay(p, dt);
        return d.exact < 1.0 && (d.step >= 1.0 || std::log(d.step) > 0.9 * std::log(d.exact));
    };
    if (!unresolved(dt_ms)) return;
    double fine = dt_ms;
    for (int k = 0; k < 30 && unresolved(fine); ++k) fine /= 2.0;
    const adaptation_decay d = adaptation_step_decay(p, dt_ms);
    std::cerr << "ifsim: warning: population '" << name << "': a = " << p.a << " nS with tau_w = " << p.tau_w
              << " ms couples V and w faster than dt = " << dt_ms << " ms resolves: near rest the step "
              << (d.step >= 1.0 ? "grows by " : "decays by ") << d.step << " per step where the equations decay by "
              << d.exact << ", and the neuron may fire where the model does not (docs/models.md); dt = " << fine
              << " ms would resolve it\n";
}

}  // namespace

void warn_about_inputs(const run_spec& spec, const network_stats& net) {
    // The run is whole steps: a duration between two is the nearest, said rather than silently.
    const simulation_spec& sim = spec.simulation;
    if (!is_whole_steps(sim.duration_ms, sim.dt_ms))
        std::cerr << "ifsim: warning: simulation.duration = " << sim.duration_ms << " ms is not a whole number of steps of dt = "
                  << sim.dt_ms << " ms: the run is " << total_steps(sim) << " steps, "
                  << double(total_steps(sim)) * sim.dt_ms << " ms\n";
    for (const population_spec& pop : spec.populations)
        for (const double t : pop.input.steps.time_ms)
            if (nearest_steps(t, sim.dt_ms) >= double(total_steps(sim)))
                std::cerr << "ifsim: warning: population '" << pop.name << "': input.steps switches at " << t
                          << " ms, at or after the run's end (" << sim.duration_ms << " ms); it never takes effect\n";
    for (const generator_spec& g : spec.generators)
        if (!sends_spikes(spec, g)) {
            if (std::find(spec.spikes.populations.begin(), spec.spikes.populations.end(), g.name) == spec.spikes.populations.end())
                std::cerr << "ifsim: warning: generator '" << g.name << "' is the source of no projection; it sends nothing\n";
        }
        else if (g.type == generator_spec::kind::poisson && g.rate_Hz == 0.0)
            std::cerr << "ifsim: warning: generator '" << g.name << "' has rate 0 Hz; it sends nothing\n";
        else if (g.type == generator_spec::kind::poisson && expected_generator_spikes(g, spec.simulation) == 0.0)
            std::cerr << "ifsim: warning: generator '" << g.name << "' fires at no time within the run (start "
                      << g.start_ms << " ms, run " << spec.simulation.duration_ms << " ms); it sends nothing\n";
        else if (const double late = generator_spikes_after_the_run(g, spec.simulation); late > 0)
            std::cerr << "ifsim: warning: generator '" << g.name << "' lists " << late
                      << " spike(s) after the run's end; they are never sent\n";
    for (std::size_t k = 0; k < spec.projections.size() && k < net.projection_synapses.size(); ++k) {
        if (net.projection_synapses[k] != 0) continue;
        const projection_spec& p = spec.projections[k];
        std::cerr << "ifsim: warning: " << describe_projection(p, k) << " makes no synapses"
                  << (p.rule.kind == rule_kind::from_file ? ": " + p.rule.file + " lists none" : std::string())
                  << "\n";
    }
    // A membrane time constant below dt is almost always a unit slip: C_m in nF (PyNN's unit)
    // written as a bare number of pF, 0.25 for 250.
    for (const population_spec& pop : spec.populations) {
        const bool one_set = std::all_of(pop.params.begin(), pop.params.end(),
                                         [](const auto& named) { return named.second.is_constant(); });
        if (!one_set) continue;  // no single time constant
        const neuron_params p = realize_params(pop, spec.simulation, 0).at(0);
        const double tau = with_model(pop.model, [&]<class Model>() { return Model::noise_tau_ms(p); });
        if (tau < spec.simulation.dt_ms)
            std::cerr << "ifsim: warning: population '" << pop.name << "': its membrane time constant, "
                      << (pop.model == model_kind::qif ? "C_m / (k (V_c - E_L))" : "C_m / g_L") << " = " << tau
                      << " ms, is below dt = " << spec.simulation.dt_ms
                      << " ms: use a smaller dt, or, if a unit slipped, C_m is in pF (PyNN's 0.25 nF is 250 pF) and "
                      << (pop.model == model_kind::qif ? "k in nS/mV" : "g_L in nS") << "\n";
        if (has_adaptation(pop.model) && p.a != 0.0) warn_about_adaptation_step(pop.name, p, spec.simulation.dt_ms);
    }
    // The V step holds the OU current at its start-of-step value: V's variance is right only for
    // tau_I well above dt (docs/models.md: +31 % at tau_I = dt / 2, under 0.1 % from 10 dt).
    for (const population_spec& pop : spec.populations) {
        const input_spec& in = pop.input;
        if (!(in.sigma_I.is_constant() && in.sigma_I.a == 0.0) && in.tau_I_ms < 5.0 * spec.simulation.dt_ms)
            std::cerr << "ifsim: warning: population '" << pop.name << "': input.ou.tau_I = " << in.tau_I_ms
                      << " ms is under 5 dt; the current is held over each step, so V's variance is too large "
                         "(docs/models.md); use a smaller dt\n";
    }
}

// More threads than CPUs take turns, and every interval waits for the one descheduled last.
void warn_about_threads(const run_spec& spec, const backend& engine, const config_args& args) {
    if (engine.name() != "cpu") return;
    // The backend set the threads when made; setting them again is a no-op that returns their number.
    const unsigned threads = use_run_threads(spec.simulation), cpus = cpus_available();
    if (cpus > 0 && threads > cpus)
        std::cerr << "ifsim: warning: " << threads << " threads on the " << cpus
                  << " CPU(s) this process may use: the threads take turns and the run slows down; set "
                  << (spec.simulation.threads == 0 ? "OMP_NUM_THREADS" : args.threads ? "--threads" : "simulation.threads")
                  << " to at most " << cpus
                  << "\n";
}

namespace {

// out/<config name>; a run's config.resolved.toml run again goes to out/<its folder>_rerun, so
// that reruns of different runs do not share out/config.resolved.
std::filesystem::path default_out_dir(const std::filesystem::path& config) {
    const auto folder = std::filesystem::absolute(config).lexically_normal().parent_path().filename();
    if (config.filename() == "config.resolved.toml" && !folder.empty())
        return std::filesystem::path("out") / (folder.string() + "_rerun");
    return std::filesystem::path("out") / config.stem();
}

void print_summary(const run_summary& s, const std::filesystem::path& dir) {
    std::fprintf(stderr, "%s: %llu steps of %g ms on %s (%s, %s) in %.3g s: %.3g neuron-steps/s, real-time factor %.3g\n",
                 s.status.c_str(), (unsigned long long)s.steps, s.dt_ms, s.backend.c_str(), s.device.c_str(),
                 s.precision.c_str(), s.wall_s, s.neuron_steps_per_s, s.real_time_factor);
    if (s.synapses > 0)
        std::fprintf(stderr, "  network: %llu synapses (%.3g B each, built in %.3g s), %.3g synaptic events/s\n",
                     (unsigned long long)s.synapses, s.bytes_per_synapse, s.network_build_s, s.synaptic_events_per_s);
    for (const auto& p : s.populations) {
        char cv[16] = "-";  // too few intervals for one
        if (std::isfinite(p.mean_cv)) std::snprintf(cv, sizeof cv, "%.3f", p.mean_cv);
        std::fprintf(stderr, "  %-12s %10llu neurons %12llu spikes  %8.3f Hz  CV mean %s\n", p.name.c_str(),
                     (unsigned long long)p.neurons, (unsigned long long)p.spikes, p.mean_rate_Hz, cv);
    }
    std::fprintf(stderr, "outputs in %s\n", dir.string().c_str());
}

}  // namespace

int run(const run_args& args) {
    std::filesystem::path dir;
    bool created_dir = false;  // made by this run, which holds its lock: removed again if left empty
    std::optional<output_folder_lock> lock;  // held until the files are closed, and the catch below
    try {
        const run_spec spec = load_config(args.config, args.all_overrides());

        dir = args.out_dir.empty() ? default_out_dir(args.config) : args.out_dir;
        std::error_code ec;  // (a name too long: prepare_output_dir says so)
        const bool made = !std::filesystem::exists(dir, ec);
        lock.emplace(prepare_output_dir(dir, spec));
        created_dir = made;
        if (made) remove_if_empty_on_crash(dir);
        stop_on_signals();  // a large network takes a while to build
        auto engine = choose_backend(spec, args.backend, args.quiet);
        if (stop_requested.load()) throw stopped_before_start();  // while the network was built
        warn_about_inputs(spec, engine->network());
        warn_about_threads(spec, *engine, args);
        if (spec.spikes.populations.empty() && spec.states.empty())
            std::cerr << "ifsim: warning: nothing is recorded (no [[record]] of spikes or state): the run writes only "
                         "summary.json and config.resolved.toml\n";
        if (!args.quiet && !earlier_run_files(dir).empty())
            std::cerr << dir.string() << ": replacing the earlier run there (its files; other files stay)\n";

        progress_printer progress(!args.quiet);
        run_options options;
        options.out_dir = dir;
        options.stop = &stop_requested;
        options.on_progress = [&](const run_progress& p) { progress(p); };
        const run_summary summary = run_simulation(spec, *engine, options);
        if (!args.quiet) print_summary(summary, dir);
        return summary.status == "completed" ? exit_ok : exit_interrupted;
    } catch (const stopped_before_start& e) {
        std::error_code ec;
        if (created_dir && std::filesystem::is_empty(dir, ec)) std::filesystem::remove(dir, ec);
        std::cerr << "ifsim: " << e.what() << "\n";
        return exit_interrupted;
    } catch (const std::exception& e) {
        // Nothing that looks like a result: a folder this run made and left empty goes again.
        std::error_code ec;
        if (created_dir && std::filesystem::is_empty(dir, ec)) std::filesystem::remove(dir, ec);
        const bool bad_input = dynamic_cast<const config_error*>(&e) != nullptr;
        std::cerr << (bad_input ? "ifsim: error: " : "ifsim: run failed: ") << failure_text(e) << "\n";
        return bad_input ? exit_bad_input : exit_failure;
    }
}

}  // namespace ifsim::cli
