// Tests for ifsim/synapse_file.hpp: CSV and HDF5 synapse lists read back, and every rejection
// naming the file, the line (CSV) or row (HDF5), and the offending text. HDF5 files are written
// with the plain C API, independently of the library's helpers.
#include "ifsim/errors.hpp"
#include "ifsim/synapse_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace ifsim {
namespace {

namespace fs = std::filesystem;

using u64s = std::vector<std::uint64_t>;
using doubles = std::vector<double>;

const synapse_file_limits limits{10, 20, false, 0, {}};  // 10 sources, 20 targets

// One dataset to write: values are converted by HDF5 from double to `file_type`.
struct h5_dataset {
    std::string name;
    hid_t file_type;
    doubles values;
    std::vector<hsize_t> dims = {};  // empty: 1-D of values.size()
    std::string units = {};          // a `units` attribute (variable-length string, as h5py writes) unless empty
};

// A fresh folder per test, removed afterwards.
class synapse_file : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("ifsim_test_synapse_file_" + std::to_string(::getpid()) + "_" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path csv(const std::string& text, const std::string& name = "conn.csv") const {
        const fs::path path = dir_ / name;
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }

    fs::path h5(std::initializer_list<h5_dataset> datasets, const std::string& name = "conn.h5") const {
        const fs::path path = dir_ / name;
        const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        EXPECT_GE(file, 0);
        for (const auto& d : datasets) {
            const std::vector<hsize_t> dims = d.dims.empty() ? std::vector<hsize_t>{d.values.size()} : d.dims;
            const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
            const hid_t set =
                H5Dcreate2(file, d.name.c_str(), d.file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            EXPECT_GE(set, 0) << d.name;
            if (!d.values.empty()) {
                EXPECT_GE(H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()), 0);
            }
            if (!d.units.empty()) {
                const hid_t type = H5Tcopy(H5T_C_S1);
                H5Tset_size(type, H5T_VARIABLE);
                const hid_t scalar = H5Screate(H5S_SCALAR);
                const hid_t attr = H5Acreate2(set, "units", type, scalar, H5P_DEFAULT, H5P_DEFAULT);
                const char* text = d.units.c_str();
                EXPECT_GE(H5Awrite(attr, type, &text), 0);
                H5Aclose(attr);
                H5Sclose(scalar);
                H5Tclose(type);
            }
            H5Dclose(set);
            H5Sclose(space);
        }
        H5Fclose(file);
        return path;
    }

    fs::path dir_;
};

// The message of the config_error that reading `file` throws; a test failure when none is thrown.
std::string error_of(const fs::path& file, const synapse_file_limits& l = limits) {
    try {
        read_synapse_file(file, l);
    } catch (const config_error& e) {
        return e.what();
    }
    ADD_FAILURE() << file << " was read without an error";
    return "";
}

std::string columns_error_of(const fs::path& file) {
    try {
        synapse_file_columns(file);
    } catch (const config_error& e) {
        return e.what();
    }
    ADD_FAILURE() << file << ": synapse_file_columns gave no error";
    return "";
}

void expect_mentions(const std::string& message, std::initializer_list<std::string_view> parts) {
    for (const std::string_view part : parts)
        EXPECT_NE(message.find(part), std::string::npos) << "no '" << part << "' in: " << message;
}
// The trace gives the caller's line on failure.
#define EXPECT_MENTIONS(message, ...)          \
    do {                                       \
        SCOPED_TRACE("EXPECT_MENTIONS");       \
        expect_mentions(message, {__VA_ARGS__}); \
    } while (0)

// --- CSV, accepted -------------------------------------------------------------------------------

TEST_F(synapse_file, csv_all_columns_round_trip) {
    const auto t = read_synapse_file(csv("source,target,weight,delay\n0,19,0.5,1.5\n9,0,2e-1,0.1\n3,3,0,10\n"), limits);
    EXPECT_EQ(t.source, (u64s{0, 9, 3}));
    EXPECT_EQ(t.target, (u64s{19, 0, 3}));
    EXPECT_EQ(t.weight, (doubles{0.5, 0.2, 0.0}));
    EXPECT_EQ(t.delay_ms, (doubles{1.5, 0.1, 10.0}));
}

TEST_F(synapse_file, csv_source_and_target_only) {
    const auto t = read_synapse_file(csv("source,target\n1,2\n3,4"), limits);  // no final newline
    EXPECT_EQ(t.source, (u64s{1, 3}));
    EXPECT_EQ(t.target, (u64s{2, 4}));
    EXPECT_TRUE(t.weight.empty());
    EXPECT_TRUE(t.delay_ms.empty());
}

TEST_F(synapse_file, csv_columns_in_any_order) {
    const auto t = read_synapse_file(csv("delay,target,source\n2.5,7,1\n"), limits);
    EXPECT_EQ(t.source, (u64s{1}));
    EXPECT_EQ(t.target, (u64s{7}));
    EXPECT_TRUE(t.weight.empty());
    EXPECT_EQ(t.delay_ms, (doubles{2.5}));
}

TEST_F(synapse_file, csv_comments_blank_lines_crlf_and_spaces) {
    const auto t = read_synapse_file(
        csv("# made by hand\r\n\r\n  source , target,weight\r\n# first\r\n 1 ,\t2 , -0.5 \r\n   \r\n3,4,-1e-3\r\n"),
        limits);
    EXPECT_EQ(t.source, (u64s{1, 3}));
    EXPECT_EQ(t.target, (u64s{2, 4}));
    EXPECT_EQ(t.weight, (doubles{-0.5, -1e-3}));
}

// Quoted fields, as R's write.csv (names) and Python's csv.QUOTE_ALL (every field) write them; the
// header of R's row names is an empty name, and the error says how to leave them out.
TEST_F(synapse_file, csv_quoted_fields) {
    const auto r = read_synapse_file(csv("\"source\",\"target\",\"weight [mV]\"\n0,19,0.5\n"), limits);
    EXPECT_EQ(r.target, (u64s{19}));
    EXPECT_EQ(r.weight, (doubles{0.5}));
    const auto py = read_synapse_file(csv("\"source\",\"target\",\"delay\"\r\n\"1\",\"2\",\"1.5\"\r\n"), limits);
    EXPECT_EQ(py.source, (u64s{1}));
    EXPECT_EQ(py.target, (u64s{2}));
    EXPECT_EQ(py.delay_ms, (doubles{1.5}));
    EXPECT_MENTIONS(error_of(csv("\"\",\"source\",\"target\"\n\"1\",0,1\n")), "empty column name", "row.names = FALSE");
    EXPECT_MENTIONS(error_of(csv("source,target\n\"1,2\n")), "conn.csv:2:", "is not a neuron index");
    EXPECT_EQ(read_synapse_file(csv("source,target\n\" 0 \", 1\n"), limits).source, (u64s{0}));  // spaces inside too
}

TEST_F(synapse_file, csv_header_only_is_zero_synapses) {
    const auto t = read_synapse_file(csv("source,target,weight\n"), limits);
    EXPECT_TRUE(t.source.empty());
    EXPECT_TRUE(t.target.empty());
    EXPECT_TRUE(t.weight.empty());
}

TEST_F(synapse_file, csv_columns_from_the_header) {
    const auto both = synapse_file_columns(csv("# c\ntarget,delay,source,weight\n"));
    EXPECT_TRUE(both.weight);
    EXPECT_TRUE(both.delay);
    const auto none = synapse_file_columns(csv("source,target\n1,x\n"));  // rows are not read
    EXPECT_FALSE(none.weight);
    EXPECT_FALSE(none.delay);
}

// --- CSV, rejected -------------------------------------------------------------------------------

TEST_F(synapse_file, csv_header_errors) {
    EXPECT_MENTIONS(error_of(csv("source,weight\n1,2\n")), "conn.csv: no column 'target'",
                    "must name source and target");
    EXPECT_MENTIONS(error_of(csv("# x\nsource,target,w\n")), "conn.csv:2:", "unknown column 'w'",
                    "source, target, weight and delay");
    EXPECT_MENTIONS(error_of(csv("source,target,source\n")), "conn.csv:1:", "'source' appears twice");
    EXPECT_MENTIONS(error_of(csv("source,,target\n")), "conn.csv:1:", "empty column name");
    EXPECT_MENTIONS(error_of(csv("# only a comment\n\n")), "conn.csv: no header");
    EXPECT_MENTIONS(columns_error_of(csv("target\n")), "no column 'source'");
}

TEST_F(synapse_file, csv_field_count) {
    EXPECT_MENTIONS(error_of(csv("source,target,weight,delay\n1,2,0.5,1\n\n1,2,0.5\n")), "conn.csv:4:",
                    "3 fields, but the header names 4 (source,target,weight,delay)");
    EXPECT_MENTIONS(error_of(csv("source, target\n1,2,3\n")), "conn.csv:2:", "3 fields",
                    "names 2 (source,target)");
}

TEST_F(synapse_file, csv_index_that_is_not_a_whole_number) {
    for (const std::string text : {"1.5", "-1", "1e3", "x", "+1"})
        EXPECT_MENTIONS(error_of(csv("source,target\n0,0\n" + text + ",1\n")), "conn.csv:3:",
                        "source = '" + text + "' is not a neuron index", "whole number >= 0");
    EXPECT_MENTIONS(error_of(csv("source,target\n1, \n")), "conn.csv:2:", "target is empty");
    EXPECT_MENTIONS(error_of(csv("source,target\n1,99999999999999999999999\n")), "conn.csv:2:",
                    "target = 99999999999999999999999 is not a neuron", "(0..19)");
}

TEST_F(synapse_file, csv_index_outside_the_population) {
    EXPECT_MENTIONS(error_of(csv("source,target\n9,19\n10,0\n")), "conn.csv:3:",
                    "source = 10 is not a neuron of the source population (0..9)");
    EXPECT_MENTIONS(error_of(csv("source,target\n0,20\n")), "conn.csv:2:",
                    "target = 20 is not a neuron of the target population (0..19)");
    EXPECT_MENTIONS(error_of(csv("source,target\n0,0\n"), {0, 5, false, 0, {}}), "source population, which is empty");
}

TEST_F(synapse_file, csv_bad_weight_or_delay_text) {
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,abc\n")), "conn.csv:2:",
                    "weight = 'abc' is not a number");
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,0.5mV\n")), "weight = '0.5mV' is not a number");
    EXPECT_MENTIONS(error_of(csv("source,target,delay\n1,2,\n")), "conn.csv:2:", "delay is empty");
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,1e400\n")), "weight = '1e400' is out of the range");
}

TEST_F(synapse_file, csv_weight_not_finite) {
    for (const std::string text : {"inf", "-inf", "nan"})
        EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2," + text + "\n")), "conn.csv:2:",
                        "weight = " + text, "not a finite number");
}

TEST_F(synapse_file, csv_weight_beyond_any_synapse) {
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,0.5\n1,3,-2e6\n")), "conn.csv:3:",
                    "weight = -2e+06 is beyond any synapse", "magnitude must be at most 1e+06");
    EXPECT_NO_THROW(read_synapse_file(csv("source,target,weight\n1,2,1e6\n"), limits));
}

TEST_F(synapse_file, csv_weights_of_both_signs) {
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,0\n1,2,0.25\n1,3,0.5\n1,4,-0.5\n")), "conn.csv:5:",
                    "weight = -0.5 has the other sign than weight = 0.25 on line 3");
}

TEST_F(synapse_file, csv_negative_conductance) {
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n1,2,0.5\n1,3,-2\n"), {10, 20, true, 0, {}}), "conn.csv:3:",
                    "weight = -2 is negative", "conductances must be >= 0 nS");
    EXPECT_NO_THROW(read_synapse_file(csv("source,target,weight\n1,2,-2\n"), limits));
}

TEST_F(synapse_file, csv_delay_not_positive) {
    for (const std::string text : {"0", "-1", "inf"})
        EXPECT_MENTIONS(error_of(csv("source,target,delay\n1,2,1\n1,2," + text + "\n")), "conn.csv:3:",
                        "delay = " + text, "finite and > 0 ms");
}

// --- HDF5 ----------------------------------------------------------------------------------------

TEST_F(synapse_file, h5_round_trip_int32_and_float32) {
    const auto t = read_synapse_file(h5({{"source", H5T_STD_I32LE, {0, 9, 4}},
                                         {"target", H5T_STD_I32BE, {19, 0, 4}},
                                         {"weight", H5T_IEEE_F32LE, {0.5, 0.25, 0}},
                                         {"delay", H5T_STD_U8LE, {1, 2, 3}},
                                         {"other", H5T_IEEE_F64LE, {1}}}),  // ignored
                                     limits);
    EXPECT_EQ(t.source, (u64s{0, 9, 4}));
    EXPECT_EQ(t.target, (u64s{19, 0, 4}));
    EXPECT_EQ(t.weight, (doubles{0.5, 0.25, 0}));
    EXPECT_EQ(t.delay_ms, (doubles{1, 2, 3}));
}

// A compressed chunk damaged on disk: HDF5 opens the file and the dataset, and fails reading it.
// Bad input, so config_error naming the file (it was a runtime failure, exit 1; a fuzz audit).
TEST_F(synapse_file, h5_damaged_chunk_is_bad_input) {
    const fs::path path = dir_ / "damaged.h5";
    std::vector<std::uint64_t> index(10000);
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = i % 10;
    haddr_t address = 0;
    hsize_t bytes = 0;
    {
        const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        const hsize_t n = index.size();
        const hid_t space = H5Screate_simple(1, &n, nullptr);
        const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(plist, 1, &n);
        H5Pset_deflate(plist, 6);
        for (const char* name : {"source", "target"}) {
            const hid_t set = H5Dcreate2(file, name, H5T_STD_U64LE, space, H5P_DEFAULT, plist, H5P_DEFAULT);
            ASSERT_GE(H5Dwrite(set, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, index.data()), 0);
            const hsize_t origin = 0;
            unsigned mask = 0;
            ASSERT_GE(H5Dget_chunk_info_by_coord(set, &origin, &mask, &address, &bytes), 0);
            H5Dclose(set);
        }
        H5Pclose(plist);
        H5Sclose(space);
        H5Fclose(file);
    }
    ASSERT_GT(bytes, 16u);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::streamoff(address + bytes / 2));
        const char garbage[8] = {'\x5a', '\x13', '\x77', '\x01', '\x7f', '\x42', '\x00', '\x66'};
        f.write(garbage, sizeof garbage);
    }
    EXPECT_MENTIONS(error_of(path), path.string(), "its data cannot be read");
}

// A file of a few KiB may declare 2^40 rows, none written: refused by name before it is read
// (check, which reads a file to check every row, ran out of memory with no file named).
TEST_F(synapse_file, h5_of_more_rows_than_memory_is_refused_before_it_is_read) {
    const std::vector<hsize_t> rows = {hsize_t{1} << 40};
    const fs::path path = h5({{"source", H5T_STD_U32LE, {}, rows}, {"target", H5T_STD_U32LE, {}, rows}});
    try {
        read_synapse_file(path, limits);
        ADD_FAILURE() << "2^40 rows were read";
    } catch (const runtime_failure& e) {
        EXPECT_MENTIONS(e.what(), "conn.h5: its 1099511627776 rows need about 16 TiB to be read, but");
    }
}

// Damaged metadata that HDF5 reports (the root group's symbol table node with its signature
// overwritten) is the file's problem: config_error (exit 2, the projection named), where it was a
// run failure (exit 1).
TEST_F(synapse_file, h5_damaged_metadata_is_bad_input) {
    const fs::path path = h5({{"source", H5T_STD_U32LE, {0, 1}}, {"target", H5T_STD_U32LE, {1, 2}}});
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::size_t at = bytes.find("SNOD");
    ASSERT_NE(at, std::string::npos) << "no symbol table node in the file";
    bytes.replace(at, 4, "XXXX");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    EXPECT_MENTIONS(error_of(path), "conn.h5: its metadata cannot be read (a damaged file?");
}

TEST_F(synapse_file, h5_round_trip_uint64_and_float64) {
    const auto t = read_synapse_file(h5({{"source", H5T_STD_U64LE, {1, 2}},
                                         {"target", H5T_STD_U64LE, {3, 4}},
                                         {"weight", H5T_IEEE_F64LE, {-0.1, -1e-9}}},
                                        "conn.hdf5"),
                                     limits);
    EXPECT_EQ(t.source, (u64s{1, 2}));
    EXPECT_EQ(t.target, (u64s{3, 4}));
    EXPECT_EQ(t.weight, (doubles{-0.1, -1e-9}));
    EXPECT_TRUE(t.delay_ms.empty());
}

// A file without line ends (a binary file named .csv) is refused at its first long line, not read
// into memory whole. Every line over 1 MiB is, by every reader: the full read took any under its
// 16 MiB block, which check passed and run's row estimate refused (a fuzz audit).
TEST_F(synapse_file, csv_line_beyond_a_mebibyte) {
    EXPECT_MENTIONS(error_of(csv("source,target\n" + std::string(std::size_t{20} << 20, '1'))), "conn.csv:2:",
                    "a line of more than 1 MiB");
    EXPECT_MENTIONS(columns_error_of(csv(std::string(std::size_t{3} << 20, 's'))), "conn.csv:1:",
                    "a line of more than 1 MiB");
    std::string rows = "source,target\n";
    for (int i = 0; i < 10; ++i) rows += "0,1\n";
    EXPECT_MENTIONS(error_of(csv(rows + "0,1" + std::string(std::size_t{2} << 20, ' ') + "\n")), "conn.csv:12:",
                    "a line of more than 1 MiB");
}

// A FIFO (or device) is refused by name, not read until something writes to it: check hung.
TEST_F(synapse_file, fifo_is_not_a_synapse_file) {
    const fs::path fifo = dir_ / "conn.csv";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_MENTIONS(columns_error_of(fifo), "conn.csv", "not a regular file");
    EXPECT_MENTIONS(error_of(fifo), "conn.csv", "not a regular file");
}

// Delays beyond the 65,535 steps of dt a delay may take, and a file whose largest weight is too
// small for a fixed-point quantum, are the file's errors, named as such (they surfaced at the build
// without file or line; found by a review). A NUL in a field is escaped in the message.
TEST_F(synapse_file, csv_delay_beyond_the_longest_and_weights_below_the_quantum) {
    synapse_file_limits with_dt = limits;
    with_dt.dt_ms = 0.1;
    EXPECT_MENTIONS(error_of(csv("source,target,delay\n0,1,1.5\n0,1,6553.6\n"), with_dt), "conn.csv:3:",
                    "delay = 6553.6 ms is 65536 steps of dt = 0.1 ms; at most 65535");
    EXPECT_EQ(read_synapse_file(csv("source,target,delay\n0,1,6553.5\n"), with_dt).delay_ms.size(), 1u);
    // Below one step, as a config's constant delay (it became a step; NEST refuses it too).
    EXPECT_MENTIONS(error_of(csv("source,target,delay\n0,1,0.1\n0,1,0.06\n"), with_dt), "conn.csv:3:",
                    "delay = 0.06 ms is shorter than one step of dt = 0.1 ms");
    EXPECT_MENTIONS(error_of(csv("source,target,weight\n0,1,1e-300\n1,2,0\n")), "conn.csv:",
                    "the largest |weight| is 1e-300", "at least 1e-290");
    EXPECT_MENTIONS(error_of(csv(std::string("source,target\n0,1\0\n", 19))), "conn.csv:2:", "'1\\u0000'");
}

// --- Row estimates (the run's memory check, before the file is read) ----------------------------

TEST_F(synapse_file, rows_estimate_of_a_short_csv_is_its_row_count) {
    EXPECT_EQ(synapse_file_rows_estimate(csv("# c\nsource,target\n1,2\n\n# more\n3,4\n5,6")), 3u);
    EXPECT_EQ(synapse_file_rows_estimate(csv("source,target\n")), 0u);
}

// Rows beyond the first 65,536 are estimated from their mean length: at least the truth and at
// most the 5 % added plus a rounding (a file of rows of one length distribution throughout).
TEST_F(synapse_file, rows_estimate_of_a_long_csv_is_within_its_margin) {
    std::string text = "source,target,weight\n";
    const std::uint64_t rows = 300000;
    std::uint64_t x = 88172645463325252ull;  // xorshift: row lengths vary the same way everywhere
    for (std::uint64_t r = 0; r < rows; ++r) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        text += std::to_string(x % 10) + "," + std::to_string(x % 20) + "," + std::to_string(double(x % 1000) / 7) + "\n";
    }
    const double estimate = double(synapse_file_rows_estimate(csv(text)));
    EXPECT_GE(estimate, double(rows));
    EXPECT_LE(estimate, 1.06 * double(rows));
}

TEST_F(synapse_file, rows_estimate_of_an_h5_file_is_its_length) {
    EXPECT_EQ(synapse_file_rows_estimate(h5({{"source", H5T_STD_U32LE, {0, 1, 2, 3}},
                                             {"target", H5T_STD_U32LE, {4, 5, 6, 7}}})),
              4u);
}

TEST_F(synapse_file, rows_estimate_errors_name_the_file) {
    try {
        synapse_file_rows_estimate(dir_ / "none.csv");
        FAIL() << "a missing file was estimated";
    } catch (const config_error& e) {
        EXPECT_MENTIONS(e.what(), "none.csv", "no such file");
    }
}

TEST_F(synapse_file, h5_empty_datasets_are_zero_synapses) {
    const auto t = read_synapse_file(h5({{"source", H5T_STD_I64LE, {}}, {"target", H5T_STD_I64LE, {}}}), limits);
    EXPECT_TRUE(t.source.empty());
    EXPECT_TRUE(t.target.empty());
}

TEST_F(synapse_file, h5_columns_from_the_dataset_names) {
    const auto c = synapse_file_columns(
        h5({{"source", H5T_STD_I32LE, {1}}, {"target", H5T_STD_I32LE, {1}}, {"delay", H5T_IEEE_F64LE, {1}}}));
    EXPECT_FALSE(c.weight);
    EXPECT_TRUE(c.delay);
}

TEST_F(synapse_file, h5_missing_target) {
    const auto file = h5({{"source", H5T_STD_I32LE, {1}}, {"weight", H5T_IEEE_F64LE, {1}}});
    EXPECT_MENTIONS(error_of(file), "conn.h5: no dataset 'target'", "source and target");
    EXPECT_MENTIONS(columns_error_of(file), "no dataset 'target'");
}

TEST_F(synapse_file, h5_lengths_differ) {
    EXPECT_MENTIONS(error_of(h5({{"source", H5T_STD_I32LE, {1, 2, 3}},
                                 {"target", H5T_STD_I32LE, {1, 2}},
                                 {"weight", H5T_IEEE_F64LE, {1, 2, 3}}})),
                    "conn.h5: datasets of different lengths (source 3, target 2, weight 3)");
}

TEST_F(synapse_file, h5_negative_index) {
    EXPECT_MENTIONS(error_of(h5({{"source", H5T_STD_I32LE, {1, 2, -3}}, {"target", H5T_STD_I64LE, {1, 2, 3}}})),
                    "conn.h5: row 2: source = -3 is negative");
}

TEST_F(synapse_file, h5_two_dimensional_dataset) {
    EXPECT_MENTIONS(error_of(h5({{"source", H5T_STD_I32LE, {1, 2}},
                                 {"target", H5T_STD_I32LE, {1, 2}},
                                 {"weight", H5T_IEEE_F64LE, {1, 2}, {2, 1}}})),
                    "conn.h5: dataset 'weight' has 2 dimensions", "1-D");
}

TEST_F(synapse_file, h5_source_must_hold_integers) {
    EXPECT_MENTIONS(error_of(h5({{"source", H5T_IEEE_F64LE, {1}}, {"target", H5T_STD_I32LE, {1}}})),
                    "dataset 'source' holds floating-point numbers", "must hold integers");
}

TEST_F(synapse_file, h5_rows_are_checked) {
    const h5_dataset source{"source", H5T_STD_U16LE, {1, 2, 3}}, target{"target", H5T_STD_U16LE, {1, 2, 3}};
    EXPECT_MENTIONS(error_of(h5({source, {"target", H5T_STD_U16LE, {1, 20, 3}}})),
                    "conn.h5: row 1: target = 20 is not a neuron of the target population (0..19)");
    EXPECT_MENTIONS(error_of(h5({source, target, {"weight", H5T_IEEE_F64LE, {0, -1, 1}}})),
                    "conn.h5: row 2: weight = 1 has the other sign than weight = -1 on row 1");
    EXPECT_MENTIONS(error_of(h5({source, target, {"weight", H5T_IEEE_F64LE, {0, -1, 1}}}), {10, 20, true, 0, {}}),
                    "conn.h5: row 1: weight = -1 is negative; conductances must be >= 0 nS");
    EXPECT_MENTIONS(error_of(h5({source, target, {"weight", H5T_IEEE_F64LE, {1, 1e7, 1}}})),
                    "conn.h5: row 1: weight = 1e+07 is beyond any synapse");
    EXPECT_MENTIONS(error_of(h5({source, target, {"delay", H5T_IEEE_F32LE, {1, 1, 0}}})),
                    "conn.h5: row 2: delay = 0", "> 0 ms");
}

TEST_F(synapse_file, h5_not_an_hdf5_file) {
    EXPECT_MENTIONS(error_of(csv("source,target\n", "conn.h5")), "conn.h5: cannot be read as an HDF5 file");
}

// --- either format --------------------------------------------------------------------------------

TEST_F(synapse_file, unknown_extension) {
    EXPECT_MENTIONS(error_of(csv("source,target\n", "conn.txt")), "conn.txt: unknown extension '.txt'", ".csv",
                    ".h5 / .hdf5");
    EXPECT_MENTIONS(columns_error_of(csv("source,target\n", "conn")), "conn: no extension");
}

TEST_F(synapse_file, missing_file) {
    EXPECT_MENTIONS(error_of(dir_ / "absent.csv"), "absent.csv: no such file");
    EXPECT_MENTIONS(columns_error_of(dir_ / "absent.h5"), "absent.h5: no such file");
}

// A unit the file names must be the projection's (a file of nA read as pA built another network
// without a word; found by a review): CSV "weight [pA]", HDF5 attribute `units`, as `ifsim
// synapses` writes them. Without a named unit the values are the projection's.
TEST_F(synapse_file, a_unit_the_file_names_must_be_the_projections) {
    synapse_file_limits pA = limits;
    pA.weight_unit = "pA";
    const auto t = read_synapse_file(csv("source,target,weight [pA],delay [ms]\n1,2,40,1.5\n"), pA);
    EXPECT_EQ(t.weight, doubles{40});
    EXPECT_EQ(t.delay_ms, doubles{1.5});
    EXPECT_MENTIONS(error_of(csv("source,target,weight [mV]\n1,2,0.5\n"), pA), "conn.csv: weight is in mV, the file says",
                    "this projection takes its weight in pA");
    EXPECT_MENTIONS(error_of(csv("source,target,delay [s]\n1,2,0.001\n"), pA), "delay is in s", "in ms");
    EXPECT_MENTIONS(error_of(csv("source [1],target\n1,2\n"), pA), "source is in 1", "neuron indices have no unit");
    EXPECT_MENTIONS(error_of(csv("source,target,weight [pA\n1,2,1\n"), pA), "a unit goes in brackets at the end");
    const h5_dataset source{"source", H5T_STD_U32LE, {1}}, target{"target", H5T_STD_U32LE, {2}};
    EXPECT_EQ(read_synapse_file(h5({source, target, {"weight", H5T_IEEE_F64LE, {40}, {}, "pA"},
                                    {"delay", H5T_IEEE_F64LE, {1.5}, {}, "ms"}}), pA).weight, doubles{40});
    EXPECT_MENTIONS(error_of(h5({source, target, {"weight", H5T_IEEE_F64LE, {0.04}, {}, "nA"}}), pA),
                    "conn.h5: weight is in nA, the file says", "this projection takes its weight in pA");
    // Spaces around the unit, as around a CSV header's "weight [ pA ]" (the attribute's were refused).
    EXPECT_EQ(read_synapse_file(h5({source, target, {"weight", H5T_IEEE_F64LE, {40}, {}, " pA "}}), pA).weight,
              doubles{40});
    EXPECT_EQ(read_synapse_file(csv("source,target,weight [ pA ]\n1,2,40\n"), pA).weight, doubles{40});
    EXPECT_EQ(read_synapse_file(csv("source,target,weight\n1,2,40\n"), pA).weight, doubles{40});
    // Fixed-length and space-padded (Fortran's) are read as the string; an attribute of two
    // strings is refused (it was read past its buffer).
    const fs::path file = h5({source, target, {"weight", H5T_IEEE_F64LE, {40}}});
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t set = H5Dopen2(f, "weight", H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 4);
    H5Tset_strpad(type, H5T_STR_SPACEPAD);
    const hsize_t two = 2;
    const hid_t pair_space = H5Screate_simple(1, &two, nullptr), scalar = H5Screate(H5S_SCALAR);
    const hid_t units = H5Acreate2(set, "units", type, scalar, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(units, type, "pA  "), 0);
    const hid_t other = H5Acreate2(set, "other", type, pair_space, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(other);
    H5Aclose(units);
    H5Sclose(scalar);
    H5Dclose(set);
    H5Fclose(f);
    EXPECT_EQ(read_synapse_file(file, pA).weight, doubles{40});
    const hid_t g = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t set2 = H5Dopen2(g, "weight", H5P_DEFAULT);
    H5Adelete(set2, "units");
    const hid_t both = H5Acreate2(set2, "units", type, pair_space, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(both, type, "pA  ms  "), 0);
    H5Aclose(both);
    H5Sclose(pair_space);
    H5Tclose(type);
    H5Dclose(set2);
    H5Fclose(g);
    EXPECT_MENTIONS(error_of(file, pA), "weight's attribute 'units' holds 2 values; expected one string");
}

}  // namespace
}  // namespace ifsim
