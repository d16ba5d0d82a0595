// The ifsim command line end to end: a real process, real files, exit codes, read back with HDF5.
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ifsim/config.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/network.hpp"
#include "ifsim/recording.hpp"
#include "support/cli.hpp"
#include "support/hdf5_read.hpp"
#include "support/simulate.hpp"

namespace {

namespace fs = std::filesystem;

using ifsim::test::csv_fields;
using ifsim::test::example;
using ifsim::test::fresh_dir;
using ifsim::test::ifsim;
using ifsim::test::json_field;
using ifsim::test::result;
using ifsim::test::slurp;
using ifsim::test::write_nine_channels;

// `ifsim run` of the config `toml`, written to run.toml in the fresh folder `dir`; outputs in dir/out.
result run_config(const fs::path& dir, const std::string& toml) {
    fs::create_directories(dir);
    std::ofstream(dir / "run.toml") << toml;
    return ifsim("run " + (dir / "run.toml").string() + " --out " + (dir / "out").string() + " --quiet");
}

template <class T>
std::vector<T> read_dataset(hid_t file, const std::string& path, hid_t type) {
    const hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    EXPECT_GE(ds, 0) << path;
    const hid_t space = H5Dget_space(ds);
    std::vector<T> v(std::size_t(H5Sget_simple_extent_npoints(space)));
    if (!v.empty()) H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(space);
    H5Dclose(ds);
    return v;
}

// What a shell command prints on stdout.
std::string command_output(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[256];
        while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        pclose(p);
    }
    return out;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> result;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
}

TEST(cli, run_writes_sonata_files_that_read_back) {
    const fs::path out = fresh_dir("fi");
    const auto r = ifsim("run " + example("fi_curve.toml") + " --out " + out.string() +
                         " --set simulation.duration=300ms --backend cpu");
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* f : {"spikes.h5", "summary.json", "config.resolved.toml", "fi_V_m.h5"})
        EXPECT_TRUE(fs::exists(out / f)) << f;
    EXPECT_TRUE(fs::is_empty(out) == false);
    for (const auto& e : fs::directory_iterator(out)) EXPECT_NE(e.path().extension(), ".part") << e.path();

    const hid_t file = H5Fopen((out / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const auto t = read_dataset<double>(file, "/spikes/fi/timestamps", H5T_NATIVE_DOUBLE);
    const auto id = read_dataset<std::uint64_t>(file, "/spikes/fi/node_ids", H5T_NATIVE_UINT64);
    H5Fclose(file);
    ASSERT_EQ(t.size(), id.size());
    ASSERT_GT(t.size(), 100u);
    for (std::size_t k = 1; k < t.size(); ++k) ASSERT_LE(t[k - 1], t[k]);
    for (const auto i : id) ASSERT_LT(i, 1000u);
    // I_e = linspace(0, 500 pA) over 1000 neurons, rheobase 200 pA: neurons below 400 never fire.
    for (const auto i : id) ASSERT_GE(i, 400u);

    const std::string summary = slurp(out / "summary.json");
    EXPECT_EQ(json_field(summary, "status"), "\"completed\"");
    EXPECT_EQ(json_field(summary, "spikes"), std::to_string(t.size()));
    EXPECT_EQ(json_field(summary, "steps"), "3000");

    // The resolved config runs again to the same spikes.
    const fs::path again = fresh_dir("fi_again");
    ASSERT_EQ(ifsim("run " + (out / "config.resolved.toml").string() + " --out " + again.string()).code, 0);
    const hid_t f2 = H5Fopen((again / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT_EQ(read_dataset<double>(f2, "/spikes/fi/timestamps", H5T_NATIVE_DOUBLE), t);
    H5Fclose(f2);
}

// `ifsim synapses` writes every projection as a file and a config with those files as its rules:
// that config runs to the same spikes, byte for byte (drawn weights and delays, both synapse
// kinds, a generator's projection), in either format; the files hold what the rules drew.
TEST(cli, synapses_written_and_read_back_run_the_same_network) {
    const fs::path dir = fresh_dir("synapses");
    fs::create_directories(dir);
    std::ofstream(dir / "net.toml") << R"([simulation]
duration = "100 ms"
seed = 3

[[population]]
name = "E"
size = 300
model = "lif"
init = { V_m = { uniform = ["-70 mV", "-50 mV"] } }
input = { I_e = "190 pA", noise = { sigma_V = "3 mV" } }

[[population]]
name = "I"
size = 80
model = "lif"
input = { I_e = "190 pA", noise = { sigma_V = "3 mV" } }

[[generator]]
name = "kick"
size = 20
rate = "50 Hz"

[[projection]]
source = "E"
target = "I"
rule = { fixed_indegree = 30 }
synapse = "exp_current"
weight = { normal = ["40 pA", "8 pA"] }
delay = { uniform = ["0.5 ms", "3 ms"] }

[[projection]]
source = "I"
target = "E"
rule = { pairwise_bernoulli = 0.2 }
weight = "-0.4 mV"
delay = "1 ms"

[[projection]]
source = "kick"
target = "E"
rule = { fixed_outdegree = 40 }
weight = "0.5 mV"

[[record]]
spikes = ["E", "I"]
)";
    ASSERT_EQ(ifsim("run " + (dir / "net.toml").string() + " --out " + (dir / "direct").string() + " -q").code, 0);
    const hid_t direct = H5Fopen((dir / "direct" / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(direct, 0);
    const auto t = read_dataset<double>(direct, "/spikes/E/timestamps", H5T_NATIVE_DOUBLE);
    const auto ti = read_dataset<double>(direct, "/spikes/I/timestamps", H5T_NATIVE_DOUBLE);
    const auto id = read_dataset<std::uint64_t>(direct, "/spikes/E/node_ids", H5T_NATIVE_UINT64);
    H5Fclose(direct);
    ASSERT_GT(t.size(), 100u);
    for (const std::string format : {"h5", "csv"}) {
        const fs::path files = dir / format;
        const auto w = ifsim("synapses " + (dir / "net.toml").string() + " --out " + files.string() + " --format " + format);
        ASSERT_EQ(w.code, 0) << w.err;
        EXPECT_NE(w.out.find("projection_0." + format + "  projection 0 (E -> I): 2400 synapses"), std::string::npos)
            << w.out;
        const auto r = ifsim("run " + (files / "from_files.toml").string() + " --out " + (files / "run").string() + " -q");
        ASSERT_EQ(r.code, 0) << r.err;
        const hid_t again = H5Fopen((files / "run" / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        ASSERT_GE(again, 0);
        EXPECT_EQ(read_dataset<double>(again, "/spikes/E/timestamps", H5T_NATIVE_DOUBLE), t) << format;
        EXPECT_EQ(read_dataset<double>(again, "/spikes/I/timestamps", H5T_NATIVE_DOUBLE), ti) << format;
        EXPECT_EQ(read_dataset<std::uint64_t>(again, "/spikes/E/node_ids", H5T_NATIVE_UINT64), id) << format;
        H5Fclose(again);
        // summary.json names each synapse file and its SHA-256, as sha256sum computes it (the
        // config's digest covers the file's path only).
        const fs::path file = fs::absolute(files / ("projection_0." + format));
        const std::string summary = slurp(files / "run" / "summary.json");
        EXPECT_NE(summary.find("\"file\": \"" + file.string() + "\""), std::string::npos) << summary;
        const std::string sum = command_output("sha256sum " + file.string());
        ASSERT_GE(sum.size(), 64u) << sum;
        EXPECT_NE(summary.find("\"file_sha256\": \"" + sum.substr(0, 64) + "\""), std::string::npos) << summary;
    }
    // What the file holds: the fixed in-degree, drawn delays on the 0.1 ms grid within the range.
    const hid_t f = H5Fopen((dir / "h5" / "projection_0.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const auto target = read_dataset<std::uint64_t>(f, "/target", H5T_NATIVE_UINT64);
    const auto delay = read_dataset<double>(f, "/delay", H5T_NATIVE_DOUBLE);
    const auto weight = read_dataset<double>(f, "/weight", H5T_NATIVE_DOUBLE);
    H5Fclose(f);
    ASSERT_EQ(target.size(), 2400u);
    std::vector<int> indegree(80, 0);
    for (const auto i : target) ++indegree.at(i);
    for (const int k : indegree) EXPECT_EQ(k, 30);
    for (const double d : delay) {
        EXPECT_GE(d, 0.5 - 1e-12);
        EXPECT_LE(d, 3.0 + 1e-12);
        EXPECT_NEAR(d * 10.0, std::round(d * 10.0), 1e-9);
    }
    EXPECT_NE(*std::min_element(weight.begin(), weight.end()), *std::max_element(weight.begin(), weight.end()));
    EXPECT_EQ(ifsim("synapses " + example("fi_curve.toml") + " --out " + (dir / "none").string()).code, 2);
    // Another export into the folder replaces the earlier one's files; it never writes over its input.
    ASSERT_EQ(ifsim("synapses " + (dir / "net.toml").string() + " --out " + (dir / "h5").string() + " --format csv").code, 0);
    EXPECT_FALSE(fs::exists(dir / "h5" / "projection_0.h5"));
    ASSERT_TRUE(fs::exists(dir / "h5" / "projection_0.csv"));
    // Its units in the columns' names, as the reader checks them (the HDF5 file's as attributes).
    EXPECT_EQ(slurp(dir / "h5" / "projection_0.csv").substr(0, 37), "source,target,weight [pA],delay [ms]\n");  // exp_current
    const auto self = ifsim("synapses " + (dir / "h5" / "from_files.toml").string() + " --out " + (dir / "h5").string());
    EXPECT_EQ(self.code, 2);
    EXPECT_NE(self.err.find("is the config given"), std::string::npos) << self.err;
    // Nor into a run's folder, whose reports an export's clearing would take.
    const auto into_run = ifsim("synapses " + (dir / "net.toml").string() + " --out " + (dir / "direct").string());
    EXPECT_EQ(into_run.code, 2);
    EXPECT_NE(into_run.err.find("holds a run (summary.json)"), std::string::npos) << into_run.err;
    EXPECT_FALSE(fs::exists(dir / "direct" / "projection_0.h5"));
    // The files are named relative to from_files.toml: the folder moves with them.
    fs::rename(dir / "csv", dir / "moved");
    const auto moved = ifsim("run " + (dir / "moved" / "from_files.toml").string() + " --out " + (dir / "moved_run").string() + " -q");
    EXPECT_EQ(moved.code, 0) << moved.err;
}

// start and stop (NEST's recorder window): a record writes the spikes of the steps [start, stop),
// times in (start, stop], and the samples taken at those steps, exactly those of the whole run;
// the report's mapping/time starts at its first sample. Populations keep their own windows, and
// a spike record of one population may name its neurons.
TEST(cli, records_write_only_their_window) {
    const std::string model = R"([simulation]
duration = "100 ms"
seed = 9

[[population]]
name = "E"
size = 20
model = "lif"
input = { I_e = "250 pA", noise = { sigma_V = "3 mV" } }

[[population]]
name = "F"
size = 5
model = "lif"
input = { I_e = "300 pA" }
)";
    const std::string whole = model + R"(
[[record]]
spikes = ["E", "F"]

[[record]]
state = "V_m"
population = "E"
neurons = [3, 1]
interval = "0.5 ms"
)";
    const std::string windowed = model + R"(
[[record]]
spikes = ["E"]
start = "20 ms"
stop = "50 ms"

[[record]]
spikes = ["F"]
neurons = [3, 1]

[[record]]
state = "V_m"
population = "E"
neurons = [3, 1]
interval = "0.5 ms"
start = "10.2 ms"
stop = "20 ms"
)";
    const fs::path a = fresh_dir("window_whole"), b = fresh_dir("window_part");
    ASSERT_EQ(run_config(a, whole).code, 0);
    const auto r = run_config(b, windowed);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto read = [](const fs::path& dir, const std::string& dataset, hid_t type, auto sample) {
        const std::string file = dataset.starts_with("/spikes") ? "spikes.h5" : "E_V_m.h5";
        const hid_t f = H5Fopen((dir / "out" / file).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        auto v = read_dataset<decltype(sample)>(f, dataset, type);
        H5Fclose(f);
        return v;
    };
    const auto t_all = read(a, "/spikes/E/timestamps", H5T_NATIVE_DOUBLE, 0.0);
    const auto t_win = read(b, "/spikes/E/timestamps", H5T_NATIVE_DOUBLE, 0.0);
    std::vector<double> expected;
    for (const double t : t_all)
        if (t > 20.0 && t <= 50.0 + 1e-9) expected.push_back(t);
    ASSERT_GT(expected.size(), 10u);
    EXPECT_EQ(t_win, expected);
    // F's spikes of neurons 1 and 3 only, as in the whole run.
    const auto f_t = read(a, "/spikes/F/timestamps", H5T_NATIVE_DOUBLE, 0.0);
    const auto f_id = read(a, "/spikes/F/node_ids", H5T_NATIVE_UINT64, std::uint64_t{0});
    std::vector<double> f_expected;
    std::vector<std::uint64_t> f_ids;
    for (std::size_t k = 0; k < f_t.size(); ++k)
        if (f_id[k] == 1 || f_id[k] == 3) f_expected.push_back(f_t[k]), f_ids.push_back(f_id[k]);
    ASSERT_GT(f_expected.size(), 4u);
    EXPECT_LT(f_expected.size(), f_t.size());
    EXPECT_EQ(read(b, "/spikes/F/timestamps", H5T_NATIVE_DOUBLE, 0.0), f_expected);
    EXPECT_EQ(read(b, "/spikes/F/node_ids", H5T_NATIVE_UINT64, std::uint64_t{0}), f_ids);

    // Samples at 10.5, 11, ..., 19.5 ms: frames 21 .. 39 of the whole run's, both columns.
    const auto v_all = read(a, "/report/E/data", H5T_NATIVE_FLOAT, 0.0f);
    const auto v_win = read(b, "/report/E/data", H5T_NATIVE_FLOAT, 0.0f);
    ASSERT_EQ(v_win.size(), 19u * 2u);
    EXPECT_EQ(v_win, std::vector<float>(v_all.begin() + 21 * 2, v_all.begin() + 40 * 2));
    EXPECT_EQ(read(b, "/report/E/mapping/time", H5T_NATIVE_DOUBLE, 0.0), (std::vector<double>{10.5, 20.0, 0.5}));

    // The resolved config keeps the windows, so it runs to the same files.
    const std::string resolved = slurp(b / "out" / "config.resolved.toml");
    EXPECT_NE(resolved.find("spikes = [\"E\"]\nstart = \"20 ms\"\nstop = \"50 ms\""), std::string::npos) << resolved;
    // A window on a sample grid of whole steps only, before the run's end, stop after start.
    for (const std::string bad : {"start = \"0.05 ms\"", "start = \"100 ms\"", "start = \"5 ms\"\nstop = \"5 ms\""}) {
        const auto e = run_config(fresh_dir("window_bad"), model + "\n[[record]]\nspikes = [\"E\"]\n" + bad + "\n");
        EXPECT_EQ(e.code, 2) << bad;
        EXPECT_NE(e.err.find("record[0]."), std::string::npos) << e.err;
    }
}

// The microcircuit's configs are tools/make_microcircuit.py's output, byte for byte: the DC
// background's examples/microcircuit.toml and the Poisson background's
// bench/configs/microcircuit_poisson.toml (skipped without /usr/bin/python3).
TEST(cli, microcircuit_configs_are_the_generators_output) {
    if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
    const fs::path dir = fresh_dir("microcircuit");
    fs::create_directories(dir);
    const std::string source(IFSIM_SOURCE_DIR);
    for (const auto& [background, committed] : {std::pair{"dc", source + "/examples/microcircuit.toml"},
                                                std::pair{"poisson", source + "/bench/configs/microcircuit_poisson.toml"}}) {
        const fs::path written = dir / (std::string(background) + ".toml");
        const std::string cmd = std::string("BACKGROUND=") + background + " N_SCALING=1 /usr/bin/python3 " + source +
                                "/tools/make_microcircuit.py " + written.string() + " >/dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        EXPECT_EQ(slurp(written), slurp(committed)) << committed << " differs from what " << cmd << " writes";
    }
}

// Every shipped example runs (shortened) and leaves its outputs; state reports read back whole.
TEST(cli, every_example_runs) {
    int ran = 0;
    for (const auto& entry : fs::directory_iterator(std::string(IFSIM_SOURCE_DIR) + "/examples")) {
        if (entry.path().extension() != ".toml") continue;
        const fs::path out = fresh_dir("example_" + entry.path().stem().string());
        const auto r = ifsim("run " + entry.path().string() + " --quiet --out " + out.string() +
                             " --set simulation.duration=20ms");
        ASSERT_EQ(r.code, 0) << entry.path() << "\n" << r.err;
        EXPECT_TRUE(fs::exists(out / "summary.json")) << entry.path();
        for (const auto& f : fs::directory_iterator(out)) {
            if (f.path().extension() != ".h5" || f.path().filename() == "spikes.h5") continue;
            const hid_t file = H5Fopen(f.path().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
            ASSERT_GE(file, 0) << f.path();
            char name[256] = {};
            H5Lget_name_by_idx(file, "/report", H5_INDEX_NAME, H5_ITER_INC, 0, name, sizeof name, H5P_DEFAULT);
            const std::string group = std::string("/report/") + name;
            const auto data = read_dataset<float>(file, group + "/data", H5T_NATIVE_FLOAT);
            const auto ids = read_dataset<std::uint64_t>(file, group + "/mapping/node_ids", H5T_NATIVE_UINT64);
            const auto time = read_dataset<double>(file, group + "/mapping/time", H5T_NATIVE_DOUBLE);
            const std::string variable = ifsim::test::string_attribute(file, group + "/data", "variable_name");
            const std::string unit = ifsim::test::string_attribute(file, group + "/data", "units");
            H5Fclose(file);
            const std::string want = variable == "V_m" ? "mV" : variable == "g_syn" ? "nS" : "pA";
            EXPECT_EQ(unit, want) << f.path() << ": " << variable;
            ASSERT_EQ(time.size(), 3u);
            const auto rows = std::size_t(std::llround((time[1] - time[0]) / time[2]));
            EXPECT_EQ(rows, std::size_t(std::llround(20.0 / time[2]))) << f.path();  // one frame per interval
            EXPECT_EQ(data.size(), rows * ids.size()) << f.path();
            for (const float v : data) ASSERT_TRUE(std::isfinite(v)) << f.path();
        }
        ++ran;
    }
    EXPECT_GE(ran, 6);
}

TEST(cli, set_and_seed_reach_the_run) {
    const fs::path a = fresh_dir("seed_a"), b = fresh_dir("seed_b");
    const std::string base = "run " + example("noisy_lif.toml") + " --set simulation.duration=50ms --set population.E.size=200 ";
    ASSERT_EQ(ifsim(base + "--out " + a.string() + " --seed 1").code, 0);
    ASSERT_EQ(ifsim(base + "--out " + b.string() + " --seed 2").code, 0);
    const std::string ra = slurp(a / "config.resolved.toml");
    EXPECT_NE(ra.find("seed = 1"), std::string::npos) << ra;
    EXPECT_NE(ra.find("size = 200"), std::string::npos);
    EXPECT_NE(slurp(a / "summary.json").find("\"seed\": 1"), std::string::npos);
    EXPECT_NE(json_field(slurp(a / "summary.json"), "config_digest"), json_field(slurp(b / "summary.json"), "config_digest"));

    // The thread count is not part of the model: the same digest on 1 and 2 threads.
    const fs::path t1 = fresh_dir("threads_1"), t2 = fresh_dir("threads_2");
    ASSERT_EQ(ifsim(base + "--out " + t1.string() + " --seed 1 --threads 1").code, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another second on the clock
    ASSERT_EQ(ifsim(base + "--out " + t2.string() + " --seed 1 --threads 2").code, 0);
    EXPECT_EQ(json_field(slurp(t1 / "summary.json"), "config_digest"), json_field(slurp(a / "summary.json"), "config_digest"));
    EXPECT_EQ(json_field(slurp(t2 / "summary.json"), "config_digest"), json_field(slurp(a / "summary.json"), "config_digest"));
    // And the same files, byte for byte: HDF5 stamped each object with its creation time, so that
    // runs a second apart differed in those bytes alone (found by an audit with sha256sum).
    for (const std::string file : {"spikes.h5", "E_V_m.h5"}) {
        ASSERT_TRUE(fs::exists(t1 / file)) << file;
        EXPECT_TRUE(slurp(t1 / file) == slurp(t2 / file)) << file << " differs between 1 and 2 threads";
    }
    EXPECT_TRUE(slurp(a / "spikes.h5") == slurp(t1 / "spikes.h5"));

    // --seed and --threads in every command that reads a config; --seed with --set simulation.seed
    // is an error (one silently won).
    const auto c = ifsim("check " + example("noisy_lif.toml") + " --seed 7 --threads 1");
    EXPECT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.out.find("seed 7"), std::string::npos) << c.out;
    EXPECT_EQ(ifsim("theory " + example("fi_curve.toml") + " --seed 7").code, 0);
    const auto both = ifsim(base + "--out " + fresh_dir("seed_both").string() + " --seed 5 --set simulation.seed=7");
    EXPECT_EQ(both.code, 2);
    EXPECT_NE(both.err.find("--seed 5 and --set simulation.seed=7 both set simulation.seed"), std::string::npos) << both.err;
    // What is no whole number is said so (it was "not in range"); an empty --out (an unset
    // $OUTDIR) is refused, not taken as the default folder.
    const auto word = ifsim("check " + example("fi_curve.toml") + " --seed 1e3");
    EXPECT_EQ(word.code, 2);
    EXPECT_NE(word.err.find("--seed: '1e3' is not a whole number"), std::string::npos) << word.err;
    const auto empty = ifsim(base + "--out ''");
    EXPECT_EQ(empty.code, 2);
    EXPECT_NE(empty.err.find("--out: an empty path"), std::string::npos) << empty.err;
}

// The digest identifies the model, not where its file lies: a copy elsewhere and the resolved
// config run again resolve to the same bytes.
TEST(cli, config_digest_is_the_same_from_any_path_and_for_the_resolved_config) {
    const std::string model = R"([simulation]
duration = "5 ms"

[[population]]
name = "E"
size = 10
model = "lif"
input = { I_e = "400 pA" }
)";
    const fs::path a = fresh_dir("digest_a"), b = fresh_dir("digest_b") / "deeper";
    ASSERT_EQ(run_config(a, model).code, 0);
    ASSERT_EQ(run_config(b, model).code, 0);
    const fs::path again = fresh_dir("digest_again");
    ASSERT_EQ(ifsim("run " + (a / "out" / "config.resolved.toml").string() + " --out " + again.string() + " --quiet").code, 0);

    const std::string digest = json_field(slurp(a / "out" / "summary.json"), "config_digest");
    EXPECT_EQ(digest.size(), 66u) << digest;  // 64 hex digits, quoted
    EXPECT_EQ(json_field(slurp(b / "out" / "summary.json"), "config_digest"), digest);
    EXPECT_EQ(json_field(slurp(again / "summary.json"), "config_digest"), digest);
    EXPECT_EQ(slurp(again / "config.resolved.toml"), slurp(a / "out" / "config.resolved.toml"));
    EXPECT_NE(json_field(slurp(again / "summary.json"), "config_file"),
              json_field(slurp(a / "out" / "summary.json"), "config_file"));
}

// A file that lists no synapses is a legal projection, but one the user hears about; summary.json
// counts every projection's synapses.
TEST(cli, projection_without_synapses_is_a_warning_and_counted_in_the_summary) {
    const fs::path dir = fresh_dir("empty_projection");
    fs::create_directories(dir);
    std::ofstream(dir / "none.csv") << "source,target,weight\n# no rows\n";
    const auto r = run_config(dir, R"([simulation]
duration = "5 ms"

[[population]]
name = "E"
size = 10
model = "lif"

[[projection]]
source = "E"
target = "E"
rule = { from_file = "none.csv" }

[[projection]]
source = "E"
target = "E"
rule = { fixed_indegree = 3 }
weight = "0.1 mV"

[[generator]]
name = "idle"
size = 3
rate = "5 Hz"

[[generator]]
name = "late"
size = 2
times = ["4 ms", "5 ms", "5.1 ms", "9 ms"]

[[projection]]
source = "late"
target = "E"
rule = "all_to_all"
weight = "0.1 mV"
)");
    ASSERT_EQ(r.code, 0) << r.err;
    // Listed times after the run's end (5 ms = 50 steps: 5 ms is the last step's end).
    EXPECT_NE(r.err.find("warning: generator 'late' lists 4 spike(s) after the run's end; they are never sent"),
              std::string::npos) << r.err;
    EXPECT_NE(r.err.find("warning: projection 0 (E -> E) makes no synapses: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("warning: generator 'idle' is the source of no projection; it sends nothing"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("none.csv lists none"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("projection[1]"), std::string::npos) << r.err;

    const std::string json = slurp(dir / "out" / "summary.json");
    const auto at = json.find("\"projections\"");
    ASSERT_NE(at, std::string::npos) << json;
    const std::string projections = json.substr(at, json.find(']', at) - at);
    const auto first = projections.find("\"synapses\": 0");
    const auto second = projections.find("\"synapses\": 30");
    ASSERT_NE(first, std::string::npos) << projections;
    ASSERT_NE(second, std::string::npos) << projections;
    EXPECT_LT(first, second) << projections;  // config order
    EXPECT_NE(projections.find("\"source\": \"E\""), std::string::npos) << projections;
}

// 2^32 neurons in double with a per-neuron bias current need over 200 GiB: check says a run here
// would not fit (exit 0: the machine a job runs on may have the memory), and that the CUDA backend
// would not take it, in any build; a run stops before allocating anything, exit 1 with the need
// named (a fuzzed config like it was killed for memory).
TEST(cli, check_says_when_a_run_would_not_fit_here) {
    if (ifsim::available_memory() > (std::uint64_t{200} << 30)) GTEST_SKIP() << "over 200 GiB of memory available";
    const std::string huge =
        example("fi_curve_noisy.toml") + " --set population.fi.size=4294967296 --set simulation.precision=double";
    auto r = ifsim("check " + huge);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("available: too little, a run here stops before it starts"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("cuda         not on the CUDA backend: population 'fi' has 4294967296 neurons; the CUDA "
                         "backend holds at most 2^31 - 1 per population (--backend auto runs it on the CPU)"),
              std::string::npos)
        << r.out;
    const fs::path dir = fresh_dir("check_huge");
    r = ifsim("run " + huge + " --out " + (dir / "out").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the run needs at least about"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5"));
}

// A synapse file's longest delay sets the rings' length, as a rule's does: check counts it (it
// counted one step, 129 KiB here where the rings take 458 MiB).
TEST(cli, check_counts_the_rings_a_synapse_files_delays_need) {
    const fs::path dir = fresh_dir("check_file_delay");
    fs::create_directories(dir);
    const auto plan = [&](const std::string& delay_ms) {
        std::ofstream(dir / "syn.csv") << "source,target,delay\n0,1," << delay_ms << "\n";
        std::ofstream(dir / "net.toml") << "[[population]]\nname = \"E\"\nsize = 1000\nmodel = \"lif\"\n\n"
                                           "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = { from_file = \"syn.csv\" }\n"
                                           "weight = \"0.1 mV\"\n";
        const auto r = ifsim("check " + (dir / "net.toml").string());
        EXPECT_EQ(r.code, 0) << r.err;
        return r.out;
    };
    EXPECT_NE(plan("6000").find("at least 458 MiB for the run (largest: the synaptic rings of population 'E', 458 MiB)"),
              std::string::npos)
        << plan("6000");  // 1000 neurons x 60,001 slots x 8 bytes
    EXPECT_NE(plan("1").find("at least 129 KiB for the run"), std::string::npos) << plan("1");

    // A run learns the delays as it reads the file, and stops before it allocates the rings:
    // 500,000 neurons x 60,001 slots x 8 bytes are 224 GiB.
    if (ifsim::available_memory() > (std::uint64_t{250} << 30)) GTEST_SKIP() << "over 250 GiB of memory available";
    std::ofstream(dir / "syn.csv") << "source,target,delay\n0,1,6000\n";
    std::ofstream(dir / "big.toml") << "[[population]]\nname = \"E\"\nsize = 500000\nmodel = \"lif\"\n\n"
                                       "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = { from_file = \"syn.csv\" }\n"
                                       "weight = \"0.1 mV\"\n";
    const auto r = ifsim("run " + (dir / "big.toml").string() + " --out " + (dir / "out").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the run needs at least about 224 GiB (rings for the synapse files' longest delay, 60000 steps)"),
              std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5"));
}

// Rings as long as a 6 s delay for 500,000 neurons (224 GiB) are what a run lacks memory for:
// check and the refusal name them and say to shorten the delay, not to cut the connections.
TEST(cli, a_delay_too_long_for_memory_names_the_rings) {
    if (ifsim::available_memory() > (std::uint64_t{250} << 30)) GTEST_SKIP() << "over 250 GiB of memory available";
    const fs::path dir = fresh_dir("long_delay");
    fs::create_directories(dir);
    std::ofstream(dir / "net.toml") << "[[population]]\nname = \"E\"\nsize = 500000\nmodel = \"lif\"\n\n"
                                       "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = { fixed_indegree = 1 }\n"
                                       "weight = \"0.1 mV\"\ndelay = \"6000 ms\"\n";
    const std::string rings = "the synaptic rings of population 'E'";
    const std::string advice =
        "Every synaptic ring holds the network's longest delay (60001 slots of one step): shorten it, or reduce the "
        "population sizes";
    auto r = ifsim("check " + (dir / "net.toml").string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("(largest: " + rings + ", 224 GiB)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("a run here stops before it starts. " + advice), std::string::npos) << r.out;
    r = ifsim("run " + (dir / "net.toml").string() + " --out " + (dir / "out").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the largest part is " + rings + " (224 GiB). " + advice + "."), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5"));
}

// `check` validates without running: the plan on stdout with exact synapse counts, a synapse file
// read whole (a bad row is found here, not only when a run builds), --build the real network.
TEST(cli, check_prints_the_plan_and_finds_what_a_run_would_reject) {
    auto r = ifsim("check " + example("brunel.toml"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("brunel.toml: valid"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("10000 steps"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("projections  4, 15625000 synapses"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[2] I -> E  fixed_indegree 250  delta  2500000 synapses"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("memory       at least"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("too little"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("not on the CUDA backend"), std::string::npos) << r.out;
    // A synaptic record names what its channel sums (Vogels-Abbott: E's excitatory conductance
    // is fed by E -> E and the initial kick's projection, its inhibitory one by I -> E).
    const auto va_plan = ifsim("check " + example("vogels_abbott.toml"));
    ASSERT_EQ(va_plan.code, 0) << va_plan.err;
    EXPECT_NE(va_plan.out.find("g_syn of E (the channel that projection 0 and projection 4 feed, summed)"), std::string::npos)
        << va_plan.out;
    EXPECT_NE(va_plan.out.find("g_syn of E (the channel of projection 2 alone)"), std::string::npos) << va_plan.out;

    // --build against a run of the same network: the same synapses.
    const fs::path dir = fresh_dir("check_build");
    const std::string va = example("vogels_abbott.toml") + " --set simulation.duration=\"1 ms\"";
    r = ifsim("check " + va + " --build");
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(ifsim("run " + va + " --quiet --out " + dir.string()).code, 0);
    const std::string synapses = json_field(slurp(dir / "summary.json"), "synapses");
    ASSERT_FALSE(synapses.empty());
    EXPECT_NE(r.out.find("built        " + synapses + " synapses, 4 B each"), std::string::npos) << r.out << synapses;
    // The built counts, per projection too, are exact: no "about" (which the plan alone says).
    EXPECT_EQ(r.out.find("about"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("projections  6, " + synapses + " synapses"), std::string::npos) << r.out;
    EXPECT_NE(va_plan.out.find("E -> E  pairwise_bernoulli 0.02  exp_conductance  about "), std::string::npos) << va_plan.out;

    // A projection without synapses is the same warning as the run's, before the plan.
    const fs::path none = fresh_dir("check_empty_file");
    fs::create_directories(none);
    std::ofstream(none / "syn.csv") << "source,target\n";
    std::ofstream(none / "net.toml") << "[[population]]\nname = \"E\"\nsize = 10\nmodel = \"lif\"\n\n"
                                        "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = { from_file = \"syn.csv\" }\n"
                                        "weight = \"0.1 mV\"\n";
    for (const std::string build : {"", " --build"}) {
        const auto e = ifsim("check " + (none / "net.toml").string() + build);
        EXPECT_EQ(e.code, 0) << e.err;
        EXPECT_NE(e.err.find("warning: projection 0 (E -> E) makes no synapses"), std::string::npos) << build << e.err;
    }

    // A row the config check cannot see (it reads the header): check reads the file, exit 2.
    const fs::path bad = fresh_dir("check_file");
    fs::create_directories(bad);
    std::ofstream(bad / "syn.csv") << "source,target,weight\n0,1,0.5\n0,10,0.5\n";
    std::ofstream(bad / "net.toml") << "[[population]]\nname = \"E\"\nsize = 10\nmodel = \"lif\"\n\n"
                                       "[[projection]]\nsource = \"E\"\ntarget = \"E\"\nrule = { from_file = \"syn.csv\" }\n";
    r = ifsim("check " + (bad / "net.toml").string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.err.find("projection 0 (E -> E): "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("syn.csv:3: target = 10 is not a neuron"), std::string::npos) << r.err;

    r = ifsim("check " + std::string(IFSIM_SOURCE_DIR) + "/tests/configs/bad/projection_weight_beyond_range.toml");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("projection[0].weight = \"2e6 pA\""), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

std::set<std::string> bench_scratch_dirs() {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
        if (e.path().filename().string().starts_with("ifsim-bench-")) names.insert(e.path().filename().string());
    return names;
}

// `bench` times whole runs: a CSV line per run and the median, rates consistent with the work
// done (10 neurons x 50 steps), and its scratch output folders gone afterwards.
TEST(cli, bench_times_runs_and_leaves_nothing_behind) {
    const std::set<std::string> before = bench_scratch_dirs();
    const fs::path dir = fresh_dir("bench");
    fs::create_directories(dir);
    std::ofstream(dir / "b.toml") << "[simulation]\nduration = \"5 ms\"\n\n[[population]]\nname = \"E\"\nsize = 10\n"
                                     "model = \"lif\"\ninput = { I_e = \"500 pA\" }\n\n[[record]]\nspikes = [\"E\"]\n";
    const auto r = ifsim("bench " + (dir / "b.toml").string() + " --backend cpu --runs 3 --csv");
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream lines(r.out);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(csv_fields(line));
    ASSERT_EQ(rows.size(), 5u) << r.out;  // header, 3 runs, median
    ASSERT_EQ(rows[0].size(), 14u) << r.out;
    EXPECT_EQ(rows[0][8], "wall_s");
    EXPECT_EQ(rows[0][12], "floor_s");
    std::vector<double> walls;
    for (std::size_t k = 1; k < rows.size(); ++k) {
        ASSERT_EQ(rows[k].size(), 14u) << r.out;
        EXPECT_EQ(rows[k][1], "cpu");
        EXPECT_EQ(rows[k][6], k < 4 ? std::to_string(k) : std::string("median"));
        // 500 neuron-steps, each reading and writing V and the refractory state in float.
        EXPECT_EQ(rows[k][4], "8000") << r.out;
        const double bandwidth = std::stod(rows[k][5]);
        const double wall = std::stod(rows[k][8]), rate = std::stod(rows[k][10]);
        const double floor = std::stod(rows[k][12]), of_floor = std::stod(rows[k][13]);
        ASSERT_GT(wall, 0.0);
        EXPECT_GT(bandwidth, 1e8) << r.out;
        EXPECT_NEAR(floor, 8000.0 / bandwidth, 1e-5 * floor) << r.out;
        if (k < 4) {
            EXPECT_NEAR(rate * wall, 500.0, 1e-4 * 500.0) << r.out;  // neurons x steps
            EXPECT_NEAR(of_floor, floor / wall, 1e-5 * of_floor) << r.out;
            walls.push_back(wall);
        }
    }
    std::sort(walls.begin(), walls.end());
    EXPECT_EQ(std::stod(rows[4][8]), walls[1]) << r.out;
    EXPECT_EQ(bench_scratch_dirs(), before);
}

// summary.json's least_bytes_moved (memory_traffic.hpp), by hand: 200 steps of 10 + 5 LIF neurons
// reading and writing V and the refractory state in float (16 B each) and the 5 targets' arrival
// slots (int64, read and cleared: 16 B each), and per synaptic event its synapse (4 B as stored:
// the target; the one weight and delay are stored once) and its arrival slot read and written.
TEST(cli, summary_counts_the_least_bytes_moved) {
    const fs::path dir = fresh_dir("least_bytes");
    const auto r = run_config(dir, "[simulation]\nduration = \"20 ms\"\n\n"
                                   "[[population]]\nname = \"E\"\nsize = 10\nmodel = \"lif\"\n"
                                   "input = { I_e = \"500 pA\" }\n\n"
                                   "[[population]]\nname = \"T\"\nsize = 5\nmodel = \"lif\"\n\n"
                                   "[[projection]]\nsource = \"E\"\ntarget = \"T\"\nrule = \"all_to_all\"\n"
                                   "weight = \"0.1 mV\"\ndelay = \"1 ms\"\n\n[[record]]\nspikes = [\"E\"]\n");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string summary = slurp(dir / "out" / "summary.json");
    ASSERT_EQ(json_field(summary, "bytes_per_synapse"), "4");
    const double events = std::stod(json_field(summary, "synaptic_events"));
    EXPECT_GT(events, 0.0);
    EXPECT_EQ(std::stod(json_field(summary, "least_bytes_moved")), 200.0 * (15 * 16 + 5 * 16) + events * (4 + 16));
}

// A network that takes seconds to build says so before it starts; --quiet silences it.
TEST(cli, a_large_network_announces_its_build) {
    const std::string args = "run " + example("brunel.toml") + " --backend cpu --set simulation.duration=\"1 ms\" --out ";
    auto r = ifsim(args + fresh_dir("announce").string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("building the network: about 1.56e+07 synapses\n"), std::string::npos) << r.err;
    r = ifsim(args + fresh_dir("announce_quiet").string() + " --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("building"), std::string::npos) << r.err;
}

// Past `ulimit -f` every command says so: theory --out was killed by SIGXFSZ without a word (exit
// 153); only run, bench and synapses ignored the signal. No trap here: ifsim's own doing.
TEST(cli, a_file_past_the_size_limit_is_said_by_every_command) {
    const fs::path dir = fresh_dir("theory_past_ulimit");
    fs::create_directories(dir);
    const auto r = ifsim("theory " + example("fi_curve.toml") + " --out " + (dir / "t.csv").string(), "ulimit -f 4; ");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("t.csv.part': File too large"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "t.csv.part"));
}

// A damaged HDF5 synapse file (8 bytes of its metadata overwritten, as a fuzzer made it,
// tests/configs/bad/damaged_synapses.h5) crashed HDF5 itself, and ifsim with it: SIGSEGV, exit
// 139, not a word. check and run now end with a message naming the file, exit 2, and run leaves
// no folder. An HDF5 that reads it without crashing refuses it too (exit 2, the file named).
TEST(cli, a_damaged_hdf5_synapse_file_is_bad_input_not_a_crash) {
    const fs::path dir = fresh_dir("damaged_h5");
    fs::create_directories(dir);
    const std::string file = std::string(IFSIM_SOURCE_DIR) + "/tests/configs/bad/damaged_synapses.h5";
    std::ofstream(dir / "net.toml") << "[simulation]\nduration = \"5 ms\"\n\n[[population]]\nname = \"E\"\nsize = 20\n"
                                       "model = \"lif\"\n\n[[projection]]\nsource = \"E\"\ntarget = \"E\"\n"
                                       "rule = { from_file = \"" << file << "\" }\n";
    for (const std::string& command : {std::string("check "), "run --backend cpu --out " + (dir / "out").string() + " "}) {
        const auto r = ifsim(command + (dir / "net.toml").string());
        EXPECT_EQ(r.code, 2) << command << r.err;
        EXPECT_NE(r.err.find("damaged_synapses.h5"), std::string::npos) << command << r.err;
    }
    EXPECT_FALSE(fs::exists(dir / "out"));
}

// theory's table of a row per neuron is refused where it cannot fit, with what it needs: 2^32
// neurons had the process killed by the kernel (exit 137). 2^28 rows need about 24 GiB, over
// `ulimit -v` of 4 GiB here. Neurons that differ are drawn while their rows are made: 2e7 with a
// linspace of V_th and I_e need about 1.8 GiB of rows and 2.5 GiB of parameters and currents, over
// 3 GiB (counting the rows alone passed them, and the process ran out of memory: a review).
TEST(cli, a_theory_table_beyond_memory_is_refused_before_it_is_made) {
    const fs::path dir = fresh_dir("theory_beyond_memory");
    fs::create_directories(dir);
    std::ofstream(dir / "big.toml") << "[simulation]\nduration = \"10 ms\"\n\n[[population]]\nname = \"E\"\n"
                                       "size = 268435456\nmodel = \"lif\"\ninput = { I_e = \"500 pA\" }\n";
    const auto r = ifsim("theory " + (dir / "big.toml").string(), "ulimit -v 4194304; ");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the theory's table, a row per neuron, needs at least about"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the largest part is population 'E'"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
    std::ofstream(dir / "varied.toml") << "[simulation]\nduration = \"10 ms\"\n\n[[population]]\nname = \"E\"\n"
                                          "size = 20000000\nmodel = \"lif\"\n"
                                          "params = { V_th = { linspace = [\"-55 mV\", \"-50 mV\"] } }\n"
                                          "input = { I_e = { linspace = [\"400 pA\", \"600 pA\"] } }\n";
    const auto varied = ifsim("theory " + (dir / "varied.toml").string(), "ulimit -v 3000000; ");
    EXPECT_EQ(varied.code, 1) << varied.err;
    EXPECT_NE(varied.err.find("the theory's table, a row per neuron, needs at least about"), std::string::npos)
        << varied.err;
}

// A state record of every neuron of 2^32 is refused as the config is read, before its list of
// neurons is spelt out: `check` ran out of memory there before it could print its estimate (a
// fuzz audit; bad_alloc, exit 1).
TEST(cli, a_record_list_beyond_memory_is_refused_before_it_is_made) {
    const fs::path dir = fresh_dir("record_beyond_memory");
    fs::create_directories(dir);
    std::ofstream(dir / "huge.toml") << R"([simulation]
duration = "10 ms"

[[population]]
name = "P"
size = 4294967296
model = "lif"

[[record]]
state = "V_m"
population = "P"
neurons = "all"
)";
    const auto r = ifsim("check " + (dir / "huge.toml").string(), "ulimit -v 4000000; ");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("record[0].neurons = \"all\": records 4294967296 neurons, whose list alone takes 32 GiB"),
              std::string::npos)
        << r.err;
}

// A drive I / g_L beyond the run's precision is bad input, found before the run starts (so an
// earlier run in the folder stays): with g_L = 1e-30 nS and I_e = 5e8 pA, each in its range, a float
// run passed every check, then ran away at its first step and replaced the earlier run (a fuzz audit).
TEST(cli, a_drive_beyond_the_precision_is_refused_before_the_run) {
    const fs::path dir = fresh_dir("drive_beyond_float");
    const std::string config = R"([simulation]
duration = "20 ms"

[[population]]
name = "A"
size = 2
model = "lif"
params = { g_L = "1e-30 nS" }
input = { I_e = { linspace = ["0 pA", "5e8 pA"] } }

[[record]]
spikes = "all"
)";
    std::string fine = config;
    fine.replace(fine.find("5e8 pA"), 6, "1 pA");
    ASSERT_EQ(run_config(dir, fine).code, 0);
    const auto r = run_config(dir, config);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("population 'A', neuron 1: its input current I_e = 5e+08 pA over g_L = 1e-30 nS drives V to "
                         "5e+38 mV, beyond float's range (3.4e38); the parameters are too extreme for float: use "
                         "simulation.precision = \"double\""),
              std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(dir / "out" / "spikes.h5"));  // the earlier run's
    const auto c = ifsim("check --build " + (dir / "run.toml").string());
    EXPECT_EQ(c.code, 2) << c.out;
    // In double it runs.
    std::string in_double = config;
    in_double.replace(in_double.find("duration"), 0, "precision = \"double\"\n");
    EXPECT_EQ(run_config(fresh_dir("drive_in_double"), in_double).code, 0);
}

// check --build stops where a run would, before it draws what does not fit: with a linspace of
// I_e over 2^32 - 1 neurons it ran out of memory drawing them (bad_alloc; a fuzz audit).
TEST(cli, check_build_says_the_memory_a_run_needs_before_it_draws) {
    const fs::path dir = fresh_dir("check_build_beyond_memory");
    fs::create_directories(dir);
    std::ofstream(dir / "huge.toml") << R"([simulation]
duration = "20 ms"

[[population]]
name = "E"
size = 4294967295
model = "lif"
input = { I_e = { linspace = ["0 pA", "1 nA"] } }
)";
    const auto r = ifsim("check --build " + (dir / "huge.toml").string(), "ulimit -v 4000000; ");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the run needs at least about 160 GiB"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the largest part is population 'E' (160 GiB). Reduce the population sizes."),
              std::string::npos) << r.err;
}

// An output folder that cannot be made is bad input (exit 2) with the reason: a dangling link was
// "File exists", a name too long a library error with exit 1.
TEST(cli, an_output_folder_that_cannot_be_made_says_why) {
    const fs::path dir = fresh_dir("out_cannot_be_made");
    fs::create_directories(dir);
    fs::create_symlink(dir / "nowhere", dir / "dangling");
    const auto dangling = ifsim("run " + example("fi_curve.toml") + " --quiet --out " + (dir / "dangling").string());
    EXPECT_EQ(dangling.code, 2) << dangling.err;
    EXPECT_NE(dangling.err.find("cannot be created: it is a link to '" + (dir / "nowhere").string() + "', which does not exist"),
              std::string::npos) << dangling.err;
    const auto too_long = ifsim("run " + example("fi_curve.toml") + " --quiet --out " + (dir / std::string(300, 'a')).string());
    EXPECT_EQ(too_long.code, 2) << too_long.err;
    EXPECT_NE(too_long.err.find("cannot be created: File name too long"), std::string::npos) << too_long.err;
}

// A write that fails mid-run (here a file size limit; a full disk behaves alike) ends the run with
// exit 1, the file named, and a summary.json that says "failed" and why. Before, HDF5's cleanup at
// exit segfaulted on the file whose writes had failed, and closing it kept summary.json unwritten.
TEST(cli, a_failing_write_ends_the_run_cleanly) {
    const fs::path dir = fresh_dir("write_fails");
    const auto r = ifsim("run " + example("brunel.toml") + " --backend cpu --quiet --set simulation.duration=\"200 ms\" --out " +
                             dir.string(),
                         "ulimit -f 300; trap '' XFSZ; ");  // 300 KiB per file; EFBIG instead of a signal
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("spikes.h5.part': HDF5 failed to append"), std::string::npos) << r.err;
    // The cause, in the operating system's words (the deepest entry of HDF5's stack), said once:
    // the close that fails the same way after it is not spelt out again.
    EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
    const std::string json = slurp(dir / "summary.json");
    EXPECT_EQ(json_field(json, "status"), "\"failed\"") << json;
    const std::string message = json_field(json, "message");
    EXPECT_NE(message.find("HDF5 failed to append"), std::string::npos) << json;
    EXPECT_EQ(message.find("HDF5 failed to append"), message.rfind("HDF5 failed to append")) << json;
    EXPECT_NE(message.find("closing the files then failed the same way"), std::string::npos) << json;
    // The file HDF5 could not close is no file to read: removed (a full disk's 68 GB .part kept the
    // disk full: a fuzz audit), and said.
    EXPECT_NE(message.find("closing the files then failed the same way (spikes.h5.part cut short and removed)"),
              std::string::npos) << json;
    EXPECT_FALSE(fs::exists(dir / "spikes.h5.part"));
    EXPECT_FALSE(fs::exists(dir / "spikes.h5"));

    // Two files over the limit: the run's error once, the other file's close error beside it
    // (which file fails first is the writer's timing).
    const fs::path two = fresh_dir("write_fails_two");
    const auto r2 = ifsim("run " + example("noisy_lif.toml") + " --backend cpu --quiet --set 'record.E_V_m.neurons={ range = [0, 50] }' --out " +
                              two.string(),
                          "ulimit -f 300; trap '' XFSZ; ");
    EXPECT_EQ(r2.code, 1) << r2.err;
    const std::string both = json_field(slurp(two / "summary.json"), "message");
    EXPECT_NE(both.find("; closing the files then failed the same way ("), std::string::npos) << both;
    EXPECT_NE(both.find(" cut short and removed) and with: '"), std::string::npos) << both;
    EXPECT_NE(both.find("; the file (cut short at "), std::string::npos) << both;
    for (const std::string part : {"spikes.h5.part", "E_V_m.h5.part"}) {
        const std::string path = (two / part).string();
        EXPECT_NE(both.find(path), std::string::npos) << both;
        EXPECT_EQ(both.find(path), both.rfind(path)) << both;
        EXPECT_FALSE(fs::exists(two / part));
    }
}

// A folder holds one run: a second run into it removes the first one's files (here a report the
// second does not record), and leaves the user's own files alone.
TEST(cli, a_run_replaces_the_earlier_run_in_its_folder) {
    const fs::path dir = fresh_dir("rerun");
    const std::string model = "[simulation]\nduration = \"5 ms\"\n\n[[population]]\nname = \"E\"\nsize = 4\n"
                              "model = \"lif\"\ninput = { I_e = \"500 pA\" }\n\n[[record]]\nspikes = [\"E\"]\n";
    ASSERT_EQ(run_config(dir, model + "\n[[record]]\nname = \"E_V\"\nstate = \"V_m\"\npopulation = \"E\"\n").code, 0);
    ASSERT_TRUE(fs::exists(dir / "out" / "E_V.h5"));
    std::ofstream(dir / "out" / "notes.txt") << "mine";

    std::ofstream(dir / "run.toml") << model;
    const auto r = ifsim("run " + (dir / "run.toml").string() + " --out " + (dir / "out").string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("replacing the earlier run there"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "E_V.h5"));
    EXPECT_TRUE(fs::exists(dir / "out" / "spikes.h5"));
    EXPECT_TRUE(fs::exists(dir / "out" / "summary.json"));
    EXPECT_EQ(slurp(dir / "out" / "notes.txt"), "mine");
}

// Every malformed config: exit code 2, a message naming the key and value, and no output at all.
TEST(cli, bad_configs_exit_2_with_the_key_and_nothing_written) {
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(std::string(IFSIM_SOURCE_DIR) + "/tests/configs/bad")) {
        if (entry.path().extension() != ".toml") continue;  // data files the configs name
        const fs::path out = fresh_dir("bad");
        const auto r = ifsim("run " + entry.path().string() + " --out " + out.string());
        EXPECT_EQ(r.code, 2) << entry.path() << "\n" << r.err;
        EXPECT_FALSE(fs::exists(out)) << entry.path() << " left " << out;
        std::ifstream f(entry.path());
        std::string line;
        std::getline(f, line);
        std::getline(f, line);  // "# expect: <key>; <value>"
        const auto colon = line.find(':');
        std::stringstream expect(line.substr(colon + 1));
        for (std::string part; std::getline(expect, part, ';');) {
            part.erase(0, part.find_first_not_of(' '));
            part.erase(part.find_last_not_of(' ') + 1);
            if (!part.empty()) {
                EXPECT_NE(r.err.find(part), std::string::npos) << entry.path() << ": " << r.err;
            }
        }
        EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;  // no crash
        ++checked;
    }
    EXPECT_GE(checked, 18);
}

TEST(cli, unusable_arguments_exit_2) {
    EXPECT_EQ(ifsim("run /nonexistent/config.toml").code, 2);
    EXPECT_EQ(ifsim("run " + example("fi_curve.toml") + " --backend gpu").code, 2);
    // A command that is none, or none at all: named, with the nearest and the list (CLI11 said "A
    // subcommand is required" to both).
    const auto unknown = ifsim("frobnicate");
    EXPECT_EQ(unknown.code, 2);
    EXPECT_NE(unknown.err.find("ifsim: error: unknown command 'frobnicate'; the commands: run info"), std::string::npos)
        << unknown.err;
    const auto rn = ifsim("rn " + example("fi_curve.toml"));
    EXPECT_EQ(rn.code, 2);
    EXPECT_NE(rn.err.find("unknown command 'rn' (did you mean run?)"), std::string::npos) << rn.err;
    const auto config_alone = ifsim(example("fi_curve.toml"));
    EXPECT_EQ(config_alone.code, 2);
    EXPECT_NE(config_alone.err.find("(did you mean ifsim run " + example("fi_curve.toml") + "?)"), std::string::npos)
        << config_alone.err;
    const auto option = ifsim("-x");
    EXPECT_EQ(option.code, 2);
    EXPECT_NE(option.err.find("ifsim: error: '-x' is no option of ifsim before a command"), std::string::npos) << option.err;
    EXPECT_EQ(ifsim("--version").code, 0);
    EXPECT_EQ(ifsim("-h").code, 0);
    const auto none = ifsim("");
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("ifsim: error: no command; the commands:"), std::string::npos) << none.err;
    // CLI11's own errors come as ifsim's.
    const auto twice = ifsim("run " + example("fi_curve.toml") + " --seed 1 --seed 2");
    EXPECT_EQ(twice.code, 2);
    EXPECT_EQ(twice.err.rfind("ifsim: error: --seed", 0), 0u) << twice.err;
    // An option the command lacks: named, with the nearest it has (CLI11 listed them reversed).
    const auto typo = ifsim("run " + example("fi_curve.toml") + " --outdir x");
    EXPECT_EQ(typo.code, 2);
    EXPECT_NE(typo.err.find("ifsim run: unexpected arguments: --outdir x (did you mean --out?)"), std::string::npos)
        << typo.err;
    // An output folder below a regular file cannot be created.
    const fs::path file = fresh_dir("not_a_dir");
    std::ofstream(file) << "x";
    const auto r = ifsim("run " + example("fi_curve.toml") + " --out " + (file / "sub").string());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("output folder"), std::string::npos) << r.err;
    // Out of range: blamed on the option given, not on the override it would become.
    for (const std::string option : {"--seed 4294967296", "--threads 2147483648", "--threads 4097"}) {
        const auto o = ifsim("run " + example("fi_curve.toml") + " " + option);
        EXPECT_EQ(o.code, 2) << option;
        EXPECT_NE(o.err.find(option.substr(0, option.find(' ')) + ": Value"), std::string::npos) << o.err;
        EXPECT_EQ(o.err.find("--set"), std::string::npos) << o.err;
    }
}

// OMP_NUM_THREADS past the system's thread limit crashed OpenMP starting the network build's team
// (segfault at 100,000); a run holds OpenMP's default to max_threads (4096).
TEST(cli, omp_num_threads_beyond_any_machine_is_held_to_the_limit) {
    const fs::path out = fresh_dir("omp_threads");
    const auto r = ifsim("run " + example("brunel.toml") + " --set simulation.duration=10ms --quiet --out " + out.string(),
                         "OMP_NUM_THREADS=100000 ");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string summary = slurp(out / "summary.json");
    EXPECT_NE(summary.find("\"device\": \"4096 threads"), std::string::npos) << summary;
}

// OMP_THREAD_LIMIT caps every team below --threads: the summary says the threads that ran (it
// said the 2 asked for).
TEST(cli, omp_thread_limit_is_the_thread_count_reported) {
    const fs::path out = fresh_dir("omp_thread_limit");
    const auto r = ifsim("run " + example("fi_curve.toml") + " --backend cpu --threads 2 --quiet --out " + out.string(),
                         "OMP_THREAD_LIMIT=1 ");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string summary = slurp(out / "summary.json");
    EXPECT_NE(summary.find("\"device\": \"1 thread,"), std::string::npos) << summary;
}

// More CPU threads than the CPUs the process may run on (here taskset's one) take turns: a warning,
// which a run of as many threads as CPUs does not print. It names the setting the number came from.
TEST(cli, more_threads_than_cpus_is_a_warning) {
    if (std::system("taskset -c 0 true >/dev/null 2>&1") != 0) GTEST_SKIP() << "no taskset here";
    const std::string args = "run " + example("fi_curve.toml") + " --backend cpu --quiet --out ";
    const auto two = ifsim(args + fresh_dir("threads_two").string() + " --threads 2", "taskset -c 0 ");
    ASSERT_EQ(two.code, 0) << two.err;
    EXPECT_NE(two.err.find("warning: 2 threads on the 1 CPU(s) this process may use"), std::string::npos) << two.err;
    EXPECT_NE(two.err.find("set --threads to at most 1"), std::string::npos) << two.err;
    const auto set = ifsim(args + fresh_dir("threads_set").string() + " --set simulation.threads=2", "taskset -c 0 ");
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_NE(set.err.find("set simulation.threads to at most 1"), std::string::npos) << set.err;
    const auto one = ifsim(args + fresh_dir("threads_one").string() + " --threads 1", "taskset -c 0 ");
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_EQ(one.err.find("threads on the"), std::string::npos) << one.err;
}

// A config the CUDA backend cannot hold (9 kinds of synaptic input onto one population, over its
// 8) is bad input for --backend cuda: exit 2, known from the config alone, on any machine (it was
// "no usable CUDA device", exit 1, where there is no GPU) and in a build without CUDA.
TEST(cli, a_config_beyond_the_cuda_backend_is_bad_input_for_it) {
    const fs::path dir = fresh_dir("nine_channels");
    fs::create_directories(dir);
    write_nine_channels(dir / "nine.toml");
    const auto r = ifsim("run " + (dir / "nine.toml").string() + " --backend cuda --out " + (dir / "cuda").string());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("--backend cuda: population 'A' has 9 kinds of synaptic input"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "cuda"));
}

TEST(cli, cuda_backend_without_a_device_fails_cleanly) {
    if (ifsim::test::cuda_unavailable().empty()) GTEST_SKIP() << "a CUDA device is usable here";
    const fs::path out = fresh_dir("no_cuda");
    const auto r = ifsim("run " + example("fi_curve.toml") + " --backend cuda --out " + out.string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("no usable CUDA device"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    // auto falls back to the CPU and says why.
    const auto a = ifsim("run " + example("fi_curve.toml") + " --set simulation.duration=5ms --out " + out.string());
    EXPECT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.err.find("backend auto: no usable GPU, running on the CPU"), std::string::npos) << a.err;
}

// A long noisy_lif run into `out`, started with `sig` handled by default, or ignored as nohup
// and a background job leave SIGHUP and SIGINT (the child's own choice: a test runner started
// in the background must not make ifsim ignore the signals sent below); its pid once under way
// (the resolved config is written before the first step).
pid_t start_long_run(const fs::path& out, int sig, bool ignored) {
    const pid_t pid = fork();
    if (pid == 0) {
        signal(sig, ignored ? SIG_IGN : SIG_DFL);
        const std::string cfg = example("noisy_lif.toml");
        const std::string dir = out.string();
        execl(IFSIM_BINARY, "ifsim", "run", cfg.c_str(), "--out", dir.c_str(), "--quiet", "--set",
              "simulation.duration=1000s", static_cast<char*>(nullptr));
        _exit(127);
    }
    for (int i = 0; i < 200 && pid > 0 && !fs::exists(out / "config.resolved.toml"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return pid;
}

// Ctrl-C and SIGTERM (kill, timeout, Slurm) alike: the files closed and valid, the summary written.
TEST(cli, sigint_sigterm_or_sighup_leaves_valid_files_and_an_interrupted_summary) {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        const fs::path out = fresh_dir("signal_" + std::to_string(sig));
        const pid_t pid = start_long_run(out, sig, false);
        ASSERT_GT(pid, 0);
        kill(pid, sig);
        int status = 0;
        waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status)) << "signal " << sig;
        EXPECT_EQ(WEXITSTATUS(status), 130);
        const std::string summary = slurp(out / "summary.json");
        EXPECT_EQ(json_field(summary, "status"), "\"interrupted\"");
        const hid_t file = H5Fopen((out / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        ASSERT_GE(file, 0);
        const auto id = read_dataset<std::uint64_t>(file, "/spikes/E/node_ids", H5T_NATIVE_UINT64);
        H5Fclose(file);
        EXPECT_EQ(json_field(summary, "spikes"), std::to_string(id.size()));
    }
}

// A signal ignored when ifsim starts stays ignored: `nohup ifsim run ...` outlives its terminal
// (SIGHUP stopped it before; found by an audit). SIGTERM then still stops it.
TEST(cli, a_signal_ignored_at_start_stays_ignored) {
    const fs::path out = fresh_dir("nohup");
    const pid_t pid = start_long_run(out, SIGHUP, true);
    ASSERT_GT(pid, 0);
    kill(pid, SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "ifsim ended on an ignored SIGHUP";
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
}

// 100 LIF neurons firing regularly, their spikes and V_m of five recorded: the runs below.
constexpr const char* small_run = R"([simulation]
duration = "50 ms"

[[population]]
name = "E"
size = 100
model = "lif"
input = { I_e = "250 pA" }

[[record]]
spikes = ["E"]

[[record]]
state = "V_m"
population = "E"
neurons = { range = [0, 5] }
)";

// A run that cannot create its files (here a folder named as one of its .part files) stops before
// the earlier run in the folder is touched, and leaves nothing of its own (it used to remove the
// earlier run first and leave an empty spikes.h5 without a summary.json; found by a review). The
// folder in the way of the .part is now found before the network is built (exit 2), as one in the
// way of a file's own name is.
TEST(cli, output_files_that_cannot_be_created_leave_the_earlier_run_alone) {
    const fs::path dir = fresh_dir("cannot_create");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const std::string before = slurp(dir / "out" / "summary.json");
    fs::create_directory(dir / "out" / "E_V_m.h5.part");
    const auto r = ifsim("run " + (dir / "run.toml").string() + " --out " + (dir / "out").string() + " --seed 7 --quiet");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("E_V_m.h5.part': a folder of that name is in the way"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(dir / "out" / "summary.json"), before);
    EXPECT_TRUE(fs::exists(dir / "out" / "spikes.h5"));
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5.part"));
}

// A folder another ifsim writes (its lock held, here by this process) is refused at once, exit 1,
// its files untouched: two runs into one folder truncated each other's spikes.h5.part before (the
// first then reported a completed run whose spikes were partly zeros; found by an audit).
TEST(cli, a_folder_another_run_writes_is_refused_untouched) {
    const fs::path dir = fresh_dir("locked");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const std::string before = slurp(dir / "out" / "spikes.h5");
    const ifsim::output_folder_lock held(dir / "out");
    const auto r = ifsim("run " + (dir / "run.toml").string() + " --out " + (dir / "out").string() + " --seed 7 --quiet");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("is in use: another ifsim process is writing there"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(dir / "out" / "spikes.h5"), before);
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5.part"));
}

// Output that stdout cannot take (a full disk under `ifsim theory > table.csv`) is an error, exit
// 1, not a success with a truncated table (found by an audit).
TEST(cli, a_full_stdout_is_an_error) {
    const fs::path dir = fresh_dir("full_stdout");
    fs::create_directories(dir);
    const std::string err = (dir / "e").string();
    const int status = std::system((std::string(IFSIM_BINARY) + " theory " + example("brunel.toml") + " >/dev/full 2>" + err).c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::ifstream f(err);
    const std::string text((std::istreambuf_iterator<char>(f)), {});
    EXPECT_NE(text.find("cannot write to standard output"), std::string::npos) << text;
    EXPECT_EQ(ifsim("theory " + example("brunel.toml")).code, 0);
}

// An OU current faster than 5 dt is held over steps it changes within: a warning (V's variance
// was 31 % too large at tau_I = dt / 2 without a word; found by a science audit). 5 dt is quiet.
TEST(cli, a_fast_ou_current_is_a_warning) {
    const auto with_tau_I = [](const std::string& tau_I, const std::string& folder) {
        std::string config = small_run;
        const std::string from = "input = { I_e = \"250 pA\" }";
        config.replace(config.find(from), from.size(),
                       "input = { I_e = \"150 pA\", ou = { sigma_I = \"20 pA\", tau_I = \"" + tau_I + "\" } }");
        return run_config(fresh_dir(folder), config);
    };
    const auto fast = with_tau_I("0.05 ms", "ou_fast");
    EXPECT_EQ(fast.code, 0) << fast.err;
    EXPECT_NE(fast.err.find("warning: population 'E': input.ou.tau_I = 0.05 ms is under 5 dt"), std::string::npos) << fast.err;
    const auto slow = with_tau_I("0.5 ms", "ou_slow");
    EXPECT_EQ(slow.code, 0) << slow.err;
    EXPECT_EQ(slow.err.find("tau_I"), std::string::npos) << slow.err;
}

// small_run with another model and these params.
result run_with_params(const std::string& model, const std::string& params, const std::string& folder) {
    std::string config = small_run;
    config.replace(config.find("model = \"lif\""), 13, "model = \"" + model + "\"\nparams = { " + params + " }");
    return run_config(fresh_dir(folder), config);
}

// A membrane time constant below dt is a warning that names the unit slip it usually is (C_m in
// PyNN's nF as a bare number of pF); the QIF's from its own parameters. A tau_m above dt is none.
TEST(cli, a_membrane_time_constant_below_dt_is_a_warning) {
    const auto pynn = run_with_params("lif", "C_m = 0.25", "tau_m_pynn");
    EXPECT_EQ(pynn.code, 0) << pynn.err;
    EXPECT_NE(pynn.err.find("warning: population 'E': its membrane time constant, C_m / g_L = 0.025 ms, is below dt = "
                            "0.1 ms: use a smaller dt, or, if a unit slipped, C_m is in pF (PyNN's 0.25 nF is 250 pF) "
                            "and g_L in nS"),
              std::string::npos)
        << pynn.err;
    const auto qif = run_with_params("qif", "C_m = \"1 pF\"", "tau_m_qif");
    EXPECT_NE(qif.err.find("C_m / (k (V_c - E_L)) = 0.05 ms"), std::string::npos) << qif.err;
    EXPECT_NE(qif.err.find("C_m is in pF (PyNN's 0.25 nF is 250 pF) and k in nS/mV"), std::string::npos) << qif.err;
    const auto fine = run_with_params("adex", "C_m = \"281 pF\", g_L = \"30 nS\"", "tau_m_fine");
    EXPECT_EQ(fine.code, 0) << fine.err;
    EXPECT_EQ(fine.err.find("membrane time constant"), std::string::npos) << fine.err;
    // A parameter that varies across the population: no single time constant, no warning.
    const auto varies = run_with_params("lif", "C_m = { linspace = [\"0.25 pF\", \"250 pF\"] }", "tau_m_varies");
    EXPECT_EQ(varies.err.find("membrane time constant"), std::string::npos) << varies.err;
}

// An adaptation coupling the step does not resolve is a warning with the dt that would: a =
// 3000 nS, tau_w = 0.5 ms at dt = 0.1 ms grows near rest (it fired at 120 Hz where the equations
// settle below threshold); Naud et al.'s AdEx (a = 4 nS, tau_w = 144 ms) and a = 0 are none.
TEST(cli, an_adaptation_step_that_does_not_resolve_its_coupling_is_a_warning) {
    const auto stiff = run_with_params("alif", "a = \"3000 nS\", tau_w = \"0.5 ms\"", "adaptation_stiff");
    EXPECT_EQ(stiff.code, 0) << stiff.err;
    EXPECT_NE(stiff.err.find("warning: population 'E': a = 3000 nS with tau_w = 0.5 ms couples V and w faster than "
                             "dt = 0.1 ms resolves: near rest the step grows by 1.04205 per step where the equations "
                             "decay by 0.902578"),
              std::string::npos)
        << stiff.err;
    EXPECT_NE(stiff.err.find("dt = 0.00625 ms would resolve it"), std::string::npos) << stiff.err;
    const auto lagging = run_with_params("adex", "a = \"1000 nS\", tau_w = \"0.1 ms\"", "adaptation_lagging");
    EXPECT_NE(lagging.err.find("near rest the step decays by"), std::string::npos) << lagging.err;
    for (const std::string params : {"a = \"4 nS\", tau_w = \"144 ms\", C_m = \"281 pF\", g_L = \"30 nS\"", "a = 0"}) {
        const auto fine = run_with_params("adex", params, "adaptation_fine");
        EXPECT_EQ(fine.err.find("couples V and w"), std::string::npos) << params << ": " << fine.err;
    }
}

// A config that records nothing runs (a benchmark may want just that) and says so.
TEST(cli, a_run_that_records_nothing_says_so) {
    const fs::path dir = fresh_dir("records_nothing");
    const std::string config = std::string(small_run).substr(0, std::string(small_run).find("[[record]]"));
    const auto r = run_config(dir, config);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: nothing is recorded"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(dir / "out" / "summary.json"));
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5"));
    EXPECT_EQ(run_config(fresh_dir("records_something"), small_run).err.find("nothing is recorded"), std::string::npos);
}

// A generator's spikes are recorded as a population's when a spike record names it (NEST records
// its parrots, Brian2 a SpikeMonitor of a PoissonGroup): its own group in spikes.h5, each spike at
// the end of its step, exactly the schedule the network receives, in the record's window and
// neurons; `all` stays the populations. ifsim stats gives a Poisson generator's rate and CV 1 as
// its theory.
TEST(cli, a_recorded_generator_writes_the_spikes_it_sends) {
    const fs::path dir = fresh_dir("generator_record");
    const std::string generators = R"(
[[generator]]
name = "bg"
size = 200
rate = "40 Hz"

[[generator]]
name = "kick"
size = 3
times = ["10 ms", "12.5 ms", "20 ms"]
neurons = [0, 2, 0]

[[projection]]
source = "bg"
target = "E"
rule = { fixed_indegree = 10 }
weight = "0.1 mV"
)";
    const std::string config = std::string(small_run) + generators + R"(
[[record]]
spikes = ["bg"]
start = "5 ms"

[[record]]
spikes = "kick"
neurons = [0]
)";
    ASSERT_EQ(run_config(dir, config).code, 0);
    const fs::path out = dir / "out";
    const ifsim::run_spec spec = ifsim::load_config(out / "config.resolved.toml");
    const ifsim::generator_spikes sent = ifsim::schedule(spec.generators[0], spec.simulation, 0);
    std::vector<double> want_t;
    std::vector<std::uint64_t> want_id;
    for (std::size_t k = 0; k < sent.step.size(); ++k)
        if (sent.step[k] >= 50) {  // after 5 ms: the steps from 50 on
            want_t.push_back(double(sent.step[k] + 1) * 0.1);
            want_id.push_back(sent.neuron[k]);
        }
    ASSERT_GT(want_t.size(), 100u);
    const hid_t f = H5Fopen((out / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    EXPECT_EQ(read_dataset<double>(f, "/spikes/bg/timestamps", H5T_NATIVE_DOUBLE), want_t);
    EXPECT_EQ(read_dataset<std::uint64_t>(f, "/spikes/bg/node_ids", H5T_NATIVE_UINT64), want_id);
    EXPECT_EQ(read_dataset<double>(f, "/spikes/kick/timestamps", H5T_NATIVE_DOUBLE), (std::vector<double>{10.0, 20.0}));
    EXPECT_EQ(read_dataset<std::uint64_t>(f, "/spikes/kick/node_ids", H5T_NATIVE_UINT64), (std::vector<std::uint64_t>{0, 0}));
    EXPECT_GT(H5Lexists(f, "/spikes/E", H5P_DEFAULT), 0);
    H5Fclose(f);

    const auto stats = ifsim("stats " + out.string() + " --from 5 --csv");
    ASSERT_EQ(stats.code, 0) << stats.err;
    const auto row = stats.out.substr(stats.out.find("\nbg,") + 1);
    const auto fields = csv_fields(row.substr(0, row.find('\n')));
    EXPECT_EQ(fields.at(4), std::to_string(want_t.size()));
    EXPECT_EQ(fields.at(6), "40");  // theory_rate_Hz
    EXPECT_EQ(fields.at(10), "1");  // theory_cv

    // "all" records the populations only.
    std::string all = std::string(small_run) + generators;
    all.replace(all.find("spikes = [\"E\"]"), 14, "spikes = \"all\"");
    const fs::path all_dir = fresh_dir("generator_record_all");
    ASSERT_EQ(run_config(all_dir, all).code, 0);
    const hid_t g = H5Fopen((all_dir / "out" / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(g, 0);
    EXPECT_GT(H5Lexists(g, "/spikes/E", H5P_DEFAULT), 0);
    EXPECT_EQ(H5Lexists(g, "/spikes/bg", H5P_DEFAULT), 0);
    H5Fclose(g);
}

// A Poisson generator whose window lies after the run's end sends nothing, and the run says so,
// as for listed spike times after the end.
TEST(cli, a_generator_that_fires_after_the_run_is_a_warning) {
    const fs::path dir = fresh_dir("late_generator");
    const std::string config = std::string(small_run) + R"(
[[generator]]
name = "bg"
size = 10
rate = "100 Hz"
start = "80 ms"
stop = "90 ms"

[[projection]]
source = "bg"
target = "E"
rule = "all_to_all"
weight = "1 mV"
)";
    const auto r = run_config(dir, config);  // 50 ms
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("generator 'bg' fires at no time within the run"), std::string::npos) << r.err;
    const auto within = run_config(fresh_dir("generator_within"), config.substr(0, config.find("start")) + "\n" +
                                                                      config.substr(config.find("[[projection]]")));
    EXPECT_EQ(within.code, 0) << within.err;
    EXPECT_EQ(within.err.find("fires at no time"), std::string::npos) << within.err;
    const auto silent = run_config(fresh_dir("generator_0Hz"), config.substr(0, config.find("rate")) + "rate = 0\n" +
                                                                  config.substr(config.find("[[projection]]")));
    EXPECT_EQ(silent.code, 0) << silent.err;
    EXPECT_NE(silent.err.find("generator 'bg' has rate 0 Hz"), std::string::npos) << silent.err;
}

// A folder in the way of one of the run's files (here spikes.h5) stops the run before it starts,
// naming it, and the earlier run in the folder stays (it used to be found when the file was
// renamed into place after the whole run; found by a review).
TEST(cli, a_folder_in_the_way_of_an_output_stops_the_run_before_it_starts) {
    const fs::path dir = fresh_dir("folder_in_the_way");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const std::string before = slurp(dir / "out" / "summary.json");
    fs::remove(dir / "out" / "spikes.h5");
    fs::create_directory(dir / "out" / "spikes.h5");
    const auto r = ifsim("run " + (dir / "run.toml").string() + " --out " + (dir / "out").string() + " --quiet");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("spikes.h5': a folder of that name is in the way"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(dir / "out" / "summary.json"), before);
    EXPECT_TRUE(fs::exists(dir / "out" / "E_V_m.h5"));
    EXPECT_FALSE(fs::exists(dir / "out" / "spikes.h5.part"));
    EXPECT_FALSE(fs::exists(dir / "out" / "E_V_m.h5.part"));
    // theory --out and synapses --out alike.
    const auto t = ifsim("theory " + (dir / "run.toml").string() + " --out " + (dir / "out").string());
    EXPECT_EQ(t.code, 2) << t.err;
    EXPECT_NE(t.err.find("a folder of that name is in the way"), std::string::npos) << t.err;
    EXPECT_FALSE(fs::exists(dir / "out.part"));
}

// A file that cannot be closed (here a folder appears at its final name while the run goes on)
// fails a run that was otherwise complete: summary.json says so and leaves that file out, the
// other files are whole (it used to write no summary.json at all; found by a review).
TEST(cli, a_file_that_cannot_be_closed_fails_the_run_in_its_summary) {
    const fs::path out = fresh_dir("cannot_close");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const std::string cfg = example("noisy_lif.toml");
        const std::string dir = out.string();
        execl(IFSIM_BINARY, "ifsim", "run", cfg.c_str(), "--out", dir.c_str(), "--quiet", "--backend", "cpu", "--set",
              "simulation.duration=6s", static_cast<char*>(nullptr));  // the CPU: seconds, on any machine
        _exit(127);
    }
    // Under way once the resolved config is written (before the first step); a run of seconds.
    for (int i = 0; i < 200 && !fs::exists(out / "config.resolved.toml"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fs::create_directories(out / "spikes.h5" / "in_the_way");  // not empty: rename() cannot replace it
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    const std::string summary = slurp(out / "summary.json");
    EXPECT_EQ(json_field(summary, "status"), "\"failed\"");
    EXPECT_NE(json_field(summary, "message").find("spikes.h5"), std::string::npos) << summary;
    EXPECT_EQ(summary.find("\"spikes.h5\""), std::string::npos) << summary;
    EXPECT_NE(summary.find("\"config.resolved.toml\""), std::string::npos) << summary;
    EXPECT_EQ(json_field(summary, "steps"), "60000");
    EXPECT_TRUE(fs::exists(out / "spikes.h5.part"));
    const hid_t file = H5Fopen((out / "E_V_m.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    if (file >= 0) H5Fclose(file);
}

// stderr on a pipe its reader closed (`ifsim run ... 2>&1 | head -1`): the run goes on and
// completes (SIGPIPE used to kill it, leaving .part files and no summary; found by a review).
TEST(cli, a_closed_stderr_pipe_does_not_kill_the_run) {
    const fs::path dir = fresh_dir("closed_pipe");
    fs::create_directories(dir);
    std::ofstream(dir / "run.toml") << small_run;
    const std::string cmd = "(" + std::string(IFSIM_BINARY) + " run " + (dir / "run.toml").string() + " --out " +
                            (dir / "out").string() + "; echo $? > " + (dir / "rc").string() + ") 2>&1 | true";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(slurp(dir / "rc"), "0\n");
    EXPECT_EQ(json_field(slurp(dir / "out" / "summary.json"), "status"), "\"completed\"");
}

// stdout on a pipe its reader closed (`ifsim theory ... | head -1`): the command says it could not
// write and exits 1, not killed by SIGPIPE (theory, stats and check were: exit 141; main ignores
// the signal for every command). 200,000 rates fill any pipe's buffer, so the write fails for sure.
TEST(cli, a_closed_stdout_pipe_is_said_not_a_signal) {
    const fs::path dir = fresh_dir("closed_stdout");
    fs::create_directories(dir);
    const std::string cmd = "(" + std::string(IFSIM_BINARY) + " theory " + example("fi_curve.toml") +
                            " --set population.fi.size=200000 2>" + (dir / "err").string() + "; echo $? > " +
                            (dir / "rc").string() + ") | true";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(slurp(dir / "rc"), "1\n") << slurp(dir / "err");
    EXPECT_NE(slurp(dir / "err").find("ifsim: cannot write to standard output"), std::string::npos) << slurp(dir / "err");
}

// A run that cannot write its config (past `ulimit -f`, as on a full disk) leaves an earlier run in
// its folder as it was: the config is written whole before anything of the earlier run goes (the
// folder was left empty, the earlier run's files removed; an audit of failing runs).
TEST(cli, a_run_that_cannot_write_its_config_leaves_the_earlier_run) {
    const fs::path dir = fresh_dir("config_past_ulimit");
    fs::create_directories(dir);
    std::ofstream(dir / "run.toml") << small_run;
    const std::string args = "run " + (dir / "run.toml").string() + " --backend cpu --quiet --out " + (dir / "out").string();
    ASSERT_EQ(ifsim(args).code, 0);
    const std::string summary = slurp(dir / "out" / "summary.json");
    const auto r = ifsim(args, "ulimit -f 1; ");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("config.resolved.toml.part': File too large"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(dir / "out" / "summary.json"), summary);
    for (const auto& e : fs::directory_iterator(dir / "out")) EXPECT_NE(e.path().extension(), ".part") << e.path();
    for (const std::string name : {"spikes.h5", "config.resolved.toml"}) EXPECT_TRUE(fs::exists(dir / "out" / name)) << name;
}

// Parameters drawn per neuron are checked when they are drawn: `check --build` draws them as a run
// does, so that a config it passes does not fail at the start of the run (a normal C_m that draws
// negative values passed it; found by a review), and both name the config.
TEST(cli, check_build_draws_the_parameters_a_run_draws) {
    const fs::path dir = fresh_dir("drawn_params");
    fs::create_directories(dir);
    std::ofstream(dir / "run.toml") << R"([simulation]
duration = "20 ms"

[[population]]
name = "E"
size = 1000
model = "lif"
params = { C_m = { normal = { mean = "200 pF", std = "200 pF" } } }
)";
    const std::string config = (dir / "run.toml").string();
    EXPECT_EQ(ifsim("check " + config).code, 0);  // the distribution itself is legal
    for (const std::string& command :
         {"check " + config + " --build", "run " + config + " --quiet --out " + (dir / "out").string()}) {
        const auto r = ifsim(command);
        EXPECT_EQ(r.code, 2) << command;
        EXPECT_NE(r.err.find(config + ": population 'E', neuron "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("C_m = -"), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("valid"), std::string::npos) << r.out;
    }
}

// A double run whose state leaves float's range stops with a numerical error naming the record,
// rather than writing inf into the float report (found by fuzzing).
TEST(cli, state_beyond_the_reports_float_range_fails_by_name) {
    const fs::path dir = fresh_dir("beyond_float");
    const auto r = run_config(dir, R"([simulation]
precision = "double"
duration = "20 ms"

[[population]]
name = "E"
size = 1
model = "lif"
params = { C_m = "1e-30 pF", g_L = "1e-40 nS" }  # -1e9 pA over them: V runs off by 1e38 mV a step
input = { I_e = "-1e9 pA" }

[[record]]
state = "V_m"
population = "E"
)");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("state record 'E_V_m'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("float report"), std::string::npos) << r.err;
    EXPECT_EQ(json_field(slurp(dir / "out" / "summary.json"), "status"), "\"failed\"");
}

// A V that is not finite is reported with its population and the block whose check found it,
// not only a global neuron id and the block's last step (found by fuzzing).
TEST(cli, non_finite_state_names_population_and_block) {
    // Population A at rest beside a population B that runs away or is refused.
    const auto beside_A = [](const std::string& precision, const std::string& duration, const std::string& B) {
        return "[simulation]\nduration = \"" + duration + "\"\nprecision = \"" + precision +
               "\"\n\n[[population]]\nname = \"A\"\nsize = 3\nmodel = \"lif\"\n\n[[population]]\nname = \"B\"\nsize = 2\n" + B;
    };
    // A runaway no setup check can see (the aLIF's w feeding V back some tenfold a step: beyond
    // double within 400 steps).
    const auto r = run_config(fresh_dir("non_finite"),
                              beside_A("double", "100 ms",
                                       "model = \"alif\"\nparams = { a = \"-1e6 nS\", tau_w = \"0.5 ms\" }\n"
                                       "init = { V_m = \"-80 mV\" }\n"));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("not finite in population 'B' (its neuron 0)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("check after steps 0-999; its inputs or parameters drive it out of range\n"), std::string::npos)
        << r.err;  // without "(neuron 3, step 1000)": a global id, and a step after the block

    // In float the coefficients themselves are out of range (1 / g_L = 1e300): refused at setup,
    // before anything runs, as a QIF whose k dt / C_m is a float subnormal is (it ran, 24x too fast).
    const std::string in_float =
        beside_A("float", "20 ms",
                 "model = \"lif\"\nparams = { C_m = \"1e-30 pF\", g_L = \"1e-300 nS\" }\ninput = { I_e = \"-1e9 pA\" }\n");
    const auto f = run_config(fresh_dir("non_finite_float"), in_float);
    EXPECT_EQ(f.code, 2) << f.err;
    EXPECT_NE(f.err.find("(population 'B', model lif): the coefficient 1 / g_L derived from its parameters and dt "
                         "is 9.999999999999999e+299, outside float's normal range"), std::string::npos) << f.err;
    const fs::path qdir = fresh_dir("qif_float");
    const auto q = run_config(qdir, R"([[population]]
name = "Q"
size = 1
model = "qif"
params = { k = "1e-36 nS/mV" }
)");
    EXPECT_EQ(q.code, 2) << q.err;
    EXPECT_NE(q.err.find("use simulation.precision = \"double\""), std::string::npos) << q.err;
    // ... and by check without --build, as it validates what run does.
    const auto qc = ifsim("check " + (qdir / "run.toml").string());
    EXPECT_EQ(qc.code, 2) << qc.out;
    EXPECT_NE(qc.err.find("the coefficient k dt / C_m derived from its parameters and dt is"), std::string::npos)
        << qc.err;
    EXPECT_NE(qc.err.find("outside float's normal range"), std::string::npos) << qc.err;
    // Nor can float count down more than 2^24 refractory steps (x - 1 rounds back to x: a neuron
    // with t_ref = 20 s at dt = 1 us never fired again; found by a scale audit).
    const auto longref = run_config(fresh_dir("long_t_ref_float"), R"([simulation]
dt = "0.001 ms"
duration = "1 ms"

[[population]]
name = "E"
size = 1
model = "lif"
params = { t_ref = "20 s" }
)");
    EXPECT_EQ(longref.code, 2) << longref.err;
    EXPECT_NE(longref.err.find("t_ref / dt = 2e+07 steps; float counts refractory steps exactly up to 2^24"),
              std::string::npos) << longref.err;
    // A decay factor that underflows is no such problem: tau_m = 1 us at dt = 0.1 ms runs
    // (exp(-dt / tau_m) = 3.7e-44: V reaches V_inf in a step, as in double).
    const auto fast = run_config(fresh_dir("tiny_tau"), R"([[population]]
name = "E"
size = 1
model = "alif"
params = { C_m = "1 pF", g_L = "1000 nS", tau_w = "0.001 ms" }
)");
    EXPECT_EQ(fast.code, 0) << fast.err;
}

// Values drawn per neuron are checked as drawn, as the parameters are: a normal's tail took
// sigma_V below 0 (run as no noise) and I_e far beyond its range (V ran off mid-run), with check
// --build and the run's start both silent (found by fuzzing). And a double run's coefficients
// must be finite: g_L = 1e-320 nS passed validation and failed its first block.
TEST(cli, values_drawn_out_of_range_stop_before_the_run) {
    const fs::path dir = fresh_dir("drawn_out_of_range");
    const auto r = run_config(dir, R"([simulation]
duration = "50 ms"

[[population]]
name = "E"
size = 5
model = "lif"
input = { noise = { sigma_V = { normal = ["1 mV", "5 mV"] } } }
)");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("population 'E', neuron 0 (its input.noise.sigma_V as drawn): -4.42"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is outside [0 mV, 1e+06 mV]"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
    const auto c = ifsim("check --build " + (dir / "run.toml").string());
    EXPECT_EQ(c.code, 2) << c.out;
    EXPECT_NE(c.err.find("run.toml: population 'E', neuron 0 (its input.noise.sigma_V as drawn)"), std::string::npos)
        << c.err;
    for (const auto& [key, draws] : {std::pair{"input.I_e", "[0, 1e12]"}, {"init.V_m", "[0, 9e5]"}}) {
        const std::string set = std::string(" --set 'population.E.") + key + "={ normal = " + draws + " }'" +
                                " --set population.E.input.noise.sigma_V=0";
        const auto k = ifsim("check --build " + (dir / "run.toml").string() + set);
        EXPECT_EQ(k.code, 2) << key << k.out;
        EXPECT_NE(k.err.find(std::string("(its ") + key + " as drawn)"), std::string::npos) << k.err;
    }

    // A population of one draws one value, which is checked too.
    const auto one = ifsim("check --build " + (dir / "run.toml").string() + " --set population.E.size=1");
    EXPECT_EQ(one.code, 2) << one.out;
    EXPECT_NE(one.err.find("neuron 0 (its input.noise.sigma_V as drawn): -4.42"), std::string::npos) << one.err;

    const auto d = ifsim("check " + (dir / "run.toml").string() +
                         " --set simulation.precision=double --set population.E.params.g_L=\"1e-320 nS\""
                         " --set population.E.input.noise.sigma_V=0");
    EXPECT_EQ(d.code, 2) << d.out;
    EXPECT_NE(d.err.find("the coefficient 1 / g_L derived from its parameters and dt is inf, beyond double's range"),
              std::string::npos) << d.err;
}

// The mean field of a network read from files (`ifsim synapses`' output) is its rules': K the
// file's rows over the targets, the weights' moments from its weight column (stored as float: the
// rates agree to 1e-6; drawn weights would give the file's sample moments).
TEST(cli, theory_of_a_network_from_files_is_its_rules) {
    const fs::path dir = fresh_dir("theory_files");
    fs::create_directories(dir);
    std::ofstream(dir / "net.toml") << R"([[population]]
name = "E"
size = 400
model = "lif"
params = { t_ref = "2 ms", V_reset = "-60 mV" }
input = { poisson = { rate = "10 Hz", count = 900, weight = "0.2 mV" } }

[[population]]
name = "I"
size = 100
model = "lif"
input = { poisson = { rate = "10 Hz", count = 900, weight = "0.2 mV" } }

[[projection]]
source = "E"
target = "I"
rule = { fixed_indegree = 40 }
weight = "0.1 mV"

[[projection]]
source = "I"
target = "E"
rule = { fixed_indegree = 10 }
weight = "-0.5 mV"
)";
    const auto rules = ifsim("theory " + (dir / "net.toml").string());
    ASSERT_EQ(rules.code, 0) << rules.err;
    ASSERT_EQ(ifsim("synapses " + (dir / "net.toml").string() + " --out " + (dir / "files").string()).code, 0);
    const auto files = ifsim("theory " + (dir / "files" / "from_files.toml").string());
    ASSERT_EQ(files.code, 0) << files.err;
    const auto a = lines(rules.out), b = lines(files.out);
    ASSERT_EQ(a.size(), 501u);
    ASSERT_EQ(b.size(), a.size());
    for (const std::size_t row : {std::size_t(1), std::size_t(500)}) {
        const double x = std::stod(csv_fields(a[row]).at(3)), y = std::stod(csv_fields(b[row]).at(3));
        EXPECT_GT(x, 1.0) << a[row];
        EXPECT_NEAR(y, x, 1e-6 * x) << a[row] << " vs " << b[row];
    }
}

TEST(cli, theory_writes_one_row_per_neuron) {
    const auto r = ifsim("theory " + example("fi_curve.toml"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1001);
    EXPECT_EQ(r.out.rfind("population,neuron,I_e_pA,rate_theory_Hz\n", 0), 0u);
    EXPECT_EQ(r.err, "");
    // No rows: said why on stderr, not an empty table alone.
    const auto a = ifsim("theory " + example("adaptation.toml"));
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.err.find("ifsim theory: population 'alif': a step current: the rate is not stationary"),
              std::string::npos) << a.err;
}

// `theory --out` names a CSV file: the config itself, or a config's or run's file, is refused
// untouched (exit 2); it used to be replaced by the table, exit 0 (found by an audit), and the
// extensions in capitals went through (found by a later one).
TEST(cli, theory_out_does_not_replace_a_config_or_a_run_file) {
    const fs::path dir = fresh_dir("theory_out");
    fs::create_directories(dir);
    const fs::path config = dir / "fi.toml";
    fs::copy_file(example("fi_curve.toml"), config);
    const std::string before = slurp(config);
    const auto same = ifsim("theory " + config.string() + " --out " + config.string());
    EXPECT_EQ(same.code, 2) << same.err;
    EXPECT_NE(same.err.find("is the config given"), std::string::npos) << same.err;
    EXPECT_EQ(slurp(config), before);
    for (const std::string name : {"config.resolved.toml", "summary.json", "spikes.h5", "a.TOML", "b.Json", "c.hdf5"}) {
        const auto r = ifsim("theory " + config.string() + " --out " + (dir / name).string());
        EXPECT_EQ(r.code, 2) << name << ": " << r.err;
        EXPECT_NE(r.err.find("the theory is CSV"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir / name)) << name;
    }
    // A file where its folder should be is bad input too, as for run's --out.
    const auto under_a_file = ifsim("theory " + config.string() + " --out " + (config / "t.csv").string());
    EXPECT_EQ(under_a_file.code, 2) << under_a_file.err;
    EXPECT_NE(under_a_file.err.find("'" + config.string() + "' is not a folder"), std::string::npos) << under_a_file.err;
    const auto csv = ifsim("theory " + config.string() + " --out " + (dir / "theory.csv").string());
    EXPECT_EQ(csv.code, 0) << csv.err;
    EXPECT_EQ(slurp(dir / "theory.csv").rfind("population,neuron,", 0), 0u);
}

TEST(cli, info_reports_build_and_devices) {
    const auto r = ifsim("info");
    ASSERT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("ifsim "), std::string::npos);
    EXPECT_NE(r.out.find("cuda"), std::string::npos);
    EXPECT_EQ(r.out.find("copy bandwidth"), std::string::npos);  // measured only when asked
}

// `info --bandwidth` measures the host's copy bandwidth: a positive number of GB/s.
TEST(cli, info_measures_the_copy_bandwidth_when_asked) {
    const auto r = ifsim("info --bandwidth");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string key = "cpu copy bandwidth: ";
    const auto at = r.out.find(key);
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_GT(std::stod(r.out.substr(at + key.size())), 0.1) << r.out;
}

// Neurons that differ (here I_e from 300 to 450 pA, each firing regularly): centred on the
// population's means their ISI pairs correlate at 0.80 (0.54 for the docs' example), on their
// own means they do not; stats centres them on their own and says so.
TEST(cli, stats_serial_correlation_of_neurons_that_differ_is_each_ones_own) {
    const fs::path dir = fresh_dir("stats_differ");
    ASSERT_EQ(run_config(dir, R"([simulation]
duration = "2 s"

[[population]]
name = "E"
size = 200
model = "lif"
input = { I_e = { linspace = ["300 pA", "450 pA"] }, noise = { sigma_V = "1 mV" } }

[[record]]
spikes = ["E"]
)").code, 0);
    const auto r = ifsim("stats " + (dir / "out").string() + " --from 200");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("centred on its own means, over the 200 neurons with 20 ISIs or more"), std::string::npos) << r.err;
    const auto csv = ifsim("stats " + (dir / "out").string() + " --from 200 --csv");
    ASSERT_EQ(csv.code, 0) << csv.err;
    EXPECT_NE(csv.err.find("centred on its own means"), std::string::npos) << csv.err;  // how it was measured
    const auto fields = csv_fields(csv.out.substr(csv.out.find('\n') + 1));
    const double corr = std::stod(fields.at(11)), stderr_ = std::stod(fields.at(12));
    EXPECT_LT(std::fabs(corr), 0.1) << corr << " +- " << stderr_;
    EXPECT_GT(stderr_, 0.0);
}

// `ifsim stats` on a noisy LIF population (SCIENCE.md result 6): the rate within 3 % of Siegert's
// (35,000 spikes: its standard error ~0.4 %), the pooled ISI CV within 5 % of the closed form (a
// finite window under-samples the longest ISIs; 0.683 against 0.688 over 1.8 s), the serial
// correlation of a renewal process within 5 standard errors of 0, and the spike count exactly the
// file's in the window (times after --from, up to --to).
TEST(cli, stats_reads_a_run_beside_its_theory) {
    const fs::path out = fresh_dir("stats");
    ASSERT_EQ(ifsim("run " + example("noisy_lif.toml") + " --out " + out.string() +
                    " --set simulation.duration=1s --set population.E.size=2000 -q")
                  .code,
              0);
    const auto r = ifsim("stats " + out.string() + " --from 200 --csv");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto rows = lines(r.out);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    const auto header = csv_fields(rows[0]), values = csv_fields(rows[1]);
    ASSERT_EQ(header.size(), values.size());
    std::map<std::string, std::string> v;
    for (std::size_t k = 0; k < header.size(); ++k) v[header[k]] = values[k];
    const double rate = std::stod(v["rate_Hz"]), theory = std::stod(v["theory_rate_Hz"]);
    EXPECT_NEAR(rate, theory, 0.03 * theory);
    EXPECT_NEAR(std::stod(v["cv_pooled"]), std::stod(v["theory_cv"]), 0.05 * std::stod(v["theory_cv"]));
    EXPECT_LT(std::fabs(std::stod(v["serial_corr_1"])), 5.0 * std::stod(v["serial_corr_1_stderr"]));
    EXPECT_EQ(v["from_ms"], "200");
    EXPECT_EQ(v["to_ms"], "1000");

    const hid_t f = H5Fopen((out / "spikes.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const auto t = read_dataset<double>(f, "/spikes/E/timestamps", H5T_NATIVE_DOUBLE);
    H5Fclose(f);
    const auto in_window = std::count_if(t.begin(), t.end(), [](double x) { return x > 200.0 && x <= 1000.0; });
    EXPECT_EQ(v["spikes"], std::to_string(in_window));
    EXPECT_NEAR(rate, double(in_window) / (2000 * 0.8), 1e-9 * rate);

    // A span of exactly two Fano windows has a Fano factor (at least two windows are needed).
    const auto two = ifsim("stats " + out.string() + " --to 200 --fano-window \"100 ms\" --csv");
    ASSERT_EQ(two.code, 0) << two.err;
    const auto two_rows = lines(two.out);
    ASSERT_EQ(two_rows.size(), 2u) << two.out;
    const auto two_header = csv_fields(two_rows[0]), two_values = csv_fields(two_rows[1]);
    const auto fano_at = std::find(two_header.begin(), two_header.end(), "fano") - two_header.begin();
    ASSERT_LT(std::size_t(fano_at), two_values.size()) << two.out;
    EXPECT_GT(std::stod(two_values[std::size_t(fano_at)]), 0.0) << two.out;

    const auto text = ifsim("stats " + out.string() + " --to 600");
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("0-600"), std::string::npos) << text.out;
    // Times with units, as the config writes them.
    const auto units = ifsim("stats " + out.string() + " --from 200ms --to \"0.6 s\" --fano-window \"50 ms\"");
    ASSERT_EQ(units.code, 0) << units.err;
    EXPECT_NE(units.out.find("200-600"), std::string::npos) << units.out;
    const auto bad_unit = ifsim("stats " + out.string() + " --from \"200 mV\"");
    EXPECT_EQ(bad_unit.code, 2);
    EXPECT_NE(bad_unit.err.find("--from"), std::string::npos) << bad_unit.err;
    EXPECT_NE(bad_unit.err.find("200 mV"), std::string::npos) << bad_unit.err;
    EXPECT_EQ(ifsim("stats " + (out / "nonexistent").string()).code, 2);
    EXPECT_EQ(ifsim("stats " + out.string() + " --from 300 --to 200").code, 2);
    const auto empty = ifsim("stats " + out.string() + " --from 5000 --csv");
    EXPECT_EQ(empty.code, 2);
    EXPECT_EQ(empty.out, "");  // no header without rows: a script gets a table or an error
    // A window within one step says so (it named an internal function, exit 2, found by fuzzing).
    const auto sliver = ifsim("stats " + out.string() + " --from 300.01 --to 300.02");
    EXPECT_EQ(sliver.code, 2);
    EXPECT_NE(sliver.err.find("300.01 to 300.02 ms is within one step of dt = 0.1 ms"), std::string::npos) << sliver.err;
    EXPECT_EQ(sliver.err.find("pooled_isi_statistics"), std::string::npos) << sliver.err;
    // A subnormal time is a time (it aborted: stod throws on one), and a Fano window is a step at
    // least (1e-320 ms cast 2e322 windows to an integer).
    const auto tiny = ifsim("stats " + out.string() + " --from 1e-320 --csv");
    EXPECT_EQ(tiny.code, 0) << tiny.err;
    const auto fano = ifsim("stats " + out.string() + " --fano-window 1e-320");
    EXPECT_EQ(fano.code, 2);
    EXPECT_NE(fano.err.find("--fano-window 1e-320 ms: shorter than the run's step, dt = 0.1 ms"), std::string::npos)
        << fano.err;
    // A window of 1.5 steps is counted as 2 (half to even), as the edges of --from and --to are.
    const auto between = ifsim("stats " + out.string() + " --fano-window 0.15 --csv");
    EXPECT_EQ(between.code, 0) << between.err;
    EXPECT_NE(between.err.find("--fano-window 0.15 ms is counted as 0.2 ms, whole steps of dt = 0.1 ms"),
              std::string::npos)
        << between.err;
    const std::string between_row = between.out.substr(between.out.find('\n') + 1);
    EXPECT_EQ(std::stod(csv_fields(between_row.substr(0, between_row.find('\n'))).back()), 0.2)  // fano_window_ms
        << between.out;
    // A theory that stops part way through a population (b < 0 from neuron 2 on) gives it no mean
    // theory rate (it was the mean of the neurons before).
    const fs::path partial = fresh_dir("stats_partial_theory");
    ASSERT_EQ(run_config(partial, "[simulation]\nduration = \"200 ms\"\n\n[[population]]\nname = \"A\"\nsize = 3\n"
                                  "model = \"alif\"\nparams = { b = { linspace = [\"10 pA\", \"-10 pA\"] } }\n"
                                  "input = { I_e = \"500 pA\" }\n\n[[record]]\nspikes = \"A\"\n")
                  .code,
              0);
    const auto partial_stats = ifsim("stats " + (partial / "out").string() + " --csv");
    ASSERT_EQ(partial_stats.code, 0) << partial_stats.err;
    const std::string partial_row = partial_stats.out.substr(partial_stats.out.find('\n') + 1);
    const auto partial_fields = csv_fields(partial_row.substr(0, partial_row.find('\n')));
    ASSERT_GE(partial_fields.size(), 7u) << partial_stats.out;
    EXPECT_EQ(partial_fields[0], "A");
    EXPECT_EQ(partial_fields[6], "") << partial_stats.out;  // theory_rate_Hz
    // ... whose default, 100 ms, grows to a dt above it rather than failing the command.
    const fs::path coarse = fresh_dir("stats_coarse_dt");
    ASSERT_EQ(run_config(coarse, "[simulation]\ndt = \"200 ms\"\nduration = \"2 s\"\n\n[[population]]\nname = \"E\"\n"
                                 "size = 2\nmodel = \"lif\"\ninput = { I_e = \"300 pA\" }\n\n[[record]]\nspikes = \"E\"\n")
                  .code,
              0);
    const auto coarse_stats = ifsim("stats " + (coarse / "out").string() + " --csv");
    EXPECT_EQ(coarse_stats.code, 0) << coarse_stats.err;
    EXPECT_NE(coarse_stats.out.find(",200\n"), std::string::npos) << coarse_stats.out;  // fano_window_ms
    // A short window: the serial correlation is biased by it, and stderr says so.
    const auto short_window = ifsim("stats " + out.string() + " --from 200 --to 300");
    ASSERT_EQ(short_window.code, 0) << short_window.err;
    EXPECT_NE(short_window.err.find("ISIs per neuron, which biases it negative"), std::string::npos) << short_window.err;

    // Edges that are no exact binary number: on the step grid as the spike times are (a spike at
    // 600.3 ms is stored as 6003 x 0.1, one ulp above 600.3, and was dropped).
    const auto odd = ifsim("stats " + out.string() + " --from 200.1 --to 600.3 --csv");
    ASSERT_EQ(odd.code, 0) << odd.err;
    const auto grid_count = std::count_if(t.begin(), t.end(), [](double x) { return x > 2001 * 0.1 && x <= 6003 * 0.1; });
    ASSERT_GT(std::count(t.begin(), t.end(), 6003 * 0.1), 0) << "no spike at the edge: the check below tests nothing";
    EXPECT_EQ(csv_fields(lines(odd.out).at(1)).at(4), std::to_string(grid_count));

    // Over the whole run: the spikes at its last instant count (times up to --to, as a record's
    // window), and the per-neuron CV is summary.json's mean_cv (both the sample deviation).
    const auto whole = ifsim("stats " + out.string() + " --csv");
    ASSERT_EQ(whole.code, 0) << whole.err;
    const auto w = csv_fields(lines(whole.out).at(1));
    EXPECT_EQ(w.at(4), std::to_string(t.size()));
    const std::string summary = slurp(out / "summary.json");
    const auto at = summary.find("\"mean_cv\": ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_NEAR(std::stod(summary.substr(at + 11)), std::stod(w.at(8)), 1e-9);

    // A record of some neurons of a population whose neurons differ: the theory's rate is theirs.
    const fs::path fi = fresh_dir("stats_fi");
    ASSERT_EQ(run_config(fi, R"([simulation]
duration = "300 ms"

[[population]]
name = "F"
size = 100
model = "lif"
input = { I_e = { linspace = ["250 pA", "400 pA"] } }

[[record]]
spikes = "F"
neurons = [50, 3]
)").code, 0);
    const auto fi_theory = ifsim("theory " + (fi / "out" / "config.resolved.toml").string());
    double expected = 0.0;
    for (const auto& row : lines(fi_theory.out))
        if (row.starts_with("F,50,") || row.starts_with("F,3,")) expected += 0.5 * std::stod(csv_fields(row).at(3));
    const auto sub = ifsim("stats " + (fi / "out").string() + " --csv");
    ASSERT_EQ(sub.code, 0) << sub.err;
    const auto fields = csv_fields(lines(sub.out).at(1));
    EXPECT_EQ(fields.at(1), "2");
    EXPECT_NEAR(std::stod(fields.at(6)), expected, 1e-9 * expected);
}

// ifsim stats reads one run: a config.resolved.toml of another run beside summary.json (its
// digest differs), a summary.json whose steps are no step count of the run, or none that is
// ifsim's, is exit 2 (they read as a wrong rate, std::bad_alloc, "0 ms" before; found by an
// audit); without summary.json it takes the whole run and says so. A value that does not exist
// (a silent population's CV) is an empty CSV field, not "nan".
// A spike file that lists a neuron its record left out is not this run's: an error, not statistics
// without it (they were dropped without a word).
TEST(cli, stats_refuses_spikes_of_neurons_its_record_left_out) {
    const fs::path dir = fresh_dir("stats_left_out");
    ASSERT_EQ(run_config(dir, R"([simulation]
duration = "50 ms"

[[population]]
name = "E"
size = 10
model = "lif"
input = { I_e = "250 pA" }

[[record]]
spikes = ["E"]
neurons = [0, 1]
)").code, 0);
    const fs::path out = dir / "out";
    ASSERT_EQ(ifsim("stats " + out.string()).code, 0);
    {
        ifsim::spike_file f(out / "spikes.h5", {"E"});
        const double t[] = {10.0, 20.0};
        const std::uint64_t ids[] = {1, 5};
        f.append(0, t, ids);
    }
    const auto r = ifsim("stats " + out.string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("population 'E' lists node 5, which its record does not record"), std::string::npos) << r.err;
}

// A failed run's spikes.h5 can hold the spikes of the block it failed in, past summary.json's
// steps (spikes are written before the block's reports): read, and counted up to the steps.
TEST(cli, stats_counts_a_failed_runs_spikes_up_to_its_steps) {
    const fs::path dir = fresh_dir("stats_failed_run");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const fs::path out = dir / "out";
    std::string summary = slurp(out / "summary.json");
    summary.replace(summary.find("\"steps\": 500"), 12, "\"steps\": 250");
    summary.replace(summary.find("\"completed\""), 11, "\"failed\"");
    std::ofstream(out / "summary.json") << summary;
    const auto r = ifsim("stats " + out.string() + " --csv");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\nE,100,0,25,"), std::string::npos) << r.out;
    // Its spike file left open (a full disk): said as the summary's status, not as a killed run.
    fs::rename(out / "spikes.h5", out / "spikes.h5.part");
    const auto part = ifsim("stats " + out.string());
    EXPECT_EQ(part.code, 2);
    EXPECT_NE(part.err.find("no spikes.h5 but spikes.h5.part, which the run did not close (summary.json's status \"failed\""),
              std::string::npos) << part.err;
}

// Regular trains on the grid have the same count in every window of whole steps that fits their
// period: a Fano factor of 0. One neuron fires every step (a reset at threshold, t_ref = dt: each
// spike at a step's start, 50.1 to 199.9 ms), one every second step (driven across threshold in the
// step after each refractory one: at the step's end). Windows whose edges lay on the grid took
// round-off's word for which window a spike time on an edge fell in (0.118 with windows of one
// step). The windows hold the spike times after --from up to --to, as the count: the spike at 50 ms
// is not in them, and up to 200 ms the last window of `every` would be empty (its spike at 200 ms
// would start a step the run does not have).
TEST(cli, stats_counts_windows_of_whole_steps) {
    const fs::path dir = fresh_dir("stats_tick");
    ASSERT_EQ(run_config(dir, R"([simulation]
duration = "200 ms"
[[population]]
name = "every"
size = 3
model = "lif"
params = { V_reset = "-50 mV", t_ref = "0.1 ms" }
input = { I_e = "1000 pA" }
[[population]]
name = "second"
size = 3
model = "lif"
params = { t_ref = "0.1 ms" }
input = { I_e = "100000 pA" }
[[record]]
spikes = ["every", "second"]
)").code,
              0);
    for (const char* window : {"0.1", "0.2", "0.3", "0.4", "1.4"}) {
        const auto r = ifsim("stats " + (dir / "out").string() + " --from 50 --to 199.9 --csv --fano-window " + window);
        ASSERT_EQ(r.code, 0) << r.err;
        std::istringstream lines(r.out);
        std::string line;
        std::getline(lines, line);  // the header
        for (const std::string_view population : {"every", "second"}) {
            ASSERT_TRUE(std::getline(lines, line)) << r.out;
            const std::vector<std::string> fields = csv_fields(line);
            ASSERT_EQ(fields.size(), 15u) << r.out;
            ASSERT_EQ(fields[0], population) << r.out;
            const bool odd = std::string(window) == "0.1" || std::string(window) == "0.3";
            if (population == "second" && odd) continue;  // 0 or 1, 1 or 2 by turns
            EXPECT_EQ(std::stod(fields[13]), 0.0) << population << ", window " << window << " ms: " << r.out;
        }
    }
    // Two windows of one step from 50.3 ms: there, though 50.5 - 50.3 is under 0.2 in doubles (a
    // guard on that difference left the column empty).
    const auto two = ifsim("stats " + (dir / "out").string() + " --from 50.3 --to 50.5 --csv --fano-window 0.1");
    ASSERT_EQ(two.code, 0) << two.err;
    std::istringstream lines(two.out);
    std::string line;
    std::getline(lines, line);  // the header
    ASSERT_TRUE(std::getline(lines, line)) << two.out;
    const std::vector<std::string> every = csv_fields(line);
    ASSERT_EQ(every.size(), 15u) << two.out;
    EXPECT_EQ(every[0], "every");
    EXPECT_EQ(every[4], "6") << two.out;   // a spike per neuron and step
    EXPECT_EQ(every[13], "0") << two.out;  // the same count in both windows
}

// Every column counts the same spikes: those after --from up to --to, and at --from too where it is
// the record's start once on the grid (an audit found the Fano windows half a step early, counting
// the spike at --from and not the one at --to, and --from 0.05 at dt = 0.1 ms dropping the spikes
// at 0 that --from 0 counts). Spikes at 10, 15 and 40 ms in windows of 10 ms from 10 to 40: counts
// 1, 0, 1, Fano 0.5 (the early windows had 2, 0, 0: Fano 2). A regular train has no serial
// correlation, and then no stderr of one either (it had 1 / sqrt(pairs)).
TEST(cli, stats_columns_count_the_same_spikes) {
    const fs::path dir = fresh_dir("stats_edges");
    ASSERT_EQ(run_config(dir, R"([simulation]
duration = "50 ms"
[[population]]
name = "start"
size = 10
model = "lif"
init = { V_m = "-49 mV" }
[[generator]]
name = "g"
size = 1
times = ["10 ms", "15 ms", "40 ms"]
[[generator]]
name = "regular"
size = 1
times = ["10 ms", "20 ms", "30 ms", "40 ms"]
[[record]]
spikes = ["start", "g", "regular"]
)").code,
              0);
    const auto fields_of = [&](const std::string& args, const std::string& population) {
        const auto r = ifsim("stats " + (dir / "out").string() + " --csv " + args);
        EXPECT_EQ(r.code, 0) << r.err;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with(population + ",")) return csv_fields(line);
        ADD_FAILURE() << "no row of " << population << " in " << r.out;
        return std::vector<std::string>(15);
    };
    const auto g = fields_of("--from 10 --to 40 --fano-window 10", "g");
    EXPECT_EQ(g[4], "2");  // spikes
    EXPECT_DOUBLE_EQ(std::stod(g[13]), 0.5);
    const auto regular = fields_of("", "regular");
    EXPECT_EQ(regular[4], "4");
    EXPECT_EQ(regular[11], "");  // serial_corr_1
    EXPECT_EQ(regular[12], "");  // its stderr
    for (const std::string from : {"0", "0.05"}) {
        const auto s = fields_of("--from " + from + " --to 50 --fano-window 10", "start");
        EXPECT_EQ(s[2], "0") << from;
        EXPECT_EQ(s[4], "10") << from;  // each neuron's spike at 0
    }
}

// spikes.h5 that summary.json does not list is not its run's (a run that failed before writing
// its spikes beside an earlier run's file), and a summary.json cut short says so: stats refuses
// both rather than counting another run's spikes against this config.
TEST(cli, stats_refuses_a_spike_file_its_summary_does_not_list) {
    const fs::path dir = fresh_dir("stats_unlisted");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const fs::path out = dir / "out";
    const std::string summary = slurp(out / "summary.json");
    std::string unlisted = summary;
    const auto listed = unlisted.find("\n    \"spikes.h5\",");
    ASSERT_NE(listed, std::string::npos) << summary;
    unlisted.erase(listed, 17);
    unlisted.replace(unlisted.find("\"completed\""), 11, "\"failed\"");
    std::ofstream(out / "summary.json") << unlisted;
    auto r = ifsim("stats " + out.string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.err.find("does not list spikes.h5 among its run's files (its status \"failed\"): the spikes.h5 beside it "
                         "is an earlier run's"),
              std::string::npos)
        << r.err;
    std::ofstream(out / "summary.json") << summary.substr(0, 300);
    r = ifsim("stats " + out.string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.err.find("summary.json: not a JSON object (cut short or damaged)"), std::string::npos) << r.err;
}

// State records larger than the output folder's file system has free (a duration in s where ms
// was meant: 728 TiB of V_m) stop the run before it starts, nothing written; check prints their size.
TEST(cli, state_records_larger_than_the_free_disk_are_refused) {
    const fs::path dir = fresh_dir("disk_full");
    const std::string config = example("noisy_lif.toml") + " --set simulation.duration=\"1e7 s\"" +
                               " --set 'record.E_V_m.neurons={range=[0,2000]}' --set record.E_V_m.interval=\"0.1 ms\"";
    const auto plan = ifsim("check " + config);
    ASSERT_EQ(plan.code, 0) << plan.err;
    EXPECT_NE(plan.out.find("disk         728 TiB for the state records in all"), std::string::npos) << plan.out;
    std::error_code ec;
    if (fs::space(fs::temp_directory_path(), ec).available > (std::uintmax_t{728} << 40))
        GTEST_SKIP() << "over 728 TiB free here";  // the run would start
    const auto r = ifsim("run " + config + " --out " + (dir / "out").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("the state records would write 728 TiB to '" + (dir / "out").string() + "', but its file system has "),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
}

// A duration between two steps runs the nearest number of them, and a step current's switch at or
// after the run's end never takes effect: check and run say so rather than change the run unseen.
TEST(cli, a_duration_off_the_grid_and_a_late_switch_are_warned_of) {
    const auto r = ifsim("check " + example("noisy_lif.toml") + " --set simulation.duration=\"100.05 ms\"" +
                         " --set 'population.E.input.steps={times=[\"50 ms\", \"1000 ms\"], amplitudes=[10, 20]}'");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: simulation.duration = 100.05 ms is not a whole number of steps of dt = 0.1 ms: the "
                         "run is 1000 steps, 100 ms"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("warning: population 'E': input.steps switches at 1000 ms, at or after the run's end (100.05 "
                         "ms); it never takes effect"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("switches at 50 ms"), std::string::npos) << r.err;
}

// Files of the names a run or an export writes, which no earlier ifsim run or export wrote (the
// user's own), are refused rather than replaced; a killed run's config.resolved.toml is replaced.
TEST(cli, a_run_or_an_export_does_not_replace_files_ifsim_did_not_write) {
    const fs::path dir = fresh_dir("foreign_files");
    fs::create_directories(dir / "out");
    std::ofstream(dir / "run.toml") << small_run;
    std::ofstream(dir / "out" / "spikes.h5") << "the user's own";
    const std::string run = "run " + (dir / "run.toml").string() + " --out " + (dir / "out").string() + " --quiet";
    result r = ifsim(run);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("holds spikes.h5, which no ifsim run there wrote (no ifsim summary.json is there): a run "
                         "would replace it; move it, or choose another --out"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(slurp(dir / "out" / "spikes.h5"), "the user's own");
    EXPECT_FALSE(fs::exists(dir / "out" / "config.resolved.toml"));

    fs::remove(dir / "out" / "spikes.h5");
    std::ofstream(dir / "out" / "config.resolved.toml") << "# ifsim resolved config: as a killed run left it\n";
    r = ifsim(run);
    EXPECT_EQ(r.code, 0) << r.err;
    // A run killed after its data files but before its summary: the rerun replaces them all.
    fs::remove(dir / "out" / "summary.json");
    r = ifsim(run);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json_field(slurp(dir / "out" / "summary.json"), "status"), "\"completed\"");

    const fs::path exported = dir / "synapses";
    fs::create_directories(exported);
    std::ofstream(exported / "projection_0.csv") << "mine\n";
    r = ifsim("synapses " + example("vogels_abbott.toml") + " --out " + exported.string() + " --format csv");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("holds projection_0.csv, which no ifsim export there wrote"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(exported / "projection_0.csv"), "mine\n");
    std::ofstream(exported / "from_files.toml") << "# my notes\n";
    r = ifsim("synapses " + example("vogels_abbott.toml") + " --out " + exported.string() + " --format csv");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("holds from_files.toml, which ifsim synapses did not write"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(exported / "from_files.toml"), "# my notes\n");
    // An export stopped part way leaves its mark beside its files: the next one replaces them.
    fs::remove(exported / "from_files.toml");
    std::ofstream(exported / ".ifsim-synapses-unfinished") << "stopped\n";
    r = ifsim("synapses " + example("vogels_abbott.toml") + " --out " + exported.string() + " --format csv");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(slurp(exported / "projection_0.csv"), "mine\n");
    EXPECT_TRUE(fs::exists(exported / "from_files.toml"));
    EXPECT_FALSE(fs::exists(exported / ".ifsim-synapses-unfinished"));
}

// An earlier run's file that cannot be removed (immutable here; a file held open on a network
// share) stops the next run before it writes anything: the folder never mixes two runs' files.
TEST(cli, a_run_that_cannot_remove_the_earlier_runs_files_writes_nothing) {
    const fs::path dir = fresh_dir("unremovable");
    ASSERT_EQ(run_config(dir, small_run).code, 0);
    const fs::path out = dir / "out";
    const std::string earlier_summary = slurp(out / "summary.json");
    const std::string earlier_spikes = slurp(out / "spikes.h5");
    if (std::system(("chattr +i " + (out / "spikes.h5").string() + " 2>/dev/null").c_str()) != 0)
        GTEST_SKIP() << "chattr +i is not available here (not root, or a file system without it)";
    std::string other = small_run;
    other.replace(other.find("250 pA"), 6, "400 pA");
    std::ofstream(dir / "run.toml") << other;
    const result r = ifsim("run " + (dir / "run.toml").string() + " --out " + out.string() + " --quiet");
    std::system(("chattr -i " + (out / "spikes.h5").string()).c_str());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot remove '" + (out / "spikes.h5").string() + "', a file of the earlier run there: "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("nothing of this run was written"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(out / "spikes.h5"), earlier_spikes);
    EXPECT_FALSE(fs::exists(out / "spikes.h5.part"));
    EXPECT_FALSE(fs::exists(out / "E_V_m.h5.part"));
    // The data files go first: the earlier run's config and summary still say what is there.
    EXPECT_EQ(slurp(out / "summary.json"), earlier_summary);
    EXPECT_TRUE(fs::exists(out / "config.resolved.toml"));
}

TEST(cli, stats_reads_one_run_and_writes_no_nan) {
    const fs::path dir = fresh_dir("stats_one_run");
    ASSERT_EQ(run_config(dir, std::string(small_run) + R"(
[[population]]
name = "S"
size = 10
model = "lif"

[[record]]
spikes = ["S"]
)").code, 0);
    const fs::path out = dir / "out";
    const auto csv = ifsim("stats " + out.string() + " --csv");
    ASSERT_EQ(csv.code, 0) << csv.err;
    EXPECT_EQ(csv.out.find("nan"), std::string::npos) << csv.out;
    EXPECT_NE(csv.out.find("\nS,10,0,50,0,0,"), std::string::npos) << csv.out;  // silent: rate 0, then its theory
    const std::string config = slurp(out / "config.resolved.toml"), summary = slurp(out / "summary.json");
    const auto stats_of = [&](const std::string& config_text, const std::string& summary_text) {
        std::ofstream(out / "config.resolved.toml") << config_text;
        if (summary_text.empty()) fs::remove(out / "summary.json");
        else std::ofstream(out / "summary.json") << summary_text;
        return ifsim("stats " + out.string());
    };
    const auto mixed = stats_of(config + "# another run\n", summary);
    EXPECT_EQ(mixed.code, 2);
    EXPECT_NE(mixed.err.find("config_digest is not that of config.resolved.toml beside it"), std::string::npos) << mixed.err;
    std::string negative = summary;
    negative.replace(negative.find("\"steps\": 500"), 12, "\"steps\": -5");
    const auto bad_steps = stats_of(config, negative);
    EXPECT_EQ(bad_steps.code, 2);
    EXPECT_NE(bad_steps.err.find("\"steps\": -5 is not a step count of this run (0 to 500)"), std::string::npos) << bad_steps.err;
    EXPECT_EQ(stats_of(config, "{\"steps\": \"x\"").code, 2);
    const auto no_summary = stats_of(config, "");
    EXPECT_EQ(no_summary.code, 0) << no_summary.err;
    EXPECT_NE(no_summary.err.find("no summary.json"), std::string::npos) << no_summary.err;
    EXPECT_EQ(stats_of(config, summary).code, 0);
}

}  // namespace
