// The command line on the CUDA backend, as a user runs it: `ifsim compare` on the examples (in
// float, and saying so), runs whose files are the CPU's byte for byte, IFSIM_SYNAPSE_DRAWS, the
// backend `auto` picks, runs too large for the device's memory, `ifsim bench` and the GPU
// benchmark. Built twice: against ifsim on a GPU (label
// gpu; skips where no device is usable) and against ifsim on the emulated device (label emulated,
// IFSIM_EMULATED_DEVICE), whose memory can be made small.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ifsim/cuda_info.hpp"
#include "support/cli.hpp"
#include "support/examples.hpp"
#include "support/simulate.hpp"

#ifndef IFSIM_EMULATED_DEVICE
#define IFSIM_EMULATED_DEVICE 0
#endif

namespace {

namespace fs = std::filesystem;
using ifsim::test::csv_fields;
using ifsim::test::cuda_here;
using ifsim::test::cuda_unavailable;
using ifsim::test::example;
using ifsim::test::examples_too_large_to_emulate;
using ifsim::test::fresh_dir;
using ifsim::test::ifsim;
using ifsim::test::json_field;
using ifsim::test::result;
using ifsim::test::run_binary;
using ifsim::test::slurp;
using ifsim::test::write_nine_channels;
using ifsim::test::small_example;
using ifsim::test::small_examples;

#define SKIP_WITHOUT_A_DEVICE() \
    if (const std::string why = cuda_unavailable(); !why.empty()) GTEST_SKIP() << why

std::string with_overrides(const std::vector<std::string>& overrides) {
    std::string args;
    for (const std::string& o : overrides) args += " --set " + o;
    return args;
}

// The examples `ifsim compare` runs: small (support/examples.hpp), on a GPU too, where the GPU
// check compares every example at full size for 500 ms (tools/gpu-check.sh); every example is
// either small or said to be too large.
std::vector<small_example> compared_examples() {
    std::vector<small_example> compared;
    for (const auto& entry : fs::directory_iterator(std::string(IFSIM_SOURCE_DIR) + "/examples")) {
        if (entry.path().extension() != ".toml") continue;
        const std::string name = entry.path().stem().string();
        const auto& small = small_examples();
        const auto it = std::ranges::find(small, name, &small_example::name);
        if (it != small.end()) compared.push_back(*it);
        else if (!std::ranges::count(examples_too_large_to_emulate(), name))
            ADD_FAILURE() << "examples/" << name << ".toml is in neither list of tests/support/examples.hpp";
    }
    return compared;
}

// A config in double is compared in float, and compare says so.
TEST(cuda_cli, compare_says_it_compares_in_float) {
    SKIP_WITHOUT_A_DEVICE();
    const result r = ifsim("compare " + example("fi_curve.toml") +
                           " --set simulation.duration=5ms --set simulation.precision=double");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "identical (50 steps, 1 population)\n");
    EXPECT_NE(r.err.find("comparing in float, not the double this config asks for"), std::string::npos) << r.err;
}

// `ifsim compare`: CPU and CUDA agree bit for bit in float (DESIGN.md principle 2).
TEST(cuda_cli, compare_finds_the_examples_identical) {
    SKIP_WITHOUT_A_DEVICE();
    const std::vector<small_example> compared = compared_examples();
    for (const small_example& e : compared) {
        const result r = ifsim("compare " + example(e.name + ".toml") + with_overrides(e.overrides));
        EXPECT_EQ(r.code, 0) << e.name << ": " << r.out << r.err;
        EXPECT_EQ(r.out.rfind("identical", 0), 0u) << e.name << ": " << r.out << r.err;
    }
    EXPECT_GE(compared.size(), 9u);
}

// The files a run writes, by name, each file's bytes.
std::vector<std::pair<std::string, std::string>> files_of(const fs::path& dir) {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.emplace_back(entry.path().filename(), slurp(entry.path()));
    std::ranges::sort(files);
    return files;
}

// `ifsim run --backend cuda` writes the files `--backend cpu` writes, byte for byte: spikes, state
// records (V_m, w, g_syn), the resolved config; summary.json differs in the backend, the device and
// the timings only. A network of conductance synapses and a population with adaptation.
TEST(cuda_cli, run_on_cuda_writes_the_files_the_cpu_writes) {
    SKIP_WITHOUT_A_DEVICE();
    for (const auto& [name, duration] : {std::pair{"vogels_abbott", "40ms"}, std::pair{"adaptation", "150ms"}}) {
        SCOPED_TRACE(name);
        const std::string args = "run " + example(std::string(name) + ".toml") + " --quiet --set simulation.duration=" + duration;
        const fs::path cuda = fresh_dir(std::string(name) + "_cuda"), cpu = fresh_dir(std::string(name) + "_cpu");
        const result on_cuda = ifsim(args + " --backend cuda --out " + cuda.string());
        ASSERT_EQ(on_cuda.code, 0) << on_cuda.err;
        const result on_cpu = ifsim(args + " --backend cpu --out " + cpu.string());
        ASSERT_EQ(on_cpu.code, 0) << on_cpu.err;

        auto cuda_files = files_of(cuda), cpu_files = files_of(cpu);
        ASSERT_EQ(cuda_files.size(), cpu_files.size());
        std::size_t state_files = 0;
        for (std::size_t k = 0; k < cuda_files.size(); ++k) {
            const auto& [file, bytes] = cuda_files[k];
            ASSERT_EQ(file, cpu_files[k].first);
            if (file == "summary.json") continue;
            EXPECT_TRUE(bytes == cpu_files[k].second) << file << " differs between the backends";
            state_files += file != "spikes.h5" && file.ends_with(".h5");
        }
        EXPECT_GE(state_files, 2u);

        const std::string on_gpu = slurp(cuda / "summary.json"), on_host = slurp(cpu / "summary.json");
        EXPECT_EQ(json_field(on_gpu, "backend"), "\"cuda\"");
        EXPECT_EQ(json_field(on_host, "backend"), "\"cpu\"");
        EXPECT_EQ(json_field(on_gpu, "device"), "\"" + cuda_here().devices.at(0).name + "\"");
        for (const char* same : {"status", "config_digest", "spikes", "synapses", "precision"})
            EXPECT_EQ(json_field(on_gpu, same), json_field(on_host, same)) << same;
        EXPECT_EQ(json_field(on_gpu, "status"), "\"completed\"");
    }
}

// IFSIM_SYNAPSE_DRAWS (docs/cuda.md) takes host or device; anything else is bad input, not ignored.
TEST(cuda_cli, synapse_draws_are_host_or_device) {
    SKIP_WITHOUT_A_DEVICE();
    const std::string args = "run " + example("vogels_abbott.toml") + " --quiet --backend cuda --set simulation.duration=2ms --out ";
    const result typo = ifsim(args + fresh_dir("draws_typo").string(), "IFSIM_SYNAPSE_DRAWS=hots ");
    EXPECT_EQ(typo.code, 2) << typo.err;
    EXPECT_NE(typo.err.find("IFSIM_SYNAPSE_DRAWS='hots' in the environment: 'host' draws the network on the host"),
              std::string::npos)
        << typo.err;
    for (const char* draws : {"host", "device"}) {
        const result r = ifsim(args + fresh_dir(std::string("draws_") + draws).string(),
                               std::string("IFSIM_SYNAPSE_DRAWS=") + draws + " ");
        EXPECT_EQ(r.code, 0) << draws << ": " << r.err;
    }
}

// Without --backend, a run takes the GPU and says nothing of it; `ifsim info` names the device.
TEST(cuda_cli, auto_runs_on_the_device_that_info_names) {
    SKIP_WITHOUT_A_DEVICE();
    const std::string device = cuda_here().devices.at(0).name;
    const fs::path out = fresh_dir("auto");
    const result r = ifsim("run " + example("fi_curve.toml") + " --set simulation.duration=20ms --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("backend auto"), std::string::npos) << r.err;
    EXPECT_EQ(json_field(slurp(out / "summary.json"), "backend"), "\"cuda\"");
    const result info = ifsim("info");
    ASSERT_EQ(info.code, 0) << info.err;
    EXPECT_NE(info.out.find("cuda device 0: " + device + ", sm_"), std::string::npos) << info.out;
    EXPECT_EQ(info.out.find("none usable"), std::string::npos) << info.out;
}

// A run whose state does not fit the device's free memory: --backend cuda refuses it before it
// writes anything, naming what it needs, what is free, the largest part and what to change;
// --backend auto runs it on the CPU and says why. Only on the emulated device, whose memory
// IFSIM_EMULATED_DEVICE_MIB makes small (a GPU's cannot be).
TEST(cuda_cli, a_run_too_large_for_the_device_memory) {
    if (!IFSIM_EMULATED_DEVICE) GTEST_SKIP() << "needs a device of 4 MiB: the emulated one";
    const std::string args = "run " + example("noisy_lif.toml") +
                             " --set simulation.duration=2ms --set population.0.size=200000 --out ";
    const std::string small_device = "IFSIM_EMULATED_DEVICE_MIB=4 ";
    const fs::path refused = fresh_dir("too_large_cuda");
    const result cuda = ifsim(args + refused.string() + " --backend cuda", small_device);
    EXPECT_EQ(cuda.code, 1) << cuda.err;
    for (const char* said : {"the run needs ", " MiB of device memory, but ", " MiB free of 4.0 MiB",
                             "the largest part is population 'E'", "). Reduce the population sizes; or run it on the CPU (--backend cpu)"})
        EXPECT_NE(cuda.err.find(said), std::string::npos) << said << " in: " << cuda.err;
    EXPECT_FALSE(fs::exists(refused / "spikes.h5"));

    const fs::path fallen_back = fresh_dir("too_large_auto");
    const result aut = ifsim(args + fallen_back.string(), small_device);
    ASSERT_EQ(aut.code, 0) << aut.err;
    EXPECT_NE(aut.err.find("backend auto: the run needs "), std::string::npos) << aut.err;
    EXPECT_NE(aut.err.find("; running on the CPU"), std::string::npos) << aut.err;
    EXPECT_EQ(json_field(slurp(fallen_back / "summary.json"), "backend"), "\"cpu\"");
    // The rings' share named with what sets it: 2,000 neurons' rings of a 6 s delay (60,001 steps)
    // that two other neurons' projection has.
    const fs::path ring = fresh_dir("long_delay");
    fs::create_directories(ring);
    std::ofstream(ring / "ring.toml") << R"([simulation]
duration = "2 ms"
[[population]]
name = "A"
size = 2000
model = "lif"
[[population]]
name = "B"
size = 2
model = "lif"
[[projection]]
source = "A"
target = "A"
rule = { fixed_indegree = 1 }
weight = "1 mV"
delay = "1 ms"
[[projection]]
source = "B"
target = "B"
rule = { fixed_indegree = 1 }
weight = "1 mV"
delay = "6000 ms"
)";
    const result rings = ifsim("run " + (ring / "ring.toml").string() + " --backend cuda --out " + (ring / "out").string(),
                               "IFSIM_EMULATED_DEVICE_MIB=64 ");
    EXPECT_EQ(rings.code, 1) << rings.err;
    EXPECT_NE(rings.err.find("the largest part is population 'A' synaptic ring buffer"), std::string::npos) << rings.err;
    EXPECT_NE(rings.err.find("Every synaptic ring holds the network's longest delay (60001 slots of one step)"),
              std::string::npos)
        << rings.err;

    // With the device's usual memory the same run is the device's.
    const fs::path fits = fresh_dir("fits");
    const result on_device = ifsim(args + fits.string() + " --backend auto");
    ASSERT_EQ(on_device.code, 0) << on_device.err;
    EXPECT_EQ(json_field(slurp(fits / "summary.json"), "backend"), "\"cuda\"");
}

// A config the CUDA backend cannot hold (9 kinds of synaptic input onto one population, over its
// 8): auto runs it on the CPU, saying why (--backend cuda refuses it: test_cli.cpp).
TEST(cuda_cli, auto_runs_a_config_beyond_the_cuda_backend_on_the_cpu) {
    SKIP_WITHOUT_A_DEVICE();
    const fs::path dir = fresh_dir("nine_channels");
    fs::create_directories(dir);
    write_nine_channels(dir / "nine.toml");
    const result aut = ifsim("run " + (dir / "nine.toml").string() + " --out " + (dir / "auto").string());
    ASSERT_EQ(aut.code, 0) << aut.err;
    EXPECT_NE(aut.err.find("backend auto: the CUDA backend cannot run this config, running on the CPU"), std::string::npos)
        << aut.err;
    EXPECT_EQ(json_field(slurp(dir / "auto" / "summary.json"), "backend"), "\"cpu\"");
}

// A network far larger than the device (Brunel's 15.6 million synapses, 61 MiB at the least, on
// 32 MiB) is refused from the config alone, before minutes of drawing; check says so beforehand.
TEST(cuda_cli, a_network_too_large_for_the_device_is_refused_before_it_is_drawn) {
    if (!IFSIM_EMULATED_DEVICE) GTEST_SKIP() << "needs a device of 32 MiB: the emulated one";
    const std::string small_device = "IFSIM_EMULATED_DEVICE_MIB=32 ";
    const result plan = ifsim("check " + example("brunel.toml"), small_device);
    ASSERT_EQ(plan.code, 0) << plan.err;
    EXPECT_NE(plan.out.find("cuda         device memory at least 61.4 MiB (state, rings, synapses as expected; largest: "
                            "projection 0 synapses, 38.2 MiB); emulated device (cuda_on_host) has 32 MiB free: too "
                            "little, --backend cuda refuses it and auto runs it on the CPU"),
              std::string::npos)
        << plan.out;
    const fs::path out = fresh_dir("network_too_large");
    const result cuda = ifsim("run " + example("brunel.toml") + " --backend cuda --out " + out.string(), small_device);
    EXPECT_EQ(cuda.code, 1) << cuda.err;
    EXPECT_NE(cuda.err.find("the run (its state, rings and synapses as expected, before the network is drawn) needs "
                            "61.4 MiB of device memory"),
              std::string::npos)
        << cuda.err;
    EXPECT_NE(cuda.err.find("the largest part is projection 0 synapses (38.2 MiB). Reduce the connection counts or the "
                            "population sizes; or run it on the CPU (--backend cpu)"),
              std::string::npos)
        << cuda.err;
    EXPECT_FALSE(fs::exists(out / "spikes.h5"));
    // Where it fits, check names the device's free memory and no shortfall.
    const result roomy = ifsim("check " + example("brunel.toml"));
    ASSERT_EQ(roomy.code, 0) << roomy.err;
    EXPECT_NE(roomy.out.find("projection 0 synapses, 38.2 MiB); emulated device (cuda_on_host) has "), std::string::npos)
        << roomy.out;
    EXPECT_EQ(roomy.out.find("too little"), std::string::npos) << roomy.out;
}

// The state fits the device but a block's samples do not (every neuron's V_m every step: 19 MiB
// in a device of 16): found as the backend is made too, so that auto still runs it on the CPU.
TEST(cuda_cli, a_run_whose_samples_do_not_fit_the_device_memory) {
    if (!IFSIM_EMULATED_DEVICE) GTEST_SKIP() << "needs a device of 16 MiB: the emulated one";
    const fs::path out = fresh_dir("samples_too_large");
    const result r = ifsim("run " + example("noisy_lif.toml") +
                               " --set simulation.duration=100ms --set population.0.size=5000"
                               " --set 'record.1.neurons={range=[0,5000]}' --out " + out.string(),
                           "IFSIM_EMULATED_DEVICE_MIB=16 ");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("backend auto: a block of 1000 steps needs "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the largest part is state record 0 sample buffer"), std::string::npos) << r.err;
    EXPECT_EQ(json_field(slurp(out / "summary.json"), "backend"), "\"cpu\"");
    EXPECT_EQ(json_field(slurp(out / "summary.json"), "status"), "\"completed\"");
}

// CSV as a command prints it ('#' lines are comments): the header, and the rows' fields by column.
struct csv {
    std::vector<std::string> head;
    std::vector<std::vector<std::string>> rows;

    const std::string& at(std::size_t row, const std::string& column) const {
        const auto c = std::ranges::find(head, column);
        if (c == head.end()) throw std::out_of_range("no column " + column);
        return rows.at(row).at(std::size_t(c - head.begin()));
    }
};

csv parse_csv(const std::string& text) {
    csv table;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const std::vector<std::string> fields = csv_fields(line);
        if (table.head.empty()) table.head = fields;
        else if (fields.size() == table.head.size()) table.rows.push_back(fields);
        else ADD_FAILURE() << "a row of " << fields.size() << " fields under " << table.head.size() << ": " << line;
    }
    return table;
}

// `ifsim bench --backend cuda`: a row per run and the median, on the device, each with a wall
// time, synaptic events and a hardware floor.
TEST(cuda_cli, bench_measures_a_network_on_the_device) {
    SKIP_WITHOUT_A_DEVICE();
    // The emulated device at 2 GiB (ignored by a GPU): copies of 256 MiB, the least the copy
    // bandwidth is measured with, fit beside the network.
    const result r = ifsim("bench " + example("vogels_abbott.toml") + " --backend cuda --runs 2 --csv " +
                               "--set simulation.duration=20ms",
                           "IFSIM_EMULATED_DEVICE_MIB=2048 ");
    ASSERT_EQ(r.code, 0) << r.err;
    const csv table = parse_csv(r.out);
    ASSERT_EQ(table.rows.size(), 3u) << r.out;  // two runs, the median
    for (std::size_t k = 0; k < table.rows.size(); ++k) {
        EXPECT_EQ(table.at(k, "backend"), "cuda");
        EXPECT_EQ(table.at(k, "run"), k == 2 ? "median" : std::to_string(k + 1));
        for (const char* positive : {"wall_s", "synaptic_events_per_s", "floor_s", "of_floor"})
            EXPECT_GT(std::stod(table.at(k, positive)), 0.0) << positive << " of row " << k << " in " << r.out;
    }
}

// Where the copy bandwidth cannot be measured (under 1 GiB free beside the network: the emulated
// device at 300 MiB), the runs are timed all the same and the floor is left blank, never "nan".
TEST(cuda_cli, bench_without_a_bandwidth_leaves_the_floor_blank) {
    if (!IFSIM_EMULATED_DEVICE) GTEST_SKIP() << "needs a device of 300 MiB: the emulated one";
    const std::string args = "bench " + example("vogels_abbott.toml") + " --backend cuda --runs 2 " +
                             "--set simulation.duration=20ms";
    const result r = ifsim(args + " --csv", "IFSIM_EMULATED_DEVICE_MIB=300 ");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("ifsim bench: no hardware floor: the copy bandwidth could not be measured"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
    const csv table = parse_csv(r.out);
    ASSERT_EQ(table.rows.size(), 3u) << r.out;
    for (std::size_t k = 0; k < table.rows.size(); ++k) {
        for (const char* blank : {"copy_bandwidth_B_per_s", "floor_s", "of_floor"})
            EXPECT_EQ(table.at(k, blank), "") << blank << " of row " << k << " in " << r.out;
        EXPECT_GT(std::stod(table.at(k, "wall_s")), 0.0) << r.out;
    }
    const result shown = ifsim(args, "IFSIM_EMULATED_DEVICE_MIB=300 ");
    ASSERT_EQ(shown.code, 0) << shown.err;
    EXPECT_EQ(shown.out.find("nan"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("the copy bandwidth not measured"), std::string::npos) << shown.out;
}

// The GPU benchmark (bench/gpu_throughput.cpp) at a small size, on 2 GiB where emulated: the
// device and its bandwidth, and a row per model variant with a throughput, the bandwidth ratio
// and the CPU's speedup.
TEST(cuda_cli, gpu_benchmark_writes_a_row_per_model) {
    SKIP_WITHOUT_A_DEVICE();
    const result r = run_binary(IFSIM_BENCH_GPU, "1e4 --steps 20 --cpu-steps 20", "IFSIM_EMULATED_DEVICE_MIB=2048 ");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string device_line = "# device " + cuda_here().devices.at(0).name + ", copy bandwidth ";
    const std::size_t at = r.out.find(device_line);
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(r.out[at + device_line.size()]))) << "not measured: " << r.out;
    const csv table = parse_csv(r.out);
    ASSERT_EQ(table.rows.size(), 4u) << r.out;
    std::set<std::string> models;
    for (std::size_t k = 0; k < table.rows.size(); ++k) {
        models.insert(table.at(k, "model"));
        EXPECT_EQ(table.at(k, "N"), "10000");
        for (const char* positive : {"neuron_steps_per_s", "of_copy_bandwidth", "silent_neuron_steps_per_s", "speedup"})
            EXPECT_GT(std::stod(table.at(k, positive)), 0.0) << positive << " of row " << k << " in " << r.out;
    }
    EXPECT_EQ(models, (std::set<std::string>{"lif", "eif", "adex", "lif_varied"}));
}

}  // namespace
