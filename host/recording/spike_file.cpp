// spike_file: the SONATA spike file, streamed in whole HDF5 chunks (see ifsim/recording.hpp).
#include "hdf5_util.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

namespace ifsim {

namespace {

constexpr std::array<std::pair<const char*, std::uint8_t>, 3> sorting_members{{
    {"none", static_cast<std::uint8_t>(spike_sorting::none)},
    {"by_id", static_cast<std::uint8_t>(spike_sorting::by_id)},
    {"by_time", static_cast<std::uint8_t>(spike_sorting::by_time)},
}};

void check_population_names(const std::vector<std::string>& names) {
    std::set<std::string> seen;
    for (const auto& name : names) {
        if (name.empty() || name == "." || name.find('/') != std::string::npos)
            throw std::invalid_argument("spike_file: population name '" + name +
                                        "' is not a valid HDF5 group name (non-empty, no '/')");
        if (!seen.insert(name).second)
            throw std::invalid_argument("spike_file: population '" + name + "' given twice");
    }
}

// One population's datasets and what is waiting to be written to them.
struct population_stream {
    std::string name;
    h5::handle group;
    h5::handle timestamps;  // /spikes/<name>/timestamps [ms]
    h5::handle node_ids;    // /spikes/<name>/node_ids
    std::vector<double> buffered_ms;          // spike times not yet written [ms]
    std::vector<std::uint64_t> buffered_ids;  // their node ids
    std::uint64_t written = 0;                // spikes in the file
    double last_ms = -std::numeric_limits<double>::infinity();
    spike_sorting sorting = spike_sorting::by_time;
};

}  // namespace

struct spike_file::impl {
    std::filesystem::path path;
    h5::part_file file;
    h5::handle spikes_group;
    std::vector<population_stream> populations;

    std::filesystem::path part() const { return part_path(path); }

    // Writes the first `n` buffered spikes of `p` and drops them from the buffer.
    void write_front(population_stream& p, std::size_t n) {
        if (n == 0) return;
        h5::write_rows(p.timestamps.get(), H5T_NATIVE_DOUBLE, p.buffered_ms.data(), p.written, n, 0,
                       part());
        h5::write_rows(p.node_ids.get(), H5T_NATIVE_UINT64, p.buffered_ids.data(), p.written, n, 0,
                       part());
        p.written += n;
        p.buffered_ms.erase(p.buffered_ms.begin(), p.buffered_ms.begin() + std::ptrdiff_t(n));
        p.buffered_ids.erase(p.buffered_ids.begin(), p.buffered_ids.begin() + std::ptrdiff_t(n));
    }

    void write_all() {
        for (auto& p : populations) write_front(p, p.buffered_ms.size());
    }

    // Drops every HDF5 object id before the file itself is closed.
    void release_objects() {
        for (auto& p : populations) {
            p.timestamps.reset();
            p.node_ids.reset();
            p.group.reset();
        }
        spikes_group.reset();
    }
};

spike_file::spike_file(const std::filesystem::path& path, std::vector<std::string> populations)
    : impl_(std::make_unique<impl>()) {
    check_population_names(populations);
    impl_->path = path;
    const auto part = impl_->part();
    auto guard = h5::lock();
    impl_->file = h5::part_file(path);
    try {
        impl_->spikes_group = h5::create_group(impl_->file.id(), "spikes", part);
        impl_->populations.reserve(populations.size());
        for (auto& name : populations) {
            population_stream p;
            p.name = std::move(name);
            p.group = h5::create_group(impl_->spikes_group.get(), p.name, part);
            h5::set_enum8_attribute(p.group.get(), "sorting", sorting_members,
                                    static_cast<std::uint8_t>(p.sorting), part);
            p.timestamps = h5::create_extendible(p.group.get(), "timestamps", H5T_IEEE_F64LE,
                                                 recording_chunk_elements, 0, 0, part);
            h5::set_string_attribute(p.timestamps.get(), "units", "ms", part);
            p.node_ids = h5::create_extendible(p.group.get(), "node_ids", H5T_STD_U64LE,
                                               recording_chunk_elements, 0, 0, part);
            impl_->populations.push_back(std::move(p));
        }
    } catch (...) {
        impl_->release_objects();
        impl_->file.discard();  // never opened for the run: nothing left
        throw;
    }
}

spike_file::~spike_file() {
    try {
        close();
    } catch (...) {
        // A destructor must not throw; close() has removed a file whose writes failed.
    }
}

spike_file::spike_file(spike_file&&) noexcept = default;

spike_file& spike_file::operator=(spike_file&& other) noexcept {
    if (this != &other) {
        try {
            close();
        } catch (...) {
        }
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void spike_file::append(std::size_t population_index, std::span<const double> timestamps_ms,
                        std::span<const std::uint64_t> node_ids) {
    if (!is_open()) throw std::logic_error("spike_file::append: the file is closed");
    if (population_index >= impl_->populations.size())
        throw std::invalid_argument("spike_file::append: population index " +
                                    std::to_string(population_index) + " out of range (" +
                                    std::to_string(impl_->populations.size()) + " populations)");
    if (timestamps_ms.size() != node_ids.size())
        throw std::invalid_argument("spike_file::append: " + std::to_string(timestamps_ms.size()) +
                                    " timestamps but " + std::to_string(node_ids.size()) +
                                    " node ids");
    if (timestamps_ms.empty()) return;

    auto& p = impl_->populations[population_index];
    if (p.sorting == spike_sorting::by_time) {
        double last = p.last_ms;
        for (const double t : timestamps_ms) {
            if (t < last) {
                p.sorting = spike_sorting::none;
                break;
            }
            last = t;
        }
    }
    p.last_ms = std::max(p.last_ms, timestamps_ms.back());
    p.buffered_ms.insert(p.buffered_ms.end(), timestamps_ms.begin(), timestamps_ms.end());
    p.buffered_ids.insert(p.buffered_ids.end(), node_ids.begin(), node_ids.end());

    // Write whole chunks only, so HDF5 never re-reads a partly written chunk.
    const std::size_t whole =
        p.buffered_ms.size() / recording_chunk_elements * recording_chunk_elements;
    if (whole > 0) {
        auto guard = h5::lock();
        impl_->write_front(p, whole);
    }
}

void spike_file::flush() {
    if (!is_open()) return;
    auto guard = h5::lock();
    impl_->write_all();
    impl_->file.flush();
}

void spike_file::close() {
    if (!is_open()) return;
    auto guard = h5::lock();
    const auto part = impl_->part();
    try {
        impl_->write_all();
        for (auto& p : impl_->populations)
            if (p.sorting != spike_sorting::by_time)
                h5::set_enum8_attribute(p.group.get(), "sorting", sorting_members,
                                        static_cast<std::uint8_t>(p.sorting), part);
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

void spike_file::discard() noexcept {
    if (!is_open()) return;
    auto guard = h5::lock();
    impl_->release_objects();
    impl_->file.discard();
}

bool spike_file::is_open() const { return impl_ && impl_->file.is_open(); }

const std::filesystem::path& spike_file::path() const { return impl_->path; }

std::size_t spike_file::num_populations() const { return impl_->populations.size(); }

std::uint64_t spike_file::num_spikes(std::size_t population_index) const {
    const auto& p = impl_->populations.at(population_index);
    return p.written + p.buffered_ms.size();
}

spike_sorting spike_file::sorting(std::size_t population_index) const {
    return impl_->populations.at(population_index).sorting;
}

}  // namespace ifsim
