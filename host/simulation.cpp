// The simulation loop: blocks of steps on the backend, streaming output, statistics, summary.
#include "ifsim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>

#include "ifsim/background_consumer.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/recording.hpp"

namespace ifsim {
namespace {

const char* unit_of(state_variable v) {
    return v == state_variable::V_m ? "mV" : v == state_variable::g_syn ? "nS" : "pA";
}

// A backend's numerical error with the population and block it was found in: the backends check
// after each block of steps and name the neuron by its global id.
numerical_error located(const numerical_error& e, const run_spec& spec, std::uint64_t first_step, std::uint32_t steps) {
    std::uint64_t first_id = 0;
    for (const population_spec& p : spec.populations) {
        if (e.neuron() < first_id + p.size)
            return numerical_error(e.reason() + " in population '" + p.name + "' (its neuron " +
                                       std::to_string(e.neuron() - first_id) + "), found by the check after steps " +
                                       std::to_string(first_step) + "-" + std::to_string(first_step + steps - 1) +
                                       "; its inputs or parameters drive it out of range",
                                   e.neuron(), e.step());
        first_id += p.size;
    }
    return e;
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
            const std::uint64_t first_sample = (first_step + every - 1) / every * every;
            throw numerical_error("state record '" + rec.name + "': " + rec.variable + " of population '" +
                                      rec.population + "' is beyond the range of its float report (|x| > 3.4e38); "
                                      "its inputs or parameters drive it out of any physical range",
                                  rec.neurons[k % m], first_sample + (k / m) * every);
        }
    }
}

// Per-neuron inter-spike interval sums for the summary's mean CV, updated as spikes stream by.
class isi_accumulator {
public:
    explicit isi_accumulator(std::uint64_t n) : last_(n, -1.0), sum_(n, 0.0), sum2_(n, 0.0), count_(n, 0) {}

    void add(std::uint64_t neuron, double t_ms) {
        if (last_[neuron] >= 0.0) {
            const double isi = t_ms - last_[neuron];
            sum_[neuron] += isi;
            sum2_[neuron] += isi * isi;
            ++count_[neuron];
        }
        last_[neuron] = t_ms;
    }

    // Mean over neurons with at least two intervals of their ISI coefficient of variation.
    void summarise(population_summary& s) const {
        double total = 0.0;
        std::uint64_t used = 0;
        for (std::size_t i = 0; i < count_.size(); ++i) {
            if (count_[i] < 2) continue;
            const double mean = sum_[i] / double(count_[i]);
            const double var = std::max(0.0, sum2_[i] / double(count_[i]) - mean * mean);
            total += std::sqrt(var) / mean;
            ++used;
        }
        s.neurons_with_cv = used;
        if (used > 0) s.mean_cv = total / double(used);
    }

private:
    std::vector<double> last_, sum_, sum2_;
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

std::uint64_t total_steps(const simulation_spec& sim) {
    return std::uint64_t(std::llround(sim.duration_ms / sim.dt_ms));
}

void prepare_output_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw config_error("output folder '" + dir.string() + "' cannot be created: " + ec.message());
    const auto probe = dir / ".ifsim-write-test";
    {
        std::ofstream f(probe);
        if (!(f << "ok")) throw config_error("output folder '" + dir.string() + "' is not writable");
    }
    std::filesystem::remove(probe, ec);
}

std::vector<std::string> earlier_run_files(const std::filesystem::path& dir) {
    std::ifstream f(dir / "summary.json", std::ios::binary);
    const std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::string> names;
    const std::string key = "\"files\": [";
    std::size_t at = json.find(key);
    if (at == std::string::npos || json.find("\"ifsim_version\": ") == std::string::npos) return names;  // not ifsim's
    at += key.size();
    // The list summary_json writes: quoted names, commas, white space, "]". Anything else (an
    // escape, a path) ends the reading: only plain names of files in `dir` are taken.
    while (at < json.size()) {
        at = json.find_first_not_of(" \n,", at);
        if (at == std::string::npos || json[at] != '"') break;
        const std::size_t end = json.find('"', at + 1);
        if (end == std::string::npos) break;
        const std::string name = json.substr(at + 1, end - at - 1);
        if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string::npos) break;
        names.push_back(name);
        at = end + 1;
    }
    return names;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
    const auto tmp = std::filesystem::path(path.string() + ".part");
    {
        std::ofstream f(tmp, std::ios::binary);
        f << text;
        if (!f.flush()) throw runtime_failure("cannot write '" + tmp.string() + "'");
    }
    std::filesystem::rename(tmp, path);
}

run_summary run_simulation(const run_spec& spec, backend& engine, const run_options& options) {
    const auto& sim = spec.simulation;
    const std::filesystem::path& dir = options.out_dir;
    // The folder holds one run: an earlier run's files go (a report it recorded and this run
    // does not would otherwise pass for this run's), other files stay.
    for (const std::string& name : earlier_run_files(dir)) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(dir / name, ec)) std::filesystem::remove(dir / name, ec);
    }
    const std::string resolved = to_toml(spec);
    write_file_atomically(dir / "config.resolved.toml", resolved);

    run_summary summary;
    summary.backend = engine.name();
    summary.device = engine.device();
    summary.precision = precision_name(sim.real);
    summary.ifsim_version = build::version;
    summary.config_file = spec.source_path;
    summary.config_digest = sha256_hex(resolved);
    summary.seed = sim.seed;
    summary.steps_total = total_steps(sim);
    summary.dt_ms = sim.dt_ms;
    summary.files.push_back("config.resolved.toml");

    // Output files, opened before the first step.
    std::vector<std::string> names;
    for (const auto& p : spec.populations) names.push_back(p.name);
    std::vector<int> spike_slot(names.size(), -1);  // population -> index in the spike file
    std::vector<std::string> recorded;
    for (std::size_t p = 0; p < names.size(); ++p)
        for (const auto& r : spec.spikes.populations)
            if (r == names[p]) {
                spike_slot[p] = int(recorded.size());
                recorded.push_back(names[p]);
            }
    std::optional<spike_file> spikes;
    if (!recorded.empty()) {
        spikes.emplace(dir / "spikes.h5", recorded);
        summary.files.push_back("spikes.h5");
    }
    std::vector<report_file> reports;
    for (const auto& r : spec.states) {
        reports.emplace_back(dir / (r.name + ".h5"), r.population, r.variable,
                             unit_of(parse_state_variable(r.variable)), r.neurons, 0.0, r.interval_ms);
        summary.files.push_back(r.name + ".h5");
    }

    std::vector<isi_accumulator> isi;
    std::vector<population_summary> pops;
    for (const auto& p : spec.populations) {
        isi.emplace_back(p.size);
        pops.push_back({p.name, p.size});
        summary.neurons += p.size;
    }

    // The writer thread: the spikes and samples of block b go to the ISI statistics and the files
    // while the backend computes block b + 1.
    std::vector<double> times, sorted_times;
    std::vector<std::uint64_t> sorted_ids;
    const auto write_block = [&](block_output& block) {
        for (std::size_t p = 0; p < names.size(); ++p) {
            const spike_list& s = block.spikes[p];
            times.resize(s.size());
            for (std::size_t k = 0; k < s.size(); ++k) {
                times[k] = (double(s.step[k]) + s.offset[k]) * sim.dt_ms;
                isi[p].add(s.neuron[k], times[k]);
            }
            pops[p].spikes += s.size();
            if (spike_slot[p] >= 0) {
                sort_by_time(times, s.neuron, sorted_times, sorted_ids);
                spikes->append(std::size_t(spike_slot[p]), sorted_times, sorted_ids);
            }
        }
        for (std::size_t r = 0; r < reports.size(); ++r) reports[r].append_rows(block.samples[r], block.sample_rows[r]);
    };
    background_consumer<block_output> writer(write_block);

    block_output out;  // after a submit: the block the writer finished with, reused

    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    std::uint64_t step = 0;
    // After writer.wait(): the files and statistics hold every block.
    const auto finish = [&](std::string status, std::string message) {
        summary.status = std::move(status);
        summary.message = std::move(message);
        summary.steps = step;
        summary.simulated_ms = double(step) * sim.dt_ms;
        summary.wall_s = elapsed();
        if (summary.wall_s > 0) {
            summary.neuron_steps_per_s = double(summary.neurons) * double(step) / summary.wall_s;
            if (step > 0) summary.real_time_factor = summary.wall_s / (summary.simulated_ms * 1e-3);
        }
        const network_stats net = engine.network();
        summary.synapses = net.synapses;
        summary.bytes_per_synapse = net.bytes_per_synapse;
        summary.network_build_s = net.build_s;
        summary.synaptic_events = net.events;
        summary.projections.clear();
        for (std::size_t k = 0; k < spec.projections.size(); ++k)
            summary.projections.push_back({spec.projections[k].source, spec.projections[k].target,
                                           k < net.projection_synapses.size() ? net.projection_synapses[k] : 0});
        if (summary.wall_s > 0) summary.synaptic_events_per_s = double(net.events) / summary.wall_s;
        summary.least_bytes_moved = double(step) * engine.least_bytes_per_step() +
                                    (net.synapses > 0 ? double(net.events) * least_bytes_per_event(net.bytes_per_synapse) : 0.0);
        summary.spikes = 0;
        for (std::size_t p = 0; p < pops.size(); ++p) {
            if (summary.simulated_ms > 0)
                pops[p].mean_rate_Hz = double(pops[p].spikes) / (double(pops[p].neurons) * summary.simulated_ms * 1e-3);
            isi[p].summarise(pops[p]);
            summary.spikes += pops[p].spikes;
        }
        summary.populations = pops;
        const auto close_files = [&] {
            if (spikes) spikes->close();
            for (auto& r : reports) r.close();
        };
        if (summary.status == "completed") {
            close_files();  // an error here is the run's
        } else {
            // After a failure a file may not close (its disk is full); summary.json still says why.
            try {
                close_files();
            } catch (const std::exception& e) {
                summary.message += "; closing the files then failed too: " + std::string(e.what());
            }
        }
        summary.files.push_back("summary.json");
        write_summary_json(dir / "summary.json", summary);
    };

    try {
        while (step < summary.steps_total) {
            if (options.stop && options.stop->load()) {
                writer.wait();
                finish("interrupted", "stopped by signal after " + std::to_string(step) + " steps");
                return summary;
            }
            const auto n = std::uint32_t(std::min<std::uint64_t>(options.block_steps, summary.steps_total - step));
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
            writer.submit(out);
            step += n;
            if (options.on_progress)
                options.on_progress({step, summary.steps_total, double(step) * sim.dt_ms, elapsed()});
        }
        writer.wait();
    } catch (const std::exception& e) {
        try {
            writer.wait();  // the blocks before the failure still reach the files
        } catch (const std::exception&) {
            // The failure being reported comes first.
        }
        finish("failed", e.what());
        throw;
    }
    finish("completed", "");
    return summary;
}

}  // namespace ifsim
