// The simulation loop: blocks of steps on the backend, streaming output, statistics, summary.
#include "ifsim/simulation.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <system_error>

#include "ifsim/background_consumer.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/network.hpp"
#include "ifsim/recording.hpp"

namespace ifsim {
namespace {

// The names of a run's files in its folder, for the check before the run, the files it creates
// and summary.json's list of them.
constexpr const char* spike_file_name = "spikes.h5";
constexpr const char* resolved_config_file = "config.resolved.toml";
constexpr const char* summary_file = "summary.json";
std::string report_file_name(const state_record& r) { return r.name + ".h5"; }

const char* unit_of(state_variable v) {
    return v == state_variable::V_m ? "mV" : v == state_variable::g_syn ? "nS" : "pA";
}


// A sample that float cannot hold (a double run's state beyond 3.4e38) would reach its report as
// inf: the run stops there instead, the blocks before it written. `first_step` starts the block.
void check_samples(const run_spec& spec, std::uint64_t first_step, const block_output& out) {
    for (std::size_t r = 0; r < spec.states.size(); ++r) {
        const state_record& rec = spec.states[r];
        const std::vector<float>& v = out.samples[r];
        for (std::size_t k = 0; k < v.size(); ++k) {
            if (std::isfinite(v[k])) continue;
            const std::size_t m = rec.neurons.size();
            const std::uint64_t every = rec.interval_steps(spec.simulation.dt_ms);
            const std::uint64_t first_sample = rec.sample_from(first_step, spec.simulation.dt_ms);
            const std::uint64_t neuron = rec.neurons[k % m], step = first_sample + (k / m) * every;
            const std::size_t pop = recorded_population(spec, rec);
            std::uint64_t first_id = 0;  // the population's, for the neuron's global id
            for (std::size_t p = 0; p < pop; ++p) first_id += spec.populations[p].size;
            throw numerical_error("state record '" + rec.name + "': " + rec.variable + " of population '" +
                                      rec.population + "' is beyond the range of its float report (|x| > 3.4e38); "
                                      "its inputs or parameters drive it out of any physical range",
                                  first_id + neuron, step,
                                  " (its neuron " + std::to_string(neuron) + ", step " + std::to_string(step) + ")");
        }
    }
}

// Of a block's `rows` samples of record r (the first at or after first_step), those inside its
// window.
struct rows_in_window {
    std::size_t first = 0, count = 0;
};
rows_in_window sample_rows_in_window(const state_record& r, double dt_ms, std::uint64_t first_step, std::size_t rows) {
    const std::uint64_t every = r.interval_steps(dt_ms);
    const std::uint64_t first_sample = r.sample_from(first_step, dt_ms);
    const std::uint64_t from = r.first_sample_step(dt_ms), to = r.window.end_step(dt_ms);
    // Rows k with from <= first_sample + k every < to.
    const std::uint64_t lo = from > first_sample ? (from - first_sample + every - 1) / every : 0;
    const std::uint64_t hi = to == std::numeric_limits<std::uint64_t>::max() ? rows
                             : to > first_sample                          ? (to - first_sample + every - 1) / every
                                                                          : 0;
    const std::uint64_t begin = std::min<std::uint64_t>(lo, rows), end = std::min<std::uint64_t>(hi, rows);
    return {std::size_t(begin), std::size_t(end > begin ? end - begin : 0)};
}

// Per-neuron inter-spike interval moments for the summary's mean CV, updated as spikes stream by
// (Welford's running mean and sum of squared deviations: a one-pass sum of squares cancelled for
// regular trains, where the variance is tiny beside the squared mean).
class isi_accumulator {
public:
    explicit isi_accumulator(std::uint64_t n) : last_(n, -1.0), mean_(n, 0.0), m2_(n, 0.0), count_(n, 0) {}

    // A neuron's first 2^32 - 1 intervals count (more takes over 2^32 steps of firing in every
    // one; 4 bytes a neuron rather than 8 for a count that wraps).
    void add(std::uint64_t neuron, double t_ms) {
        if (last_[neuron] >= 0.0 && count_[neuron] < std::numeric_limits<std::uint32_t>::max()) {
            const double isi = t_ms - last_[neuron];
            ++count_[neuron];
            const double d = isi - mean_[neuron];
            mean_[neuron] += d / double(count_[neuron]);
            m2_[neuron] += d * (isi - mean_[neuron]);
        }
        last_[neuron] = t_ms;
    }

    // Mean over neurons with at least two intervals of their ISI coefficient of variation: the
    // sample standard deviation (n - 1) over the mean, as analysis::isi_statistics and ifsim stats.
    void summarise(population_summary& s) const {
        double total = 0.0;
        std::uint64_t used = 0;
        for (std::size_t i = 0; i < count_.size(); ++i) {
            if (count_[i] < 2) continue;
            total += std::sqrt(std::max(0.0, m2_[i]) / (double(count_[i]) - 1.0)) / mean_[i];
            ++used;
        }
        s.neurons_with_cv = used;
        if (used > 0) s.mean_cv = total / double(used);
    }

private:
    std::vector<double> last_, mean_, m2_;
    std::vector<std::uint32_t> count_;
};
static_assert(spike_statistics_bytes_per_neuron == 3 * sizeof(double) + sizeof(std::uint32_t),
              "estimate_memory counts isi_accumulator's arrays");

// Backends give spikes in step order and neuron order within a step; interpolated spike times (and
// spikes at a step's start) can make that differ from time order. The file promises by_time, so
// reorder by time, keeping neuron order between equal times.
void sort_by_time(const std::vector<double>& t, const std::vector<std::uint64_t>& id, std::vector<double>& t_out,
                  std::vector<std::uint64_t>& id_out) {
    std::vector<std::size_t> order(t.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (!std::is_sorted(t.begin(), t.end()))
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
    t_out.resize(t.size());
    id_out.resize(t.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        t_out[k] = t[order[k]];
        id_out[k] = id[order[k]];
    }
}

}  // namespace

numerical_error located(const numerical_error& e, const run_spec& spec, std::uint64_t first_step, std::uint32_t steps) {
    std::uint64_t first_id = 0;
    for (const population_spec& p : spec.populations) {
        if (e.neuron() < first_id + p.size)
            return numerical_error(e.reason(), e.neuron(), e.step(),
                                   " in population '" + p.name + "' (its neuron " + std::to_string(e.neuron() - first_id) +
                                       "), found by the check after steps " + std::to_string(first_step) + "-" +
                                       std::to_string(first_step + steps - 1) +
                                       "; its inputs or parameters drive it out of range");
        first_id += p.size;
    }
    return e;
}

std::uint64_t total_steps(const simulation_spec& sim) {
    return std::uint64_t(nearest_steps(sim.duration_ms, sim.dt_ms));
}

namespace {

// A file the run would write over must be an earlier ifsim run's: one its summary.json lists, or
// any of a run that wrote its config.resolved.toml but no summary.json (killed, or its summary
// could not be written). Another (the user's spikes.h5) is refused, not replaced: nothing is lost.
void check_replaceable(const std::filesystem::path& dir, const std::vector<std::string>& files) {
    std::error_code ec;
    const std::vector<std::string> earlier = earlier_run_files(dir);
    const bool unfinished_run = !std::filesystem::exists(dir / summary_file, ec) &&
                                read_text_file(dir / resolved_config_file).starts_with(resolved_config_header);
    for (const std::string& name : files) {
        if (unfinished_run || !std::filesystem::is_regular_file(dir / name, ec)) continue;
        if (std::find(earlier.begin(), earlier.end(), name) != earlier.end()) continue;
        throw config_error("output folder '" + dir.string() + "' holds " + name + ", which no ifsim run there wrote (" +
                           (earlier.empty() ? "no ifsim summary.json is there" : "its summary.json does not list it") +
                           "): a run would replace it; move it, or choose another --out");
    }
}

// The state records, which a run knows the size of, must fit the folder's file system, with what
// an earlier run's files there free as they go (the spikes, whose number is not known, are not
// counted): a duration in s where ms was meant would otherwise fill the disk.
void check_disk_space(const std::filesystem::path& dir, const run_spec& spec) {
    const double needed = recorded_state_bytes(spec);
    std::error_code ec;
    const std::filesystem::space_info space = std::filesystem::space(dir, ec);
    if (ec || needed <= 0.0) return;
    double freed = 0.0;
    for (const std::string& name : earlier_run_files(dir))
        if (const auto size = std::filesystem::file_size(dir / name, ec); !ec) freed += double(size);
    if (needed <= double(space.available) + freed) return;
    throw runtime_failure("the state records would write " + format_bytes(needed) + " to '" + dir.string() +
                          "', but its file system has " + format_bytes(double(space.available) + freed) +
                          " free: record fewer neurons, less often or in a shorter window, or write to another file system (run's --out; bench's TMPDIR)");
}

}  // namespace

double recorded_values(const state_record& r, const simulation_spec& sim) {
    return double(r.samples_in(total_steps(sim), sim.dt_ms)) * double(r.neurons.size());
}

double recorded_state_bytes(const run_spec& spec) {
    double bytes = 0.0;
    for (const state_record& r : spec.states)
        bytes += report_bytes_on_disk(r.neurons.size(), r.samples_in(total_steps(spec.simulation), spec.simulation.dt_ms));
    return bytes;
}

output_folder_lock prepare_output_dir(const std::filesystem::path& dir, const run_spec& spec) {
    std::error_code ec;
    const bool created = std::filesystem::create_directories(dir, ec);
    if (ec) {
        // A link that leads nowhere: said, rather than "File exists" (a loop: the system's words).
        std::error_code link_ec, status_ec;
        const bool link = std::filesystem::is_symlink(std::filesystem::symlink_status(dir, link_ec));
        static_cast<void>(std::filesystem::status(dir, status_ec));
        const bool dangling = link && status_ec == std::errc::no_such_file_or_directory;
        throw config_error("output folder '" + dir.string() + "' cannot be created: " +
                           (dangling ? "it is a link to '" + std::filesystem::read_symlink(dir, link_ec).string() +
                                           "', which does not exist"
                                     : (link && status_ec ? status_ec : ec).message()));
    }
    // Refused here, the folder is another run's, made or not by this call: left alone.
    output_folder_lock lock(dir);
    try {
        // A name of its own (mkstemp), so that nothing already there can be taken for the folder's fault.
        std::string probe = (dir / ".ifsim-write-test.XXXXXX").string();
        const int fd = ::mkstemp(probe.data());
        if (fd < 0) throw config_error("output folder '" + dir.string() + "' is not writable: " + std::strerror(errno));
        ::close(fd);
        std::filesystem::remove(probe, ec);
        std::vector<std::string> files = {resolved_config_file, summary_file};
        if (!spec.spikes.populations.empty()) files.push_back(spike_file_name);
        for (const auto& r : spec.states) files.push_back(report_file_name(r));
        for (const auto& name : files) check_output_target(dir / name);
        check_replaceable(dir, files);
        check_disk_space(dir, spec);
    } catch (...) {
        if (created && std::filesystem::is_empty(dir, ec)) std::filesystem::remove(dir, ec);
        throw;
    }
    return lock;
}

std::vector<std::string> earlier_run_files(const std::filesystem::path& dir) {
    const std::string json = read_text_file(dir / summary_file);
    std::vector<std::string> names;
    const auto listed = summary_strings(json, "files");
    if (!listed || !summary_value(json, "ifsim_version")) return names;  // not ifsim's
    // Only plain names of files in `dir`: the list ends at anything else (a path).
    for (const std::string& name : *listed) {
        if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string::npos) break;
        names.push_back(name);
    }
    return names;
}

namespace {

// A block on its way to the files: the writer thread knows from it how far the files reach.
struct written_block {
    block_output out;
    std::uint64_t end_step = 0;  // the block covers the steps before this one
};

}  // namespace

run_summary run_simulation(const run_spec& spec, backend& engine, const run_options& options) {
    const auto& sim = spec.simulation;
    const std::filesystem::path& dir = options.out_dir;
    const std::string resolved = to_toml(spec);

    run_summary summary;
    summary.backend = engine.name();
    summary.device = engine.device();
    summary.precision = precision_name(sim.real);
    summary.ifsim_version = build::version;
    summary.config_file = spec.source_path;
    summary.config_digest = sha256_hex(resolved);
    // The digest covers a synapse file's path; its contents get their own, for the record.
    std::vector<std::string> file_digests(spec.projections.size());
    for (std::size_t k = 0; k < spec.projections.size(); ++k)
        if (spec.projections[k].rule.kind == rule_kind::from_file)
            file_digests[k] = sha256_file_hex(spec.projections[k].rule.file);
    summary.seed = sim.seed;
    summary.steps_total = total_steps(sim);
    summary.dt_ms = sim.dt_ms;

    // Output files, created (as .part) before an earlier run's files go: a run that cannot create
    // them (too many open files, a folder in the way) leaves the folder as it was.
    std::vector<std::string> names;
    for (const auto& p : spec.populations) names.push_back(p.name);
    std::vector<int> spike_slot(names.size(), -1);  // population -> index in the spike file
    std::vector<record_window> spike_window(names.size());
    std::vector<neuron_subset> spike_neurons(names.size());
    std::vector<std::string> recorded;
    for (std::size_t p = 0; p < names.size(); ++p)
        for (std::size_t k = 0; k < spec.spikes.populations.size(); ++k)
            if (spec.spikes.populations[k] == names[p]) {
                spike_slot[p] = int(recorded.size());
                spike_window[p] = spec.spikes.windows[k];
                spike_neurons[p] = spec.spikes.neurons[k];
                recorded.push_back(names[p]);
            }
    // Recorded generators after the populations: their schedules drawn again for the writer (the
    // very draws the backend delivers), each spike at the end of its step.
    struct recorded_generator {
        std::size_t slot;
        generator_spikes spikes;
        record_window window;
        neuron_subset neurons;
    };
    std::vector<recorded_generator> generator_records;
    for (std::size_t g = 0; g < spec.generators.size(); ++g)
        for (std::size_t k = 0; k < spec.spikes.populations.size(); ++k)
            if (spec.spikes.populations[k] == spec.generators[g].name) {
                generator_records.push_back({recorded.size(), schedule(spec.generators[g], sim, std::uint32_t(g)),
                                             spec.spikes.windows[k], spec.spikes.neurons[k]});
                recorded.push_back(spec.generators[g].name);
            }
    std::optional<spike_file> spikes;
    std::vector<report_file> reports;
    reports.reserve(spec.states.size());
    try {
        if (!recorded.empty()) spikes.emplace(dir / spike_file_name, recorded);
        for (const auto& r : spec.states)
            reports.emplace_back(dir / report_file_name(r), r.population, r.variable,
                                 unit_of(parse_state_variable(r.variable)), r.neurons,
                                 double(r.first_sample_step(sim.dt_ms)) * sim.dt_ms, r.interval_ms);
        // This run's config, whole, before anything of an earlier run goes (a full disk failed it
        // after they had gone, and left the folder empty); then a stop that came while the network
        // was built and these files made leaves the earlier run as it was (it was replaced by a
        // run of 0 steps).
        write_part_file(dir / resolved_config_file, resolved);
        if (options.stop && options.stop->load()) throw stopped_before_start();
        // The folder holds one run: an earlier run's files go (a report it recorded and this run
        // does not would otherwise pass for this run's), other files stay. One that cannot go
        // stops the run before it writes anything: the folder would hold files of two runs. The
        // config and summary go last, so that what is left still says which run it was.
        std::vector<std::string> earlier = earlier_run_files(dir);
        std::stable_partition(earlier.begin(), earlier.end(), [](const std::string& name) {
            return name != resolved_config_file && name != summary_file;
        });
        for (const std::string& name : earlier) {
            std::error_code ec;
            if (!std::filesystem::is_regular_file(dir / name, ec) || std::filesystem::remove(dir / name, ec)) continue;
            throw runtime_failure("cannot remove '" + (dir / name).string() + "', a file of the earlier run there: " +
                                  (ec ? ec.message() : std::string("it is still there")) +
                                  "; nothing of this run was written (remove it, or choose another --out)");
        }
        commit_part_file(dir / resolved_config_file);
    } catch (...) {
        if (spikes) spikes->discard();
        for (auto& r : reports) r.discard();
        // A file whose constructor failed after creating it (a full disk) leaves its .part: ours
        // where the folder is locked, and a stale one's where it cannot be.
        std::vector<std::string> names_made = {spike_file_name, resolved_config_file};
        for (const auto& r : spec.states) names_made.push_back(report_file_name(r));
        for (const std::string& name : names_made) {
            std::error_code ec;
            std::filesystem::remove(part_path(dir / name), ec);
        }
        throw;
    }

    std::vector<isi_accumulator> isi;
    std::vector<population_summary> pops;
    for (const auto& p : spec.populations) {
        isi.emplace_back(p.size);
        pops.push_back({p.name, p.size});
        summary.neurons += p.size;
    }

    // The writer thread: the spikes and samples of block b go to the files, then to the ISI
    // statistics, while the backend computes block b + 1. `written` counts the steps whose block
    // reached every file (read after writer.wait()).
    std::vector<double> times, sorted_times;
    std::vector<std::uint64_t> sorted_ids;
    std::uint64_t written = 0;
    std::vector<std::uint64_t> ids;
    const auto write_block = [&](written_block& b) {
        const block_output& block = b.out;
        const std::uint64_t first_step = written;  // blocks arrive in order, each after the last
        for (std::size_t p = 0; p < names.size(); ++p) {
            const spike_list& s = block.spikes[p];
            if (spike_slot[p] < 0) continue;
            const std::uint64_t from = spike_window[p].first_step(sim.dt_ms), to = spike_window[p].end_step(sim.dt_ms);
            times.clear();
            ids.clear();
            const neuron_subset& subset = spike_neurons[p];
            const bool every_neuron = subset.all();
            for (std::size_t k = 0; k < s.size(); ++k) {
                if (s.step[k] < from || s.step[k] >= to || (!every_neuron && !subset.contains(s.neuron[k]))) continue;
                times.push_back((double(s.step[k]) + s.offset[k]) * sim.dt_ms);
                ids.push_back(s.neuron[k]);
            }
            sort_by_time(times, ids, sorted_times, sorted_ids);
            spikes->append(std::size_t(spike_slot[p]), sorted_times, sorted_ids);
        }
        for (const recorded_generator& g : generator_records) {  // in step, then neuron order: by time
            const std::uint64_t from = std::max(first_step, g.window.first_step(sim.dt_ms));
            const std::uint64_t to = std::min(b.end_step, g.window.end_step(sim.dt_ms));
            times.clear();
            ids.clear();
            const auto [lo, hi] = from < to ? g.spikes.between(from, to) : std::pair<std::size_t, std::size_t>{0, 0};
            for (std::size_t k = lo; k < hi; ++k)
                if (g.neurons.all() || g.neurons.contains(g.spikes.neuron[k])) {
                    times.push_back(double(g.spikes.step[k] + 1) * sim.dt_ms);
                    ids.push_back(g.spikes.neuron[k]);
                }
            spikes->append(g.slot, times, ids);
        }
        for (std::size_t r = 0; r < reports.size(); ++r) {
            const rows_in_window rows = sample_rows_in_window(spec.states[r], sim.dt_ms, first_step, block.sample_rows[r]);
            const std::size_t m = spec.states[r].neurons.size();
            reports[r].append_rows(std::span<const float>(block.samples[r]).subspan(rows.first * m, rows.count * m),
                                   rows.count);
        }
        for (std::size_t p = 0; p < names.size(); ++p) {
            const spike_list& s = block.spikes[p];
            for (std::size_t k = 0; k < s.size(); ++k)
                isi[p].add(s.neuron[k], (double(s.step[k]) + s.offset[k]) * sim.dt_ms);
            pops[p].spikes += s.size();
        }
        written = b.end_step;
    };
    background_consumer<written_block> writer(write_block);

    written_block block;  // after a submit: the block the writer finished with, reused

    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    std::uint64_t step = 0;
    bool finished = false;
    // After writer.wait(): the statistics, the files closed, summary.json. Each file closes on its
    // own; one that cannot (a full disk, a rename refused) stays .part and is not listed, and a
    // completed run becomes a failed one (thrown after summary.json is written).
    const auto finish = [&](std::string status, std::string message) {
        finished = true;
        summary.status = std::move(status);
        summary.message = std::move(message);
        summary.steps = written;
        summary.simulated_ms = double(written) * sim.dt_ms;
        summary.wall_s = elapsed();
        if (summary.wall_s > 0) {
            summary.neuron_steps_per_s = double(summary.neurons) * double(written) / summary.wall_s;
            if (written > 0) summary.real_time_factor = summary.wall_s / (summary.simulated_ms * 1e-3);
        }
        const network_stats net = engine.network();
        summary.synapses = net.synapses;
        summary.bytes_per_synapse = net.bytes_per_synapse;
        summary.network_build_s = net.build_s;
        summary.synaptic_events = net.events;
        summary.projections.clear();
        for (std::size_t k = 0; k < spec.projections.size(); ++k)
            summary.projections.push_back({spec.projections[k].source, spec.projections[k].target,
                                           k < net.projection_synapses.size() ? net.projection_synapses[k] : 0,
                                           spec.projections[k].rule.file, file_digests[k]});
        if (summary.wall_s > 0) summary.synaptic_events_per_s = double(net.events) / summary.wall_s;
        summary.least_bytes_moved = double(written) * engine.least_bytes_per_step() +
                                    (net.synapses > 0 ? double(net.events) * least_bytes_per_event(net.bytes_per_synapse) : 0.0);
        summary.spikes = 0;
        for (std::size_t p = 0; p < pops.size(); ++p) {
            if (summary.simulated_ms > 0)
                pops[p].mean_rate_Hz = double(pops[p].spikes) / (double(pops[p].neurons) * summary.simulated_ms * 1e-3);
            isi[p].summarise(pops[p]);
            summary.spikes += pops[p].spikes;
        }
        summary.populations = pops;
        summary.files = {resolved_config_file};
        // Each file's close error, but for one that is the run's failure again (a file whose
        // writes failed usually fails its close the same way): said once, and then only that
        // its file, cut short, was removed.
        std::string close_errors, removed;
        bool failed_the_same_way = false;
        const auto close = [&](auto& file, const std::string& name) {
            try {
                file.close();
                summary.files.push_back(name);
            } catch (const std::exception& e) {
                const std::string error = e.what();
                const std::size_t note = error.find(cut_short_note);
                if (!summary.message.empty() && summary.message.find(error.substr(0, note)) != std::string::npos) {
                    failed_the_same_way = true;
                    if (note != std::string::npos) removed += (removed.empty() ? "" : ", ") + name + ".part";
                } else {
                    close_errors += (close_errors.empty() ? "" : "; ") + error;
                }
            }
        };
        if (spikes) close(*spikes, spike_file_name);
        for (std::size_t r = 0; r < reports.size(); ++r) close(reports[r], report_file_name(spec.states[r]));
        const bool failed_to_close = !close_errors.empty() && summary.status == "completed";
        if (failed_to_close) {
            summary.status = "failed";
            summary.message = "closing the files failed: " + close_errors;
        } else if (failed_the_same_way || !close_errors.empty()) {
            summary.message += std::string("; closing the files then failed") + (failed_the_same_way ? " the same way" : "") +
                               (removed.empty() ? "" : " (" + removed + " cut short and removed)") +
                               (close_errors.empty() ? "" : (failed_the_same_way ? " and with: " : " too: ") + close_errors);
        }
        summary.files.push_back(summary_file);
        try {
            write_summary_json(dir / summary_file, summary);
        } catch (const std::exception& e) {
            // A full disk fails the files before summary.json: say those too, not only the last.
            if (close_errors.empty()) throw;
            throw runtime_failure(std::string(e.what()) + "; before it, closing the files failed: " + close_errors);
        }
        if (failed_to_close) throw runtime_failure(summary.message);
    };

    try {
        while (step < summary.steps_total) {
            if (options.stop && options.stop->load()) {
                writer.wait();
                finish("interrupted", "stopped by signal after " + std::to_string(step) + " steps");
                return summary;
            }
            const auto n = std::uint32_t(std::min<std::uint64_t>(options.block_steps, summary.steps_total - step));
            block_output& out = block.out;
            out.clear();
            out.spikes.resize(names.size());
            out.samples.resize(spec.states.size());
            out.sample_rows.resize(spec.states.size());
            try {
                engine.advance(step, n, out);
            } catch (const numerical_error& e) {
                throw located(e, spec, step, n);
            }
            check_samples(spec, step, out);
            block.end_step = step + n;
            writer.submit(block);
            step += n;
            if (options.on_progress)
                options.on_progress({step, summary.steps_total, double(step) * sim.dt_ms, elapsed()});
        }
        writer.wait();
    } catch (const std::exception& e) {
        if (finished) throw;  // summary.json could not be written: the error says why
        try {
            writer.wait();  // the blocks before the failure still reach the files
        } catch (const std::exception&) {
            // The failure being reported comes first.
        }
        try {
            finish("failed", e.what());
        } catch (const std::exception& f) {
            // summary.json could not be written either (a full disk): said after the run's own
            // failure, which comes first (and keeps its exit code where it is the user's input).
            if (dynamic_cast<const config_error*>(&e) == nullptr)
                throw runtime_failure(std::string(e.what()) + "; summary.json could not be written either: " + f.what());
        }
        throw;
    }
    finish("completed", "");
    return summary;
}

}  // namespace ifsim
