// Internal helpers over the HDF5 C API for the SONATA writers: RAII ids, errors turned into
// ifsim::runtime_failure with HDF5's error stack, extendible chunked datasets, attributes, and the
// write-to-.part-then-rename file. Not a public header.
#pragma once

#include <hdf5.h>
#include <signal.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ifsim::h5 {

// Serialises every HDF5 call ifsim makes (the Debian HDF5 is not built thread-safe) and turns off
// HDF5's automatic printing of errors to stderr; hold it around any HDF5 call.
std::unique_lock<std::mutex> lock();

// lock(), for reading a file that comes from outside this process (a synapse file, a run's
// spikes.h5), and while held a crash inside HDF5 ends the process with a message naming the file
// and exit 2, as for any other bad input: the library trusts a file's metadata, and a few damaged
// bytes had it read out of bounds (SIGSEGV) or corrupt the heap (SIGABRT) without a word. An
// output folder remove_if_empty_on_crash names goes too, if still empty. The handlers are the
// previous ones again once it is released. Whatever crashes while it is held is blamed on the
// file: hold it for the reading, no longer.
class reading_lock {
public:
    explicit reading_lock(const std::filesystem::path& file);
    ~reading_lock();
    reading_lock(const reading_lock&) = delete;
    reading_lock& operator=(const reading_lock&) = delete;

private:
    std::unique_lock<std::mutex> lock_;
    std::array<struct sigaction, 4> previous_{};
};

// "'<file>': HDF5 failed to <what>: <HDF5 error stack, outermost first>", with a full file
// system said; fail throws it as runtime_failure.
std::string failure(std::string_view what, const std::filesystem::path& file);
[[noreturn]] void fail(std::string_view what, const std::filesystem::path& file);

inline hid_t check_id(hid_t id, std::string_view what, const std::filesystem::path& file) {
    if (id < 0) fail(what, file);
    return id;
}
inline void check(herr_t status, std::string_view what, const std::filesystem::path& file) {
    if (status < 0) fail(what, file);
}

// Owns one HDF5 id of any kind (file, group, dataset, dataspace, type, property list) and drops
// its reference on destruction. Errors on release are ignored: nothing useful can be done there.
class handle {
public:
    handle() = default;
    explicit handle(hid_t id) : id_(id) {}
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    handle(handle&& other) noexcept : id_(other.release()) {}
    handle& operator=(handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = other.release();
        }
        return *this;
    }
    ~handle() { reset(); }

    hid_t get() const { return id_; }
    explicit operator bool() const { return id_ >= 0; }
    hid_t release() {
        const hid_t id = id_;
        id_ = H5I_INVALID_HID;
        return id;
    }
    void reset() {
        if (id_ >= 0) H5Idec_ref(id_);
        id_ = H5I_INVALID_HID;
    }

private:
    hid_t id_ = H5I_INVALID_HID;
};

// A group under `loc`, created.
handle create_group(hid_t loc, const std::string& name, const std::filesystem::path& file);

// An empty dataset of shape [0] (cols == 0) or [0 x cols] that grows along its first dimension,
// stored in chunks of chunk_rows (x chunk_cols, at most cols) elements.
handle create_extendible(hid_t loc, const std::string& name, hid_t file_type, hsize_t chunk_rows,
                         hsize_t chunk_cols, hsize_t cols, const std::filesystem::path& file);

// Extends `dataset` to at_row + rows rows and writes rows (x cols) elements of mem_type there.
void write_rows(hid_t dataset, hid_t mem_type, const void* data, hsize_t at_row, hsize_t rows,
                hsize_t cols, const std::filesystem::path& file);

// A fixed-size 1-D dataset holding `n` elements of `data`.
handle write_array(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, hsize_t n, const std::filesystem::path& file);

// Overwrites a fixed-size dataset completely (same shape).
void overwrite(hid_t dataset, hid_t mem_type, const void* data, const std::filesystem::path& file);

// Scalar attributes; an existing attribute of the same name is replaced.
void set_string_attribute(hid_t object, const std::string& name, const std::string& value,
                          const std::filesystem::path& file);
void set_uint8_attribute(hid_t object, const std::string& name, std::uint8_t value,
                         const std::filesystem::path& file);
// A scalar string attribute of `object` (fixed or variable length, any character set), or nothing
// where it is no single string. Errors are nothing too: the caller says what that means.
std::optional<std::string> string_attribute(hid_t object, const char* name);
// An HDF5 enum over uint8 with the listed (name, value) members, as libsonata's `sorting`.
void set_enum8_attribute(hid_t object, const std::string& name,
                         std::span<const std::pair<const char*, std::uint8_t>> members,
                         std::uint8_t value, const std::filesystem::path& file);

// An HDF5 file created as "<path>.part" and renamed to <path> by finish(). Closing the file id
// with H5F_CLOSE_STRONG closes any object still open in it.
class part_file {
public:
    part_file() = default;
    explicit part_file(const std::filesystem::path& path);

    hid_t id() const { return file_.get(); }
    const std::filesystem::path& path() const { return path_; }
    bool is_open() const { return static_cast<bool>(file_); }

    void flush();  // H5Fflush to the OS

    // Closes the file and renames .part to the final path; is_open() is false either way. A file
    // HDF5 cannot close is removed as remove_cut_short does, and the error says so; one whose
    // rename is refused is whole and stays .part.
    void finish();

    // Closes the file where open and removes its .part: one whose writes failed (a full disk, a
    // size limit) is no file to read, and would keep a full disk full, summary.json unwritten.
    // Returns the note for the error (cut_short_note and the size), empty where nothing was
    // removed; never throws.
    std::string remove_cut_short() noexcept;

    // Closes the file and removes the .part; never throws.
    void discard() noexcept;

private:
    std::filesystem::path path_;
    handle file_;
};

}  // namespace ifsim::h5
