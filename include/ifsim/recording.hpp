// SONATA HDF5 writers for the outputs of a run: the spike file and per-variable report files.
// Layout and the reasons behind it: docs/output.md. HDF5 stays out of this header (pimpl).
//
// Both writers stream: data is buffered in memory and written in whole chunks as it arrives, so a
// run of any length needs bounded memory. Both write to "<path>.part" and rename it to <path> on
// close(); the destructor does the same if close() was never called (an exception unwinding the
// run), so what was recorded up to then is a valid file. A process killed hard leaves only the
// .part file, never a half-written file under the final name (DESIGN.md principle 8).
//
// HDF5 failures throw ifsim::runtime_failure carrying HDF5's error stack and the file name;
// violated preconditions (wrong span sizes, bad indices) throw std::invalid_argument.
//
// Threads: one object must not be used from two threads at once, but different objects may be
// used from different threads (the HDF5 calls of all writers are serialised internally, so a
// non-thread-safe HDF5 build is fine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ifsim {

// Elements per HDF5 chunk (and per write) in the spike and report datasets.
inline constexpr std::size_t recording_chunk_elements = std::size_t{1} << 16;

// A report's data is stored in chunks of `rows` frames by `cols` nodes, about
// recording_chunk_elements values each: several frames of all nodes for a small report (cheap to
// read one node's trace), part of one frame for a large one (a bounded buffer), the nodes split
// into `col_blocks` blocks of equal width (65,537 nodes as 65,536 and 1 took two whole chunks a
// frame). HDF5 stores every chunk whole, the last frames' too.
struct report_chunks {
    std::uint64_t rows, cols, col_blocks;
};
report_chunks report_chunk_shape(std::uint64_t num_nodes);
// A report's size on disk, at least: whole chunks of float32 for `frames` frames, and its mapping
// (node ids, index pointers and element ids, 20 B a node).
double report_bytes_on_disk(std::uint64_t num_nodes, std::uint64_t frames);

// Values of the SONATA `sorting` attribute of /spikes/<population>: an HDF5 enum over uint8, as
// libsonata writes and reads it.
enum class spike_sorting : std::uint8_t { none = 0, by_id = 1, by_time = 2 };

// How a file's close() error goes on where it removed the file, cut short by failed writes
// ("; the file (cut short at 300 KiB) was removed").
inline constexpr std::string_view cut_short_note = "; the file (cut short at ";

// A SONATA spike file: /spikes/<population>/{timestamps [ms, float64], node_ids [uint64]}.
//
// Callers append in time order (node order within one time step); the file then carries
// sorting = by_time. Should a population ever receive an earlier time than one already appended,
// it is marked sorting = none instead, so the attribute never lies.
class spike_file {
public:
    // Creates <path>.part with one group per population (empty populations included).
    // Population names must be non-empty, unique, and contain no '/'.
    spike_file(const std::filesystem::path& path, std::vector<std::string> populations);
    ~spike_file();  // closes (as close()) if still open; never throws

    spike_file(const spike_file&) = delete;
    spike_file& operator=(const spike_file&) = delete;
    spike_file(spike_file&&) noexcept;
    spike_file& operator=(spike_file&&) noexcept;

    // Appends spikes of one population; timestamps_ms.size() must equal node_ids.size().
    void append(std::size_t population_index, std::span<const double> timestamps_ms,
                std::span<const std::uint64_t> node_ids);

    // Writes everything buffered and flushes the file to the OS (the file stays .part).
    void flush();

    // Writes what is buffered, closes the file and renames <path>.part to <path>. Idempotent.
    void close();
    // Closes the file and removes <path>.part: a run that never started leaves nothing. Never throws.
    void discard() noexcept;

    bool is_open() const;
    const std::filesystem::path& path() const;                     // the final path
    std::size_t num_populations() const;
    std::uint64_t num_spikes(std::size_t population_index) const;  // appended so far
    spike_sorting sorting(std::size_t population_index) const;      // what close() will record

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// A SONATA report for one state variable of one population, one value per node per frame:
// /report/<population>/data [n_frames x n_nodes] float32, mapping/{node_ids, index_pointers,
// element_ids, time}. Frame i is at time t_start_ms + i * dt_ms.
class report_file {
public:
    // node_ids must be non-empty; dt_ms > 0 and t_start_ms finite. `unit` is stored as the data's
    // `units` attribute (e.g. "mV"), `variable` as its `variable_name` attribute (e.g. "V_m").
    report_file(const std::filesystem::path& path, const std::string& population,
                const std::string& variable, const std::string& unit,
                std::span<const std::uint64_t> node_ids, double t_start_ms, double dt_ms);
    ~report_file();  // closes (as close()) if still open; never throws

    report_file(const report_file&) = delete;
    report_file& operator=(const report_file&) = delete;
    report_file(report_file&&) noexcept;
    report_file& operator=(report_file&&) noexcept;

    // Appends n_rows frames, row-major [row][node]; values.size() must be n_rows * num_nodes().
    void append_rows(std::span<const float> values, std::size_t n_rows);

    // Writes everything buffered, updates mapping/time and flushes to the OS (stays .part).
    void flush();

    // Writes what is buffered, sets mapping/time stop = t_start + n_rows * dt, closes the file and
    // renames <path>.part to <path>. Idempotent.
    void close();
    // Closes the file and removes <path>.part: a run that never started leaves nothing. Never throws.
    void discard() noexcept;

    bool is_open() const;
    const std::filesystem::path& path() const;  // the final path
    std::size_t num_nodes() const;
    std::uint64_t num_rows() const;              // frames appended so far

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// A folder this process made for its outputs, which an error removes again while it is empty: so
// does a crash of HDF5 on a damaged input file (which ends the process at once, exit 2: the
// h5::reading_lock of host/recording/hdf5_util.hpp), where it is still empty. The last folder named
// is the one; "" names none.
void remove_if_empty_on_crash(const std::filesystem::path& folder);

// Held while a command writes into an output folder, so that a second ifsim writing there fails at
// once, naming the folder (runtime_failure), instead of truncating the first one's files: an
// exclusive flock on the folder itself, which leaves no file behind and ends with the process
// however it ends. Where the file system cannot lock a folder (NFS: its flock needs a file open
// for writing) the folder is written unlocked. config_error if the folder cannot be opened.
class output_folder_lock {
public:
    explicit output_folder_lock(const std::filesystem::path& dir);
    ~output_folder_lock();
    output_folder_lock(const output_folder_lock&) = delete;
    output_folder_lock& operator=(const output_folder_lock&) = delete;
    output_folder_lock(output_folder_lock&&) noexcept;
    output_folder_lock& operator=(output_folder_lock&&) noexcept;

private:
    int fd_ = -1;
};

// "<path>.part": where every output file is written before it is renamed to `path`.
std::filesystem::path part_path(const std::filesystem::path& path);

// Throws config_error if `path` or its part_path exists and is not a regular file (a folder in the
// way), or `path` is a link (/dev/stdout): checked before a run or an export starts, not found when its file is renamed into place at the end. A part_path that is
// a link is removed, so that nothing is written through it.
void check_output_target(const std::filesystem::path& path);

// A small text file read whole (summary.json, config.resolved.toml); empty where it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Writes `text` to `path` through "<path>.part" and a rename, so `path` is never half written;
// SIGINT, SIGTERM and SIGHUP wait until it is done. runtime_failure naming the file and the
// system's reason if it cannot; a .part that cannot be renamed stays (docs/output.md).
void write_file_atomically(const std::filesystem::path& path, const std::string& text);
// Its two halves, for a file that must be whole before something else may go (a run writes its
// config before it removes an earlier run's files): `text` written to "<path>.part" (removed
// again if that fails), then the rename.
void write_part_file(const std::filesystem::path& path, const std::string& text);
void commit_part_file(const std::filesystem::path& path);

}  // namespace ifsim
