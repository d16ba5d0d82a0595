// Tests for ifsim/recording.hpp (SONATA spike and report files), ifsim/spike_trains.hpp (a spike
// file read back) and ifsim/summary.hpp (summary.json, sha256). Files are read back with the plain HDF5 C API, independently of the
// writer's helpers.
#include "ifsim/backend.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/simulation.hpp"
#include "ifsim/spike_trains.hpp"
#include "ifsim/summary.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../host/recording/hdf5_util.hpp"
#include "support/hdf5_read.hpp"

namespace ifsim {
namespace {

using test::string_attribute;

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class recording : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / ("ifsim_test_recording_" + std::to_string(::getpid()) +
                                            "_" + info->test_suite_name() + "_" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

// --- reading back with the HDF5 C API ---------------------------------------------------------

struct h5_file {
    explicit h5_file(const fs::path& path) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id < 0) throw std::runtime_error("cannot open " + path.string());
    }
    ~h5_file() { H5Fclose(id); }
    h5_file(const h5_file&) = delete;
    h5_file& operator=(const h5_file&) = delete;
    hid_t id;
};

bool exists(hid_t file, const std::string& path) {
    // H5Lexists on "/a/b" needs "/a" to exist; walk the components.
    std::string prefix;
    std::stringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');) {
        if (part.empty()) continue;
        prefix += "/" + part;
        if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    return true;
}

std::vector<hsize_t> shape(hid_t file, const std::string& path) {
    const hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    if (ds < 0) throw std::runtime_error("no dataset " + path);
    const hid_t space = H5Dget_space(ds);
    std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    H5Dclose(ds);
    return dims;
}

// Reads a whole dataset, checking that its stored type is exactly `file_type`.
template <class T>
std::vector<T> read(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type) {
    const hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    if (ds < 0) throw std::runtime_error("no dataset " + path);
    const hid_t type = H5Dget_type(ds);
    EXPECT_GT(H5Tequal(type, file_type), 0) << path << " has an unexpected stored type";
    H5Tclose(type);
    hsize_t n = 1;
    for (const hsize_t d : shape(file, path)) n *= d;
    std::vector<T> values(n);
    if (n > 0) {
        EXPECT_GE(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    }
    H5Dclose(ds);
    return values;
}

std::vector<double> read_f64(hid_t f, const std::string& p) {
    return read<double>(f, p, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}
std::vector<float> read_f32(hid_t f, const std::string& p) {
    return read<float>(f, p, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
}
std::vector<std::uint64_t> read_u64(hid_t f, const std::string& p) {
    return read<std::uint64_t>(f, p, H5T_STD_U64LE, H5T_NATIVE_UINT64);
}
std::vector<std::uint32_t> read_u32(hid_t f, const std::string& p) {
    return read<std::uint32_t>(f, p, H5T_STD_U32LE, H5T_NATIVE_UINT32);
}

// The `sorting` attribute as libsonata reads it: an enum over uint8 {none, by_id, by_time}.
std::string sorting_attribute(hid_t file, const std::string& group) {
    const hid_t attr = H5Aopen_by_name(file, group.c_str(), "sorting", H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) throw std::runtime_error("no sorting attribute on " + group);
    const hid_t type = H5Aget_type(attr);
    EXPECT_EQ(H5Tget_class(type), H5T_ENUM);
    const hid_t base = H5Tget_super(type);
    EXPECT_GT(H5Tequal(base, H5T_STD_U8LE), 0);
    EXPECT_EQ(H5Tget_nmembers(type), 3);
    const char* names[] = {"none", "by_id", "by_time"};
    for (std::uint8_t v = 0; v < 3; ++v) {
        char member[16] = {};
        EXPECT_GE(H5Tenum_nameof(type, &v, member, sizeof member), 0);
        EXPECT_STREQ(member, names[v]);
    }
    std::uint8_t value = 255;
    EXPECT_GE(H5Aread(attr, type, &value), 0);
    char member[16] = {};
    H5Tenum_nameof(type, &value, member, sizeof member);
    H5Tclose(base);
    H5Tclose(type);
    H5Aclose(attr);
    return member;
}

// Spikes in time order (node order within one time), `n` of them, nodes in [0, num_nodes).
void make_spikes(std::size_t n, std::uint64_t num_nodes, double dt, std::vector<double>& t,
                 std::vector<std::uint64_t>& ids, unsigned seed) {
    t.clear();
    ids.clear();
    std::uint64_t step = 0, node = 0, state = seed;
    while (t.size() < n) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const std::uint64_t jump = (state >> 60) + 1;  // 1..16 nodes ahead
        node += jump;
        if (node >= num_nodes) {
            ++step;
            node %= num_nodes;
        }
        t.push_back(double(step) * dt);
        ids.push_back(node);
    }
}

// --- spike_file --------------------------------------------------------------------------------

TEST_F(recording, spikes_round_trip_two_populations_across_chunk_boundaries) {
    std::vector<double> t_e, t_i;
    std::vector<std::uint64_t> id_e, id_i;
    make_spikes(200'001, 1000, 0.1, t_e, id_e, 1);  // > 3 chunks of 65536
    make_spikes(70'000, 250, 0.1, t_i, id_i, 2);
    const fs::path path = dir_ / "spikes.h5";
    {
        spike_file f(path, {"E", "I"});
        // Uneven appends, interleaved between populations, some crossing chunk edges.
        const std::size_t cuts_e[] = {0, 1, 65'535, 65'537, 150'000, 150'000, 200'001};
        const std::size_t cuts_i[] = {0, 10, 30'000, 65'536, 65'537, 70'000, 70'000};
        for (std::size_t k = 0; k + 1 < std::size(cuts_e); ++k) {
            f.append(0, std::span(t_e).subspan(cuts_e[k], cuts_e[k + 1] - cuts_e[k]),
                     std::span(id_e).subspan(cuts_e[k], cuts_e[k + 1] - cuts_e[k]));
            f.append(1, std::span(t_i).subspan(cuts_i[k], cuts_i[k + 1] - cuts_i[k]),
                     std::span(id_i).subspan(cuts_i[k], cuts_i[k + 1] - cuts_i[k]));
            if (k == 2) f.flush();  // a partly filled chunk, continued afterwards
        }
        EXPECT_EQ(f.num_spikes(0), t_e.size());
        EXPECT_EQ(f.num_spikes(1), t_i.size());
        f.close();
    }
    h5_file f(path);
    EXPECT_EQ(read_f64(f.id, "/spikes/E/timestamps"), t_e);
    EXPECT_EQ(read_u64(f.id, "/spikes/E/node_ids"), id_e);
    EXPECT_EQ(read_f64(f.id, "/spikes/I/timestamps"), t_i);
    EXPECT_EQ(read_u64(f.id, "/spikes/I/node_ids"), id_i);
    EXPECT_EQ(string_attribute(f.id, "/spikes/E/timestamps", "units"), "ms");
    EXPECT_EQ(string_attribute(f.id, "/spikes/I/timestamps", "units"), "ms");
}

TEST_F(recording, spikes_sorting_is_the_sonata_uint8_enum_by_time) {
    const fs::path path = dir_ / "spikes.h5";
    {
        spike_file f(path, {"E"});
        const double t[] = {0.1, 0.1, 0.2};
        const std::uint64_t ids[] = {3, 7, 1};
        f.append(0, t, ids);
        EXPECT_EQ(f.sorting(0), spike_sorting::by_time);
    }
    h5_file f(path);
    EXPECT_EQ(sorting_attribute(f.id, "/spikes/E"), "by_time");
}

TEST_F(recording, spikes_out_of_time_order_are_marked_unsorted) {
    const fs::path path = dir_ / "spikes.h5";
    {
        spike_file f(path, {"A", "B"});
        const double t1[] = {1.0, 2.0}, t2[] = {1.5};
        const std::uint64_t ids1[] = {0, 1}, ids2[] = {2};
        f.append(0, t1, ids1);
        f.append(0, t2, ids2);  // earlier than 2.0
        f.append(1, t1, ids1);
        EXPECT_EQ(f.sorting(0), spike_sorting::none);
        EXPECT_EQ(f.sorting(1), spike_sorting::by_time);
    }
    h5_file f(path);
    EXPECT_EQ(sorting_attribute(f.id, "/spikes/A"), "none");
    EXPECT_EQ(sorting_attribute(f.id, "/spikes/B"), "by_time");
    EXPECT_EQ(read_f64(f.id, "/spikes/A/timestamps"), (std::vector<double>{1.0, 2.0, 1.5}));
}

TEST_F(recording, spikes_population_without_spikes_has_empty_datasets) {
    const fs::path path = dir_ / "spikes.h5";
    {
        spike_file f(path, {"silent", "E"});
        const double t[] = {5.0};
        const std::uint64_t ids[] = {4};
        f.append(1, t, ids);
        f.close();
    }
    h5_file f(path);
    ASSERT_TRUE(exists(f.id, "/spikes/silent/timestamps"));
    ASSERT_TRUE(exists(f.id, "/spikes/silent/node_ids"));
    EXPECT_EQ(shape(f.id, "/spikes/silent/timestamps"), std::vector<hsize_t>{0});
    EXPECT_EQ(shape(f.id, "/spikes/silent/node_ids"), std::vector<hsize_t>{0});
    EXPECT_EQ(sorting_attribute(f.id, "/spikes/silent"), "by_time");
    EXPECT_EQ(string_attribute(f.id, "/spikes/silent/timestamps", "units"), "ms");
    EXPECT_EQ(read_u64(f.id, "/spikes/E/node_ids"), std::vector<std::uint64_t>{4});
}

TEST_F(recording, spikes_live_in_a_part_file_until_close) {
    const fs::path path = dir_ / "spikes.h5";
    const fs::path part = dir_ / "spikes.h5.part";
    spike_file f(path, {"E"});
    const double t[] = {1.0};
    const std::uint64_t ids[] = {0};
    f.append(0, t, ids);
    f.flush();
    EXPECT_TRUE(fs::exists(part));
    EXPECT_FALSE(fs::exists(path));
    f.close();
    EXPECT_FALSE(fs::exists(part));
    EXPECT_TRUE(fs::exists(path));
    EXPECT_FALSE(f.is_open());
    f.close();  // idempotent
    EXPECT_TRUE(fs::exists(path));
    EXPECT_THROW(f.append(0, t, ids), std::logic_error);
}

TEST_F(recording, spikes_survive_an_exception_that_skips_close) {
    const fs::path path = dir_ / "spikes.h5";
    std::vector<double> t;
    std::vector<std::uint64_t> ids;
    make_spikes(100'000, 500, 0.1, t, ids, 3);
    try {
        spike_file f(path, {"E"});
        f.append(0, t, ids);
        throw std::runtime_error("the run failed");
    } catch (const std::runtime_error&) {
    }
    EXPECT_FALSE(fs::exists(dir_ / "spikes.h5.part"));
    ASSERT_TRUE(fs::exists(path));
    h5_file f(path);
    EXPECT_EQ(read_f64(f.id, "/spikes/E/timestamps"), t);
    EXPECT_EQ(read_u64(f.id, "/spikes/E/node_ids"), ids);
}

TEST_F(recording, spikes_reject_bad_arguments) {
    const fs::path path = dir_ / "spikes.h5";
    EXPECT_THROW(spike_file(path, {"E", "E"}), std::invalid_argument);
    EXPECT_THROW(spike_file(path, {"a/b"}), std::invalid_argument);
    EXPECT_THROW(spike_file(path, {""}), std::invalid_argument);
    spike_file f(path, {"E"});
    const double t[] = {1.0, 2.0};
    const std::uint64_t ids[] = {0};
    EXPECT_THROW(f.append(0, t, ids), std::invalid_argument);
    EXPECT_THROW(f.append(1, std::span(t, 1), ids), std::invalid_argument);
}

TEST_F(recording, hdf5_errors_name_the_file_and_carry_hdf5_text) {
    const fs::path path = dir_ / "no_such_folder" / "spikes.h5";
    try {
        spike_file f(path, {"E"});
        FAIL() << "expected runtime_failure";
    } catch (const runtime_failure& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("spikes.h5.part"), std::string::npos) << what;
        EXPECT_NE(what.find("H5Fcreate"), std::string::npos) << what;
    }
}

// --- atomic writes -------------------------------------------------------------------------------

// A leftover .part that is a link is removed, not written through (as root, a link left in a shared
// folder overwrote the file it pointed to); an output name that is a link (/dev/stdout) is refused,
// where the rename would have replaced the link by a file.
TEST_F(recording, writes_go_through_no_link) {
    const fs::path victim = dir_ / "victim", out = dir_ / "summary.json";
    std::ofstream(victim) << "ORIG";
    fs::create_symlink(victim, part_path(out));
    write_file_atomically(out, "new");
    EXPECT_EQ(read_text_file(victim), "ORIG");
    EXPECT_EQ(read_text_file(out), "new");
    EXPECT_FALSE(fs::is_symlink(out));
    const fs::path device_link = dir_ / "theory.csv";
    fs::create_symlink("/dev/null", device_link);
    try {
        write_file_atomically(device_link, "x");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("it is a link; give the name of a file"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_symlink(device_link));
    const fs::path file_link = dir_ / "linked.csv";  // to a file, as /dev/stdout where stdout is one
    fs::create_symlink(victim, file_link);
    EXPECT_THROW(write_file_atomically(file_link, "x"), config_error);
    EXPECT_TRUE(fs::is_symlink(file_link));
    EXPECT_EQ(read_text_file(victim), "ORIG");
    fs::create_symlink(victim, dir_ / "spikes.h5.part");
    { spike_file f(dir_ / "spikes.h5", {"E"}); }
    EXPECT_EQ(read_text_file(victim), "ORIG");
}

// --- read_spike_trains -------------------------------------------------------------------------

// A spike file of population E as another tool might write it: `t` stored as `t_type`, `ids` as
// `id_type` (HDF5 converts), the timestamps' `units` a variable-length UTF-8 string, as h5py's.
void write_foreign_spikes(const fs::path& path, hid_t t_type, const std::vector<double>& t, hid_t id_type,
                          const std::vector<std::int64_t>& ids, const char* units = "ms") {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t g0 = H5Gcreate2(f, "/spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t g = H5Gcreate2(f, "/spikes/E", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const auto dataset = [&](const char* name, hid_t file_type, hid_t mem_type, const void* data, hsize_t n) {
        const hid_t space = H5Screate_simple(1, &n, nullptr);
        const hid_t d = H5Dcreate2(g, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        EXPECT_GE(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
        H5Sclose(space);
        return d;
    };
    const hid_t ts = dataset("timestamps", t_type, H5T_NATIVE_DOUBLE, t.data(), t.size());
    H5Dclose(dataset("node_ids", id_type, H5T_NATIVE_INT64, ids.data(), ids.size()));
    const hid_t text = H5Tcopy(H5T_C_S1);
    H5Tset_size(text, H5T_VARIABLE);
    H5Tset_cset(text, H5T_CSET_UTF8);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(ts, "units", text, scalar, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, text, &units), 0);
    H5Aclose(a), H5Sclose(scalar), H5Tclose(text), H5Dclose(ts), H5Gclose(g), H5Gclose(g0), H5Fclose(f);
}

// The message read_spike_trains throws for the file, or "" where it reads it.
std::string read_error(const fs::path& path, std::uint64_t num_neurons = 5, double end_ms = 10.0) {
    try {
        read_spike_trains(path, "E", num_neurons, end_ms);
        return "";
    } catch (const runtime_failure& e) {
        return e.what();
    }
}

TEST_F(recording, spike_trains_read_back_per_neuron_in_time_order) {
    const fs::path path = dir_ / "spikes.h5";
    {
        spike_file f(path, {"E"});
        const double t[] = {0.0, 0.3, 0.3, 10.0};
        const std::uint64_t ids[] = {4, 2, 0, 2};
        f.append(0, t, ids);
    }
    const auto trains = read_spike_trains(path, "E", 5, 10.0);
    ASSERT_EQ(trains.size(), 5u);
    EXPECT_EQ(trains[0], std::vector<double>{0.3});
    EXPECT_EQ(trains[2], (std::vector<double>{0.3, 10.0}));
    EXPECT_EQ(trains[4], std::vector<double>{0.0});
    EXPECT_TRUE(trains[1].empty() && trains[3].empty());
    // Other tools' types that hold the same values read the same: float32 times, int32 ids.
    write_foreign_spikes(path, H5T_IEEE_F32LE, {10.0, 0.5}, H5T_STD_I32LE, {2, 4});
    EXPECT_EQ(read_error(path), "");
    EXPECT_EQ(read_spike_trains(path, "E", 5, 10.0)[4], std::vector<double>{0.5});
    // A file in any order (SONATA allows it; another tool's may be sorted by node): each train in
    // time order all the same.
    write_foreign_spikes(path, H5T_IEEE_F64LE, {5.0, 1.0, 3.0}, H5T_STD_U64LE, {2, 2, 2});
    EXPECT_EQ(read_spike_trains(path, "E", 5, 10.0)[2], (std::vector<double>{1.0, 3.0, 5.0}));
}

// A file that is not what the run wrote gives an error naming it, not statistics of something else
// (found by altering a run's file: each of these was read, converted or dropped without a word).
TEST_F(recording, spike_trains_refuse_values_no_run_writes) {
    const fs::path path = dir_ / "spikes.h5";
    const auto refused = [&](const std::string& expected) {
        const std::string what = read_error(path);
        EXPECT_NE(what.find(expected), std::string::npos) << what;
        EXPECT_NE(what.find(path.string() + ": population 'E'"), std::string::npos) << what;
    };
    write_foreign_spikes(path, H5T_IEEE_F64LE, {1.0, NAN}, H5T_STD_U64LE, {0, 1});
    refused("has a spike at nan ms (node 1), outside the run's 0 to 10 ms");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {-5.0}, H5T_STD_U64LE, {0});
    refused("has a spike at -5 ms (node 0)");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {std::nextafter(10.0, 11.0)}, H5T_STD_U64LE, {0});
    refused("outside the run's 0 to 10 ms");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {1.0}, H5T_STD_I64LE, {-1});  // read as uint64, node 0
    refused("lists node -1; node ids are >= 0");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {1.0}, H5T_STD_U64LE, {5});
    refused("lists node 5; it has 5 neurons");
    write_foreign_spikes(path, H5T_STD_I64LE, {1.0}, H5T_STD_U64LE, {0});
    refused("its timestamps are not floating-point numbers");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {1.0}, H5T_IEEE_F64LE, {0});
    refused("its node_ids are not integers");
    write_foreign_spikes(path, H5T_IEEE_F64LE, {1.0}, H5T_STD_U64LE, {0}, "s");
    refused("its timestamps are in 's'; ifsim reads ms");
}

// --- report_file -------------------------------------------------------------------------------

TEST_F(recording, report_shape_mapping_and_time) {
    const std::vector<std::uint64_t> nodes{10, 11, 12, 20, 21, 30, 31};  // 7 nodes
    const std::size_t n = nodes.size();
    const std::size_t batches[] = {1, 5000, 9362, 9361, 20000, 3};  // chunk is 9362 rows of 7
    std::size_t rows = 0;
    for (const auto b : batches) rows += b;
    std::vector<float> values(rows * n);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = -70.0f + 0.001f * float(i % 40000);

    const fs::path path = dir_ / "V_m.h5";
    {
        report_file r(path, "E", "V_m", "mV", nodes, 2.0, 0.5);
        std::size_t row = 0;
        for (const auto b : batches) {
            r.append_rows(std::span(values).subspan(row * n, b * n), b);
            row += b;
            if (b == 5000) r.flush();  // a partly filled chunk, continued afterwards
        }
        EXPECT_EQ(r.num_rows(), rows);
        EXPECT_EQ(r.num_nodes(), n);
        r.close();
    }
    h5_file f(path);
    EXPECT_EQ(shape(f.id, "/report/E/data"), (std::vector<hsize_t>{rows, n}));
    EXPECT_EQ(read_f32(f.id, "/report/E/data"), values);
    EXPECT_EQ(string_attribute(f.id, "/report/E/data", "units"), "mV");
    EXPECT_EQ(string_attribute(f.id, "/report/E/data", "variable_name"), "V_m");
    EXPECT_EQ(read_u64(f.id, "/report/E/mapping/node_ids"), nodes);
    EXPECT_EQ(read_u64(f.id, "/report/E/mapping/index_pointers"),
              (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(read_u32(f.id, "/report/E/mapping/element_ids"), std::vector<std::uint32_t>(n, 0));
    EXPECT_EQ(read_f64(f.id, "/report/E/mapping/time"),
              (std::vector<double>{2.0, 2.0 + double(rows) * 0.5, 0.5}));
    EXPECT_EQ(string_attribute(f.id, "/report/E/mapping/time", "units"), "ms");
}

TEST_F(recording, report_wider_than_a_chunk) {
    // 70000 nodes: a chunk holds part of one frame.
    std::vector<std::uint64_t> nodes(70'000);
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = 3 * i;
    std::vector<float> values(3 * nodes.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i);
    const fs::path path = dir_ / "wide.h5";
    {
        report_file r(path, "big", "V_m", "mV", nodes, 0.0, 1.0);
        r.append_rows(std::span(values).first(nodes.size()), 1);
        r.append_rows(std::span(values).subspan(nodes.size()), 2);
    }
    h5_file f(path);
    EXPECT_EQ(shape(f.id, "/report/big/data"), (std::vector<hsize_t>{3, nodes.size()}));
    EXPECT_EQ(read_f32(f.id, "/report/big/data"), values);
    EXPECT_EQ(read_f64(f.id, "/report/big/mapping/time"), (std::vector<double>{0.0, 3.0, 1.0}));
}

// The disk a report takes, as the run's disk check and `ifsim check` count it: whole chunks, the
// nodes split into equal column blocks (65,537 nodes took two whole 65,536-wide chunks a frame,
// twice the estimate of 4 B a value), and the mapping; the file holds that and HDF5's metadata.
TEST_F(recording, report_size_on_disk_is_whole_chunks_and_the_mapping) {
    EXPECT_EQ(report_chunk_shape(65'537).col_blocks, 2u);
    EXPECT_EQ(report_chunk_shape(65'537).cols, 32'769u);
    EXPECT_EQ(report_chunk_shape(1000).rows, 65u);
    for (const auto& [num_nodes, frames] : {std::pair<std::size_t, std::size_t>{65'537, 3}, {1000, 5}, {1000, 200}}) {
        std::vector<std::uint64_t> nodes(num_nodes);
        for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = i;
        const std::vector<float> values(frames * num_nodes, -65.0f);
        const fs::path path = dir_ / ("size_" + std::to_string(num_nodes) + "_" + std::to_string(frames) + ".h5");
        {
            report_file r(path, "E", "V_m", "mV", nodes, 0.0, 0.1);
            r.append_rows(values, frames);
        }
        const double estimate = report_bytes_on_disk(num_nodes, frames), size = double(fs::file_size(path));
        EXPECT_GE(size, estimate) << num_nodes << " nodes, " << frames << " frames";
        EXPECT_LE(size, estimate + 16384.0) << num_nodes << " nodes, " << frames << " frames";  // HDF5's own
    }
}

// A stop that came before run_simulation removed anything (a signal while the network was built
// and the files made) leaves an earlier run in the folder as it was and writes nothing: it was
// replaced by a run of 0 steps (an audit of interrupted runs).
TEST_F(recording, a_stop_before_the_first_step_leaves_the_earlier_run_as_it_was) {
    const fs::path config = dir_ / "run.toml";
    std::ofstream(config) << "[simulation]\nduration = \"5 ms\"\n[[population]]\nname = \"E\"\nsize = 10\n"
                             "model = \"lif\"\ninput = { I_e = \"500 pA\" }\n[[record]]\nspikes = [\"E\"]\n"
                             "[[record]]\nstate = \"V_m\"\npopulation = \"E\"\n";
    const run_spec spec = load_config(config);
    const fs::path out = dir_ / "out";
    const auto listing = [&] {
        std::vector<std::pair<std::string, std::string>> files;
        for (const auto& e : fs::directory_iterator(out)) {
            std::ifstream f(e.path(), std::ios::binary);
            files.emplace_back(e.path().filename().string(), std::string(std::istreambuf_iterator<char>(f), {}));
        }
        std::sort(files.begin(), files.end());
        return files;
    };
    run_options options;
    options.out_dir = out;
    {
        const output_folder_lock lock = prepare_output_dir(out, spec);
        const auto engine = make_cpu_backend(spec);
        ASSERT_EQ(run_simulation(spec, *engine, options).status, "completed");
    }
    const auto earlier = listing();
    ASSERT_EQ(earlier.size(), 4u);  // spikes.h5, E_V_m.h5, config.resolved.toml, summary.json
    const std::atomic<bool> stop{true};
    options.stop = &stop;
    const output_folder_lock lock = prepare_output_dir(out, spec);
    const auto engine = make_cpu_backend(spec);
    EXPECT_THROW(run_simulation(spec, *engine, options), stopped_before_start);
    EXPECT_EQ(listing(), earlier);  // the same files, byte for byte, and no .part
}

// Ctrl-C while a file is written whole waits until it is in place, then ends the process as it
// would have (theory --out, interrupted while it wrote 50 MB, left its .part). The signal is sent
// once the .part exists: in the middle of writing 64 MB.
TEST_F(recording, a_stop_while_a_file_is_written_whole_waits_for_it) {
    const fs::path file = dir_ / "theory.csv";
    const std::string text(std::size_t{64} << 20, 'x');
    EXPECT_EXIT(
        {
            std::thread stopper([&] {
                while (!fs::exists(part_path(file))) std::this_thread::sleep_for(std::chrono::microseconds(100));
                ::kill(::getpid(), SIGINT);
            });
            write_file_atomically(file, text);
            stopper.join();
            std::exit(0);
        },
        ::testing::KilledBySignal(SIGINT), "");
    EXPECT_EQ(fs::file_size(file), text.size());
    EXPECT_FALSE(fs::exists(part_path(file)));
}

TEST_F(recording, report_lives_in_a_part_file_until_close) {
    const fs::path path = dir_ / "V_m.h5";
    const std::uint64_t nodes[] = {0, 1};
    report_file r(path, "E", "V_m", "mV", nodes, 0.0, 0.1);
    const float row[] = {1.0f, 2.0f};
    r.append_rows(row, 1);
    r.flush();
    EXPECT_TRUE(fs::exists(dir_ / "V_m.h5.part"));
    EXPECT_FALSE(fs::exists(path));
    r.close();
    r.close();
    EXPECT_FALSE(fs::exists(dir_ / "V_m.h5.part"));
    h5_file f(path);
    EXPECT_EQ(read_f32(f.id, "/report/E/data"), (std::vector<float>{1.0f, 2.0f}));
    EXPECT_EQ(read_f64(f.id, "/report/E/mapping/time"), (std::vector<double>{0.0, 0.1, 0.1}));
}

TEST_F(recording, report_survives_an_exception_that_skips_close) {
    const fs::path path = dir_ / "V_m.h5";
    const std::uint64_t nodes[] = {5, 6, 7};
    std::vector<float> values(3 * 1000);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i) * 0.25f;
    try {
        report_file r(path, "E", "V_m", "mV", nodes, 10.0, 0.1);
        r.append_rows(values, 1000);
        throw std::runtime_error("the run failed");
    } catch (const std::runtime_error&) {
    }
    ASSERT_TRUE(fs::exists(path));
    h5_file f(path);
    EXPECT_EQ(read_f32(f.id, "/report/E/data"), values);
    const auto time = read_f64(f.id, "/report/E/mapping/time");
    ASSERT_EQ(time.size(), 3u);
    EXPECT_EQ(time[1], 10.0 + 1000 * 0.1);
}

TEST_F(recording, report_rejects_bad_arguments) {
    const fs::path path = dir_ / "V_m.h5";
    const std::uint64_t nodes[] = {0, 1};
    EXPECT_THROW(report_file(path, "E", "V_m", "mV", {}, 0.0, 0.1), std::invalid_argument);
    EXPECT_THROW(report_file(path, "E", "V_m", "mV", nodes, 0.0, 0.0), std::invalid_argument);
    EXPECT_THROW(report_file(path, "E", "V_m", "mV", nodes, NAN, 0.1), std::invalid_argument);
    EXPECT_THROW(report_file(path, "a/b", "V_m", "mV", nodes, 0.0, 0.1), std::invalid_argument);
    report_file r(path, "E", "V_m", "mV", nodes, 0.0, 0.1);
    const float three[] = {1, 2, 3};
    EXPECT_THROW(r.append_rows(three, 1), std::invalid_argument);
    EXPECT_THROW(r.append_rows(three, 2), std::invalid_argument);
}

// --- summary.json ------------------------------------------------------------------------------

// One writer per output folder: a second lock on it (another process, or another open of the
// folder in this one) fails at once, naming the folder, until the first is released.
TEST_F(recording, output_folder_lock_is_exclusive_until_released) {
    std::optional<ifsim::output_folder_lock> first(std::in_place, dir_);
    try {
        ifsim::output_folder_lock second(dir_);
        ADD_FAILURE() << "a second lock on a locked folder was granted";
    } catch (const ifsim::runtime_failure& e) {
        EXPECT_NE(std::string(e.what()).find(dir_.string() + "' is in use"), std::string::npos) << e.what();
    }
    ifsim::output_folder_lock moved = std::move(*first);  // the lock moves with its holder
    first.reset();
    EXPECT_THROW(ifsim::output_folder_lock{dir_}, ifsim::runtime_failure);
    { ifsim::output_folder_lock scratch = std::move(moved); }  // released here
    EXPECT_NO_THROW(ifsim::output_folder_lock{dir_});
    EXPECT_THROW(ifsim::output_folder_lock{dir_ / "absent"}, ifsim::config_error);
}

// A folder where a file's .part goes is in the way as much as one at the file's own name.
TEST_F(recording, a_folder_at_a_part_name_is_in_the_way) {
    EXPECT_NO_THROW(ifsim::check_output_target(dir_ / "summary.json"));
    fs::create_directory(dir_ / "summary.json.part");
    EXPECT_THROW(ifsim::check_output_target(dir_ / "summary.json"), ifsim::config_error);
}

TEST(summary, json_layout_nan_as_null_and_escaping) {
    run_summary s;
    s.status = "interrupted";
    s.message = "SIGINT \"ctrl-c\"\tat\\step\n\x01 \xC2\xB5s \xFF";  // µ is valid UTF-8, 0xFF not
    s.backend = "cpu";
    s.seed = 18446744073709551615ull;
    s.dt_ms = 0.1;
    s.wall_s = std::numeric_limits<double>::infinity();
    population_summary p;
    p.name = "E";
    p.neurons = 3;
    p.spikes = 7;
    p.mean_rate_Hz = 12.5;
    s.populations = {p};
    s.files = {"spikes.h5"};

    const std::string text = summary_json(s);
    EXPECT_NE(text.find(R"("message": "SIGINT \"ctrl-c\"\tat\\step\n\u0001 )"
                        "\xC2\xB5s \xEF\xBF\xBD\""),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"("seed": 18446744073709551615,)"), std::string::npos);
    EXPECT_NE(text.find(R"("dt_ms": 0.1,)"), std::string::npos);
    EXPECT_NE(text.find(R"("wall_s": null,)"), std::string::npos);
    const std::string population = R"(  "populations": [
    {
      "name": "E",
      "neurons": 3,
      "spikes": 7,
      "mean_rate_Hz": 12.5,
      "mean_cv": null,
      "neurons_with_cv": 0
    }
  ],
  "files": [
    "spikes.h5"
  ]
}
)";
    ASSERT_GE(text.size(), population.size());
    EXPECT_EQ(text.substr(text.size() - population.size()), population) << text;
    EXPECT_EQ(text.substr(0, 27), "{\n  \"status\": \"interrupted\"");
}

// What stats and a rerun read back of a summary.json: top-level values only, whole strings, the
// files list, whatever the strings hold (a message quoting a key, a device name with a comma).
TEST(summary, values_read_back_from_the_layout_it_writes) {
    run_summary s;
    s.status = "failed";
    s.message = "bad \"steps\": 5, \"files\": [\"x\"]\nnext line";
    s.device = "2 threads, -march=x86-64-v3";
    s.config_digest = "9d0e";
    s.steps = 3000;
    s.populations = {{"E", 10, 3, 1.5, 0.5, 2}};
    s.files = {"spikes.h5", "E_V_m.h5"};
    const std::string json = summary_json(s);
    EXPECT_EQ(summary_value(json, "steps"), "3000");
    EXPECT_EQ(summary_value(json, "config_digest"), "\"9d0e\"");
    EXPECT_EQ(summary_value(json, "device"), "\"2 threads, -march=x86-64-v3\"");
    EXPECT_EQ(summary_value(json, "neurons_with_cv"), std::nullopt);  // a population's, not top-level
    EXPECT_EQ(summary_value(json, "no_such_key"), std::nullopt);
    EXPECT_EQ(summary_strings(json, "files"), (std::vector<std::string>{"spikes.h5", "E_V_m.h5"}));
    EXPECT_EQ(summary_strings(json, "steps"), std::nullopt);  // no list
    // Saved again compactly, or indented by four: the same values (stats said the file was no
    // summary at all; found by a fuzz audit).
    std::string compact, four;
    bool in_string = false;
    for (std::size_t k = 0; k < json.size(); ++k) {
        const char c = json[k];
        if (c == '"' && (k == 0 || json[k - 1] != '\\')) in_string = !in_string;
        if (!in_string && (c == ' ' || c == '\n')) continue;
        compact += c;
    }
    for (const char c : json) four += c == '\n' ? std::string("\n  ") : std::string(1, c);
    for (const std::string& again : {compact, four}) {
        EXPECT_EQ(summary_value(again, "steps"), "3000") << again;
        EXPECT_EQ(summary_value(again, "config_digest"), "\"9d0e\"");
        EXPECT_EQ(summary_value(again, "device"), "\"2 threads, -march=x86-64-v3\"");
        EXPECT_EQ(summary_value(again, "neurons_with_cv"), std::nullopt);
        EXPECT_EQ(summary_strings(again, "files"), (std::vector<std::string>{"spikes.h5", "E_V_m.h5"}));
    }
    s.files.clear();
    EXPECT_EQ(summary_strings(summary_json(s), "files"), std::vector<std::string>{});
}

TEST(summary, empty_lists_and_file_written_whole) {
    const fs::path dir = fs::temp_directory_path() /
                         ("ifsim_test_recording_summary_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    run_summary s;
    s.status = "completed";
    const fs::path path = dir / "summary.json";
    write_summary_json(path, s);
    EXPECT_FALSE(fs::exists(dir / "summary.json.part"));
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), summary_json(s));
    EXPECT_NE(text.str().find("\"populations\": [],\n  \"files\": []\n}\n"), std::string::npos)
        << text.str();
    fs::remove_all(dir);
    EXPECT_THROW(write_summary_json(dir / "missing" / "summary.json", s), runtime_failure);
}

// --- sha256 ------------------------------------------------------------------------------------

TEST(sha256, fips_180_examples) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256, padding_boundaries) {
    // Lengths around the 56- and 64-byte padding edges; digests from Python's hashlib.
    EXPECT_EQ(sha256_hex(std::string(55, 'a')),
              "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    EXPECT_EQ(sha256_hex(std::string(56, 'a')),
              "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    EXPECT_EQ(sha256_hex(std::string(63, 'a')),
              "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    EXPECT_EQ(sha256_hex(std::string(64, 'a')),
              "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    EXPECT_EQ(sha256_hex(std::string(119, 'a')),
              "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
    EXPECT_EQ(sha256_hex(std::string(120, 'a')),
              "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

// Fed in pieces of any size (across the 64-byte blocks and the padding edges), the digest is the
// one-shot one; a file's is its bytes' (a synapse file's, in summary.json).
TEST(sha256, pieces_and_files) {
    const std::string text = [] {
        std::string t;
        for (int i = 0; i < 3000; ++i) t += char('a' + (i * 7) % 26);
        return t;
    }();
    for (const std::size_t piece : {1u, 3u, 55u, 64u, 65u, 1000u}) {
        sha256 hash;
        for (std::size_t at = 0; at < text.size(); at += piece) hash.update(std::string_view(text).substr(at, piece));
        EXPECT_EQ(hash.hex(), sha256_hex(text)) << "pieces of " << piece;
    }
    const auto file = std::filesystem::temp_directory_path() / ("ifsim_sha_" + std::to_string(getpid()));
    std::ofstream(file, std::ios::binary) << std::string(2 * 1048576 + 63, 'a');  // across the 1 MiB reads
    EXPECT_EQ(sha256_file_hex(file), "bf16b3b375a0b877c0514e2a8efc3be04f95b5c07e0a103eaa8150ce134dd801");  // hashlib
    std::filesystem::remove(file);
    EXPECT_THROW(sha256_file_hex(file), runtime_failure);
}

// A crash inside HDF5 while a file from outside is read ends the process with a message naming the
// file, exit 2, and removes the output folder the process made if it is still empty (a damaged
// synapse file crashed HDF5 with SIGSEGV, no word, and the run's empty folder stayed); once the
// lock is released the crash handlers are the earlier ones again, so that a crash elsewhere is
// not blamed on a file.
TEST(reading_lock, a_crash_while_reading_is_the_files_and_its_handlers_go_with_it) {
    const fs::path folder = fs::temp_directory_path() / ("ifsim_crash_folder_" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    EXPECT_EXIT(
        {
            remove_if_empty_on_crash(folder);
            const h5::reading_lock guard("damaged.h5");
            ::raise(SIGSEGV);
        },
        ::testing::ExitedWithCode(2), "ifsim: error: 'damaged.h5': HDF5 crashed reading it");
    EXPECT_FALSE(fs::exists(folder));
    remove_if_empty_on_crash("");

    struct sigaction before {}, during {}, after {};
    ASSERT_EQ(sigaction(SIGSEGV, nullptr, &before), 0);
    {
        const h5::reading_lock guard("file.h5");
        ASSERT_EQ(sigaction(SIGSEGV, nullptr, &during), 0);
    }
    ASSERT_EQ(sigaction(SIGSEGV, nullptr, &after), 0);
    EXPECT_NE(during.sa_handler, before.sa_handler);
    EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace ifsim
