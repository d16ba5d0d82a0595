// `ifsim bench`: how fast a config runs here. The whole run (network build, step loop, spikes and
// reports written as configured, into a temporary folder removed afterwards) `runs` times, one
// after the other; per run and as the median: build time, wall time, real-time factor,
// neuron-steps/s, synaptic events/s, and the hardware floor: the run's least bytes moved over the
// copy bandwidth measured after the first run, and the share of the wall time it is. The bench/
// scripts set these next to peer simulators.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "ifsim/backend.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

namespace {

// The system's folder for temporary files ($TMPDIR, else /tmp); config_error where it is missing.
std::filesystem::path temp_folder() {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::temp_directory_path(ec);
    if (ec) {
        const char* tmpdir = std::getenv("TMPDIR");
        throw config_error(std::string("bench writes each run's files to a temporary folder, but ") +
                           (tmpdir ? "TMPDIR='" + std::string(tmpdir) + "'" : std::string("/tmp")) + " is not one (" +
                           ec.message() + "): set TMPDIR to a folder that exists");
    }
    return p;
}

// A folder for one run's files, gone when this goes.
class scratch_dir {
public:
    explicit scratch_dir(unsigned run)
        : path_(temp_folder() / ("ifsim-bench-" + std::to_string(getpid()) + "-" + std::to_string(run))) {}
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct timing {
    double build_s, wall_s, real_time_factor, neuron_steps_per_s, synaptic_events_per_s;
    double floor_s;   // least_bytes_moved / copy bandwidth; NaN when the bandwidth is unknown
    double of_floor;  // floor_s / wall_s: near 1 the loop is memory-bound
};

// The copy bandwidth of the memory `engine` keeps its state in, or NaN (and why, on stderr) when
// it cannot be measured, e.g. with too little device memory left beside the network.
double measured_bandwidth(const backend& engine) {
    try {
        return engine.copy_bandwidth();
    } catch (const std::exception& e) {
        std::cerr << "ifsim bench: no hardware floor: the copy bandwidth could not be measured: " << e.what() << '\n';
        return std::nan("");
    }
}

// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180): the CPU device
// is "2 threads, -march=x86-64-v4".
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// The median of the known values (NaN: not measured), NaN where none is known.
double median(std::vector<double> v) {
    std::erase_if(v, [](double x) { return std::isnan(x); });
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A value as the table or the CSV prints it; one not measured (NaN) is "-" in the table and an
// empty CSV field, as `ifsim stats` writes an undefined CV.
std::string field(double x, bool csv) {
    if (std::isnan(x)) return csv ? "" : "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, csv ? "%.6g" : "%.3g", x);
    return buf;
}

void print_row(const std::string& label, const timing& t, bool csv, const std::string& csv_head) {
    const double values[] = {t.build_s, t.wall_s, t.real_time_factor, t.neuron_steps_per_s, t.synaptic_events_per_s,
                             t.floor_s, t.of_floor};
    static constexpr int widths[] = {9, 9, 17, 19, 22, 9, 9};  // the header's
    if (csv) std::printf("%s,%s", csv_head.c_str(), label.c_str());
    else std::printf("%-7s", label.c_str());
    for (std::size_t k = 0; k < std::size(values); ++k) {
        if (csv) std::printf(",%s", field(values[k], csv).c_str());
        else std::printf(" %*s", widths[k], field(values[k], csv).c_str());
    }
    std::printf("\n");
}

}  // namespace

int bench(const bench_args& args) {
    return reporting_errors("bench", [&] {
        const run_spec spec = load_config(args.config, args.all_overrides());
        stop_on_signals();

        std::vector<timing> runs;
        std::string csv_head;
        double bandwidth = 0;  // [bytes / s]
        for (unsigned r = 1; r <= args.runs && !stop_requested.load(); ++r) {
            const scratch_dir dir(r);
            const output_folder_lock lock = prepare_output_dir(dir.path(), spec);
            remove_if_empty_on_crash(dir.path());
            auto engine = choose_backend(spec, args.backend, r > 1);
            if (r == 1) warn_about_inputs(spec, engine->network()), warn_about_threads(spec, *engine, args);
            run_options options;
            options.out_dir = dir.path();
            options.stop = &stop_requested;
            run_summary s;
            try {
                s = run_simulation(spec, *engine, options);
            } catch (const stopped_before_start&) {
                break;  // as a run stopped later: no row
            }
            if (s.status != "completed") break;
            // After the first run, not before: measured beside the network, as the run saw memory.
            if (r == 1) bandwidth = measured_bandwidth(*engine);
            const double floor_s = s.least_bytes_moved / bandwidth;
            const timing t{s.network_build_s,        s.wall_s,      s.real_time_factor, s.neuron_steps_per_s,
                           s.synaptic_events_per_s, floor_s,       floor_s / s.wall_s};
            if (r == 1) {
                if (args.csv) {
                    csv_head = csv_field(args.config.string()) + "," + s.backend + "," + csv_field(s.device) + "," +
                               s.precision + "," + field(s.least_bytes_moved, true) + "," + field(bandwidth, true);
                    std::printf("config,backend,device,precision,least_bytes_moved,copy_bandwidth_B_per_s,run,build_s,"
                                "wall_s,real_time_factor,neuron_steps_per_s,synaptic_events_per_s,floor_s,of_floor\n");
                } else {
                    std::printf("%s: %g ms simulated, %llu neurons, %llu synapses, on %s (%s, %s)\n",
                                args.config.string().c_str(), s.simulated_ms, (unsigned long long)s.neurons,
                                (unsigned long long)s.synapses, s.backend.c_str(), s.device.c_str(),
                                s.precision.c_str());
                    if (std::isnan(bandwidth))
                        std::printf("floor_s: %.3g GB moved at the least, the copy bandwidth not measured (-)\n",
                                    s.least_bytes_moved * 1e-9);
                    else
                        std::printf("floor_s = %.3g GB moved at the least / copy bandwidth %.3g GB/s; of_floor = "
                                    "floor_s / wall_s\n",
                                    s.least_bytes_moved * 1e-9, bandwidth * 1e-9);
                    std::printf("%-7s %9s %9s %17s %19s %22s %9s %9s\n", "run", "build_s", "wall_s",
                                "real_time_factor", "neuron_steps_per_s", "synaptic_events_per_s", "floor_s",
                                "of_floor");
                }
            }
            print_row(std::to_string(r), t, args.csv, csv_head);
            // A reader gone (`| head -3`): the runs left would time for no one (main says so).
            if (std::fflush(stdout) != 0 || std::ferror(stdout)) return exit_failure;
            runs.push_back(t);
        }
        if (runs.size() < args.runs) {
            std::cerr << "ifsim bench: interrupted after " << runs.size() << " of " << args.runs << " runs\n";
            return exit_interrupted;
        }
        const auto med = [&](double timing::*field) {
            std::vector<double> v;
            for (const timing& t : runs) v.push_back(t.*field);
            return median(v);
        };
        print_row("median",
                  {med(&timing::build_s), med(&timing::wall_s), med(&timing::real_time_factor),
                   med(&timing::neuron_steps_per_s), med(&timing::synaptic_events_per_s), med(&timing::floor_s),
                   med(&timing::of_floor)},
                  args.csv, csv_head);
        return exit_ok;
    });
}

}  // namespace ifsim::cli
