// report_file: a SONATA frame report of one variable of one population, streamed in whole HDF5
// chunks (see ifsim/recording.hpp).
#include "hdf5_util.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ifsim {

struct report_file::impl {
    std::filesystem::path path;
    h5::part_file file;
    h5::handle data;  // /report/<population>/data [frame][node]
    h5::handle time;  // /report/<population>/mapping/time = start, stop, step [ms]
    std::size_t num_nodes = 0;
    hsize_t chunk_rows = 0;       // frames per chunk (and per write)
    double t_start_ms = 0;        // time of frame 0 [ms]
    double dt_ms = 0;             // time between frames [ms]
    std::vector<float> buffered;  // frames not yet written, row-major
    std::uint64_t written_rows = 0;

    std::filesystem::path part() const { return part_path(path); }
    std::size_t buffered_rows() const { return buffered.size() / num_nodes; }

    void write(const float* values, std::size_t rows) {
        h5::write_rows(data.get(), H5T_NATIVE_FLOAT, values, written_rows, rows, num_nodes, part());
        written_rows += rows;
    }

    void write_buffered() {
        write(buffered.data(), buffered_rows());
        buffered.clear();
    }

    void write_time() {
        // The interval is open on the right: no frame at stop.
        const std::array<double, 3> time_ms{
            t_start_ms, t_start_ms + static_cast<double>(written_rows) * dt_ms, dt_ms};
        h5::overwrite(time.get(), H5T_NATIVE_DOUBLE, time_ms.data(), part());
    }

    void release_objects() {
        data.reset();
        time.reset();
    }
};

report_chunks report_chunk_shape(std::uint64_t num_nodes) {
    const std::uint64_t n = std::max<std::uint64_t>(num_nodes, 1);
    const std::uint64_t blocks = (n + recording_chunk_elements - 1) / recording_chunk_elements;
    const std::uint64_t cols = (n + blocks - 1) / blocks;
    return {std::max<std::uint64_t>(1, recording_chunk_elements / cols), cols, blocks};
}

double report_bytes_on_disk(std::uint64_t num_nodes, std::uint64_t frames) {
    const report_chunks c = report_chunk_shape(num_nodes);
    const double stored_frames = double((frames + c.rows - 1) / c.rows * c.rows);
    return stored_frames * double(c.cols * c.col_blocks) * sizeof(float) + 20.0 * double(num_nodes);
}

report_file::report_file(const std::filesystem::path& path, const std::string& population,
                         const std::string& variable, const std::string& unit,
                         std::span<const std::uint64_t> node_ids, double t_start_ms, double dt_ms)
    : impl_(std::make_unique<impl>()) {
    if (population.empty() || population == "." || population.find('/') != std::string::npos)
        throw std::invalid_argument("report_file: population name '" + population +
                                    "' is not a valid HDF5 group name (non-empty, no '/')");
    if (node_ids.empty())
        throw std::invalid_argument("report_file: no nodes to record in population '" +
                                    population + "'");
    if (!std::isfinite(t_start_ms) || !std::isfinite(dt_ms) || !(dt_ms > 0))
        throw std::invalid_argument("report_file: start " + std::to_string(t_start_ms) +
                                    " ms and step " + std::to_string(dt_ms) +
                                    " ms must be finite with step > 0");

    auto& r = *impl_;
    r.path = path;
    r.num_nodes = node_ids.size();
    r.t_start_ms = t_start_ms;
    r.dt_ms = dt_ms;
    const report_chunks chunks = report_chunk_shape(r.num_nodes);
    const hsize_t chunk_cols = chunks.cols;
    r.chunk_rows = chunks.rows;
    r.buffered.reserve(r.chunk_rows * r.num_nodes);

    const auto part = r.part();
    auto guard = h5::lock();
    r.file = h5::part_file(path);
    try {
        h5::handle report = h5::create_group(r.file.id(), "report", part);
        h5::handle group = h5::create_group(report.get(), population, part);
        r.data = h5::create_extendible(group.get(), "data", H5T_IEEE_F32LE, r.chunk_rows,
                                       chunk_cols, r.num_nodes, part);
        h5::set_string_attribute(r.data.get(), "units", unit, part);
        h5::set_string_attribute(r.data.get(), "variable_name", variable, part);

        h5::handle mapping = h5::create_group(group.get(), "mapping", part);
        h5::handle ids = h5::write_array(mapping.get(), "node_ids", H5T_STD_U64LE,
                                         H5T_NATIVE_UINT64, node_ids.data(), node_ids.size(), part);
        h5::set_uint8_attribute(ids.get(), "sorted",
                                std::is_sorted(node_ids.begin(), node_ids.end()) ? 1 : 0, part);

        // One element (the soma, element id 0) per node: node i owns data column i.
        std::vector<std::uint64_t> index_pointers(r.num_nodes + 1);
        for (std::size_t i = 0; i <= r.num_nodes; ++i) index_pointers[i] = i;
        h5::write_array(mapping.get(), "index_pointers", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                        index_pointers.data(), index_pointers.size(), part);
        const std::vector<std::uint32_t> element_ids(r.num_nodes, 0);
        h5::write_array(mapping.get(), "element_ids", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                        element_ids.data(), element_ids.size(), part);

        const std::array<double, 3> time_ms{t_start_ms, t_start_ms, dt_ms};
        r.time = h5::write_array(mapping.get(), "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                 time_ms.data(), time_ms.size(), part);
        h5::set_string_attribute(r.time.get(), "units", "ms", part);
    } catch (...) {
        r.release_objects();
        r.file.discard();  // never opened for the run: nothing left
        throw;
    }
}

report_file::~report_file() {
    try {
        close();
    } catch (...) {
        // A destructor must not throw; close() has removed a file whose writes failed.
    }
}

report_file::report_file(report_file&&) noexcept = default;

report_file& report_file::operator=(report_file&& other) noexcept {
    if (this != &other) {
        try {
            close();
        } catch (...) {
        }
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void report_file::append_rows(std::span<const float> values, std::size_t n_rows) {
    if (!is_open()) throw std::logic_error("report_file::append_rows: the file is closed");
    auto& r = *impl_;
    if (n_rows > std::numeric_limits<std::size_t>::max() / r.num_nodes ||
        values.size() != n_rows * r.num_nodes)
        throw std::invalid_argument("report_file::append_rows: " + std::to_string(values.size()) +
                                    " values for " + std::to_string(n_rows) + " rows of " +
                                    std::to_string(r.num_nodes) + " nodes");
    if (n_rows == 0) return;

    const std::size_t chunk_rows = r.chunk_rows;
    const float* next = values.data();
    std::size_t rows_left = n_rows;

    // Top up a partly filled buffer first, then write whole chunks straight from `values`,
    // and keep the tail: every write but the last covers whole chunks.
    if (!r.buffered.empty()) {
        const std::size_t take = std::min(rows_left, chunk_rows - r.buffered_rows());
        r.buffered.insert(r.buffered.end(), next, next + take * r.num_nodes);
        next += take * r.num_nodes;
        rows_left -= take;
        if (r.buffered_rows() < chunk_rows) return;
        auto guard = h5::lock();
        r.write_buffered();
    }
    const std::size_t whole = rows_left / chunk_rows * chunk_rows;
    if (whole > 0) {
        auto guard = h5::lock();
        r.write(next, whole);
        next += whole * r.num_nodes;
        rows_left -= whole;
    }
    r.buffered.insert(r.buffered.end(), next, next + rows_left * r.num_nodes);
}

void report_file::flush() {
    if (!is_open()) return;
    auto guard = h5::lock();
    impl_->write_buffered();
    impl_->write_time();
    impl_->file.flush();
}

void report_file::close() {
    if (!is_open()) return;
    auto guard = h5::lock();
    try {
        impl_->write_buffered();
        impl_->write_time();
        impl_->release_objects();
        impl_->file.finish();
    } catch (const runtime_failure& e) {
        impl_->release_objects();
        if (!impl_->file.is_open()) throw;  // finish() failed, and said what became of the file
        throw runtime_failure(e.what() + impl_->file.remove_cut_short());
    } catch (...) {
        impl_->release_objects();
        impl_->file.remove_cut_short();
        throw;
    }
}

void report_file::discard() noexcept {
    if (!is_open()) return;
    auto guard = h5::lock();
    impl_->release_objects();
    impl_->file.discard();
}

bool report_file::is_open() const { return impl_ && impl_->file.is_open(); }

const std::filesystem::path& report_file::path() const { return impl_->path; }

std::size_t report_file::num_nodes() const { return impl_->num_nodes; }

std::uint64_t report_file::num_rows() const {
    return impl_->written_rows + impl_->buffered_rows();
}

}  // namespace ifsim
