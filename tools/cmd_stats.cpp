// `ifsim stats DIR`: the spike statistics of a finished run's populations, from its spike file,
// beside what ifsim's theory predicts for them (theory_table.hpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "ifsim/analysis.hpp"
#include "ifsim/config.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/simulation.hpp"
#include "ifsim/spike_trains.hpp"
#include "ifsim/summary.hpp"
#include "ifsim/theory_table.hpp"
#include "ifsim/units.hpp"

namespace ifsim::cli {
namespace {

// The steps the run wrote: summary.json's "steps" (fewer than the config's for a run stopped
// early), once its "config_digest" shows that config.resolved.toml is the config that ran; the
// config's, said on stderr, where a run could not write summary.json. config_error for a folder
// whose files come from two runs, or a summary.json that is not one.
std::uint64_t written_steps(const std::filesystem::path& dir, const simulation_spec& sim) {
    const std::filesystem::path file = dir / "summary.json";
    if (!std::filesystem::exists(file)) {
        std::fprintf(stderr, "ifsim stats: no summary.json in %s (the run could not write it): taking the whole run, %s ms, "
                             "as written\n", dir.string().c_str(), format_number(double(total_steps(sim)) * sim.dt_ms).c_str());
        return total_steps(sim);
    }
    const std::string text = read_text_file(file);
    const auto first = text.find_first_not_of(" \t\r\n"), last = text.find_last_not_of(" \t\r\n");
    if (first == std::string::npos || text[first] != '{' || text[last] != '}')
        throw config_error(file.string() + ": not a JSON object (" + (text.empty() ? "empty" : "cut short or damaged") +
                           "): not the summary an ifsim run writes");
    std::string digest = summary_value(text, "config_digest").value_or("");  // a quoted hex string
    if (digest.size() >= 2 && digest.front() == '"' && digest.back() == '"') digest = digest.substr(1, digest.size() - 2);
    if (digest != sha256_hex(read_text_file(dir / "config.resolved.toml")))
        throw config_error(file.string() + (digest.empty() ? " has no config_digest: not an ifsim run's summary"
                                                           : ": its config_digest is not that of config.resolved.toml "
                                                             "beside it: the folder holds files of two runs"));
    // A run that failed before its spikes were written lists none: a spikes.h5 there is another's.
    if (const auto files = summary_strings(text, "files");
        files && std::find(files->begin(), files->end(), "spikes.h5") == files->end())
        throw config_error(file.string() + " does not list spikes.h5 among its run's files (its status " +
                           summary_value(text, "status").value_or("absent") +
                           "): the spikes.h5 beside it is an earlier run's");
    const std::string steps = summary_value(text, "steps").value_or("");
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(steps.data(), steps.data() + steps.size(), n);
    if (steps.empty() || ec != std::errc() || end != steps.data() + steps.size() || n > total_steps(sim))
        throw config_error(file.string() + ": \"steps\": " + (steps.empty() ? "absent" : steps) +
                           " is not a step count of this run (0 to " + std::to_string(total_steps(sim)) + ")");
    return n;
}

std::string number(double v, const char* fmt = "%.4g") {
    if (!std::isfinite(v)) return "-";
    char s[64];
    std::snprintf(s, sizeof s, fmt, v);
    return s;
}

// Fewer ISIs per neuron in the window than this make a serial correlation worth a warning: a window
// a few ISIs long keeps the pairs whose sum fits in it, which biases it negative (-0.12 with 3.6),
// and a train centred on its own means is biased by about -1/n.
constexpr double few_isis_per_neuron = 20.0;

// One recorded population's row.
struct population_stats {
    std::string name;
    std::uint64_t neurons = 0;  // recorded
    double from = 0, to = 0;    // [ms]
    analysis::isi_stats pooled;
    double cv_mean = NAN;  // of each neuron's own ISI CV
    std::uint64_t with_cv = 0;
    double fano = NAN;
    double rate_theory = NAN, cv_theory = NAN;
    bool per_train_centring = false;   // serial_corr_1's pairs centred on each train's own means,
    std::uint64_t serial_neurons = 0;  // over this many trains (those with few_isis_per_neuron ISIs)
};

// What stderr says about a population's serial correlation, if anything.
std::string serial_note(const population_stats& r) {
    const double per_neuron = r.neurons > 0 ? double(r.pooled.n_isi) / double(r.neurons) : 0.0;
    std::string note;
    if (r.per_train_centring)
        note = "its neurons differ in parameters or input, so each one's ISI pairs are centred on its own means, "
               "over the " + std::to_string(r.serial_neurons) + " neurons with " + number(few_isis_per_neuron, "%g") +
               " ISIs or more in the window (biased by about -1/n for n ISIs)";
    if (per_neuron > 0 && per_neuron < few_isis_per_neuron)
        note += std::string(note.empty() ? "" : "; ") + "the window holds " + number(per_neuron, "%.1f") +
                " ISIs per neuron, which biases it negative: take a window of " +
                number(few_isis_per_neuron, "%g") + " or more";
    return note.empty() ? note : "population '" + r.name + "': serial correlation: " + note;
}

// The theory's rate averaged over the recorded neurons, NaN unless each has one.
double mean_theory_rate(const theory_table& theory, const std::string& name, const neuron_subset& recorded,
                        std::uint64_t size) {
    const auto it = theory.rate_Hz.find(name);
    if (it == theory.rate_Hz.end()) return NAN;
    // A theory that stopped part way (the population's later neurons have none, theory_table's
    // notes say why) is no mean of the recorded neurons.
    for (std::uint64_t i = it->second.size(); i < size; ++i)
        if (recorded.contains(i)) return NAN;
    double sum = 0.0;
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < it->second.size(); ++i)
        if (recorded.contains(i)) sum += it->second[i], ++n;
    return n > 0 ? sum / double(n) : NAN;
}

// Spike record k over its window cut to what the run wrote (end_ms) and to --from / --to, or
// nothing where that leaves no time (said on stderr).
std::optional<population_stats> measure(const std::filesystem::path& dir, const run_spec& spec, std::size_t k,
                                        const stats_args& args, double end_ms, const theory_table& theory) {
    population_stats r;
    r.name = spec.spikes.populations[k];
    const auto pop = std::find_if(spec.populations.begin(), spec.populations.end(),
                                  [&](const population_spec& p) { return p.name == r.name; });
    const auto gen = std::find_if(spec.generators.begin(), spec.generators.end(),
                                  [&](const generator_spec& g) { return g.name == r.name; });
    const std::uint64_t size = pop != spec.populations.end() ? pop->size : gen->size;
    const record_window& w = spec.spikes.windows[k];
    r.from = std::max(w.start_ms, args.from_ms);
    r.to = std::min({w.stop_ms, end_ms, args.to_ms});
    if (!(r.to > r.from)) {
        std::fprintf(stderr, "ifsim stats: population '%s': its record (%g to %g ms) holds no time between --from and --to\n",
                     r.name.c_str(), w.start_ms, std::min(w.stop_ms, end_ms));
        return std::nullopt;
    }
    // Spike times after `from` up to `to`, as a record's window holds them: the edges on the step
    // grid, computed as the spike times are ((step + offset) dt), so that a spike at the end of a
    // step compares equal to it. What the record holds at its own start (a spike at a step's very
    // start) counts, as from 0.
    const double dt = spec.simulation.dt_ms;
    const double from_steps = nearest_steps(r.from, dt), to_steps = nearest_steps(r.to, dt);
    const double grid_from = from_steps * dt, grid_to = to_steps * dt;
    // At the record's start once on the grid: --from 0.05 at dt = 0.1 ms counts from 0, so with
    // what 0 holds, as --from 0 does.
    const bool at_record_start = from_steps == nearest_steps(w.start_ms, dt);
    const double t0 = at_record_start ? grid_from : std::nextafter(grid_from, INFINITY);
    const double t1 = std::nextafter(grid_to, INFINITY);
    if (!(grid_to > grid_from)) {
        std::fprintf(stderr,
                     "ifsim stats: population '%s': %g to %g ms is within one step of dt = %g ms (spikes are counted "
                     "whole steps at a time)\n",
                     r.name.c_str(), r.from, r.to, dt);
        return std::nullopt;
    }
    r.from = grid_from, r.to = grid_to;  // the span counted, as printed
    // The trains of the recorded neurons only: the others' are empty, not silent.
    // Any time of the configured run is one a run writes (a failed run's file can hold the block it
    // failed in, past `steps`); the counting stops at what the run wrote.
    auto all_trains = read_spike_trains(dir / "spikes.h5", r.name, size,
                                        double(total_steps(spec.simulation)) * spec.simulation.dt_ms);
    const neuron_subset& recorded = spec.spikes.neurons[k];
    std::vector<std::vector<double>> trains;
    for (std::uint64_t i = 0; i < size; ++i) {
        if (recorded.contains(i)) trains.push_back(std::move(all_trains[i]));
        else if (!all_trains[i].empty())
            throw runtime_failure((dir / "spikes.h5").string() + ": population '" + r.name + "' lists node " +
                                  std::to_string(i) + ", which its record does not record: not this run's file");
    }
    r.neurons = trains.size();

    r.pooled = analysis::pooled_isi_statistics(trains, t0, t1, analysis::serial_centring::population);
    // Neurons that differ have different mean ISIs: pairs centred on the population's means would
    // turn that into correlation (0.5 for a linspace of I_e), so each train is centred on its own,
    // over the trains long enough for that (a train of n ISIs biases it by about -1/n).
    r.per_train_centring = pop != spec.populations.end() && pop->neurons_differ();
    if (r.per_train_centring) {
        std::vector<std::vector<double>> long_trains;
        for (const auto& train : trains)
            if (double(analysis::isi_statistics(train, t0, t1).n_isi) >= few_isis_per_neuron) long_trains.push_back(train);
        r.serial_neurons = long_trains.size();
        const analysis::isi_stats own =
            long_trains.empty() ? analysis::isi_stats{}
                                : analysis::pooled_isi_statistics(long_trains, t0, t1, analysis::serial_centring::per_train);
        r.pooled.serial_corr_1 = long_trains.empty() ? NAN : own.serial_corr_1;
        r.pooled.serial_corr_1_stderr = long_trains.empty() ? NAN : own.serial_corr_1_stderr;
    }
    // The CV of each neuron's own ISIs, averaged (as summary.json's mean_cv): neurons that differ
    // in rate do not widen it.
    double cv_sum = 0.0;
    for (const auto& train : trains) {
        const double cv = analysis::isi_statistics(train, t0, t1).cv;
        if (std::isfinite(cv)) cv_sum += cv, ++r.with_cv;
    }
    if (r.with_cv > 0) r.cv_mean = cv_sum / double(r.with_cv);
    // Windows of whole steps over the span the spikes are counted in, (from, to], their edges
    // computed as the spike times are (round-off at an edge had a once-a-step train's Fano factor
    // of 0 read 0.12; edges half a step early counted the spike at `from` and dropped the one at
    // `to`: an audit of the numbers).
    r.fano = analysis::fano_factor(trains, dt, std::uint64_t(from_steps), std::uint64_t(to_steps),
                                   std::uint64_t(nearest_steps(args.fano_window_ms, dt)), at_record_start);
    r.rate_theory = mean_theory_rate(theory, r.name, recorded, size);
    if (const auto it = theory.cv.find(r.name); it != theory.cv.end()) r.cv_theory = it->second;
    // A Poisson generator firing throughout the span: its rate, and a Poisson process's CV of 1.
    if (gen != spec.generators.end() && gen->type == generator_spec::kind::poisson && gen->start_ms <= r.from &&
        r.to <= gen->stop_ms) {
        r.rate_theory = gen->rate_Hz;
        r.cv_theory = gen->rate_Hz > 0.0 ? 1.0 : NAN;
    }
    return r;
}

void print_header(bool csv) {
    if (csv)
        std::printf("population,neurons,from_ms,to_ms,spikes,rate_Hz,theory_rate_Hz,cv_pooled,cv_mean,neurons_with_cv,"
                    "theory_cv,serial_corr_1,serial_corr_1_stderr,fano,fano_window_ms\n");
    else
        std::printf("%-10s %9s %17s %10s %9s %9s %9s %7s %9s %17s %7s\n", "population", "neurons", "window (ms)",
                    "spikes", "rate Hz", "theory Hz", "CV pooled", "CV mean", "CV theory", "serial corr", "Fano");
}

void print_row(const population_stats& r, bool csv, double fano_window_ms) {
    if (csv) {
        // Every digit; an empty field where there is no value (pandas and numpy read it as NaN).
        const auto f = [](double v) { return std::isfinite(v) ? number(v, "%.17g") : std::string(); };
        std::printf("%s,%llu,%s,%s,%llu,%s,%s,%s,%s,%llu,%s,%s,%s,%s,%s\n", r.name.c_str(), (unsigned long long)r.neurons,
                    f(r.from).c_str(), f(r.to).c_str(), (unsigned long long)r.pooled.n_spikes, f(r.pooled.rate_Hz).c_str(),
                    f(r.rate_theory).c_str(), f(r.pooled.cv).c_str(), f(r.cv_mean).c_str(), (unsigned long long)r.with_cv,
                    f(r.cv_theory).c_str(), f(r.pooled.serial_corr_1).c_str(), f(r.pooled.serial_corr_1_stderr).c_str(),
                    f(r.fano).c_str(), f(fano_window_ms).c_str());
        return;
    }
    const std::string span = number(r.from, "%.12g") + "-" + number(r.to, "%.12g");
    const std::string corr = std::isnan(r.pooled.serial_corr_1)
                                 ? "-"
                                 : number(r.pooled.serial_corr_1, "%.3f") + " +- " + number(r.pooled.serial_corr_1_stderr, "%.3f");
    std::printf("%-10s %9llu %17s %10llu %9s %9s %9s %7s %9s %17s %7s\n", r.name.c_str(), (unsigned long long)r.neurons,
                span.c_str(), (unsigned long long)r.pooled.n_spikes, number(r.pooled.rate_Hz).c_str(),
                number(r.rate_theory).c_str(), number(r.pooled.cv, "%.3f").c_str(), number(r.cv_mean, "%.3f").c_str(),
                number(r.cv_theory, "%.3f").c_str(), corr.c_str(), number(r.fano, "%.3f").c_str());
}

}  // namespace

// Why a folder has spikes.h5.part rather than spikes.h5, as the words after "no spikes.h5"; empty
// where it has neither.
std::string why_no_spike_file(const std::filesystem::path& dir) {
    if (!std::filesystem::exists(dir / "spikes.h5.part")) return "";
    if (!std::filesystem::exists(dir / "summary.json"))
        return " but spikes.h5.part: a run is writing there, or was killed before it closed its files (docs/output.md)";
    const std::string status = summary_value(read_text_file(dir / "summary.json"), "status").value_or("absent");
    return " but spikes.h5.part, which the run did not close (summary.json's status " + status +
           ", and its message says why; docs/output.md)";
}

int stats(const std::filesystem::path& dir, const stats_args& given) {
    return reporting_errors("stats", [&] {
        stats_args args = given;
        if (!std::filesystem::exists(dir / "config.resolved.toml"))
            throw config_error(dir.string() + ": no config.resolved.toml: not the output folder of an ifsim run");
        const run_spec spec = load_config(dir / "config.resolved.toml", {});
        if (spec.spikes.populations.empty())
            throw config_error((dir / "config.resolved.toml").string() + ": the run had no [[record]] of spikes");
        if (!std::filesystem::exists(dir / "spikes.h5")) throw config_error(dir.string() + ": no spikes.h5" + why_no_spike_file(dir));
        if (!(args.to_ms > args.from_ms))
            throw config_error("--from " + format_number(args.from_ms) + " and --to " + format_number(args.to_ms) +
                               ": --to must be after --from");
        const bool window_given = args.fano_window_ms != 0.0;
        if (!window_given) args.fano_window_ms = std::max(100.0, spec.simulation.dt_ms);
        if (!(args.fano_window_ms >= spec.simulation.dt_ms))
            throw config_error("--fano-window " + format_number(args.fano_window_ms) +
                               " ms: shorter than the run's step, dt = " + format_number(spec.simulation.dt_ms) +
                               " ms (spikes are counted whole steps at a time)");
        // Windows of whole steps, as --from and --to: one of 1.5 steps would count one or two of
        // the grid's spike times by turns.
        if (!is_whole_steps(args.fano_window_ms, spec.simulation.dt_ms)) {
            const double whole = nearest_steps(args.fano_window_ms, spec.simulation.dt_ms) * spec.simulation.dt_ms;
            if (window_given)
                std::fprintf(stderr, "ifsim stats: --fano-window %g ms is counted as %g ms, whole steps of dt = %g ms\n",
                             args.fano_window_ms, whole, spec.simulation.dt_ms);
            args.fano_window_ms = whole;
        }
        const double end_ms = double(written_steps(dir, spec.simulation)) * spec.simulation.dt_ms;
        const theory_table theory = make_theory_table(spec, theory_parts::rates);
        std::vector<population_stats> rows;
        for (std::size_t k = 0; k < spec.spikes.populations.size(); ++k)
            if (auto row = measure(dir, spec, k, args, end_ms, theory)) rows.push_back(std::move(*row));
        // Nothing on stdout before this: a script gets a table or an error, not a header alone.
        if (rows.empty())
            throw config_error("no population was recorded between --from and --to (the run wrote " +
                               format_number(end_ms) + " ms)");
        print_header(args.csv);
        for (const auto& row : rows) print_row(row, args.csv, args.fano_window_ms);
        if (!args.csv)
            for (const auto& note : theory.notes) std::fprintf(stderr, "ifsim stats: theory: %s\n", note.c_str());
        // With --csv too: they say how serial_corr_1 was measured.
        for (const auto& row : rows)
            if (const std::string note = serial_note(row); !note.empty()) std::fprintf(stderr, "ifsim stats: %s\n", note.c_str());
        return exit_ok;
    });
}

}  // namespace ifsim::cli
