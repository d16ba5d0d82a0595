// HDF5 C API helpers for the SONATA writers (see hdf5_util.hpp).
#include "hdf5_util.hpp"

#include "ifsim/errors.hpp"
#include "ifsim/memory.hpp"  // format_bytes
#include "ifsim/recording.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>
#include <system_error>

namespace ifsim::h5 {

namespace {

std::mutex& hdf5_mutex() {
    // Before HDF5's first call: no cleanup at exit. ifsim closes its files itself, and the
    // library's own pass segfaulted on a file whose writes had failed (a full disk, found by
    // testing one).
    static const herr_t no_atexit = H5dont_atexit();
    (void)no_atexit;
    static std::mutex m;
    return m;
}

// One line per entry of HDF5's error stack, outermost call first, e.g.
// "H5Fcreate(): unable to create file [File accessibility: Unable to open file]".
herr_t append_error(unsigned, const H5E_error2_t* err, void* client) {
    std::array<char, 128> major{}, minor{};
    H5Eget_msg(err->maj_num, nullptr, major.data(), major.size());
    H5Eget_msg(err->min_num, nullptr, minor.data(), minor.size());
    std::string line = std::string(err->func_name ? err->func_name : "?") + "(): " + (err->desc ? err->desc : "") +
                       " [" + major.data() + ": " + minor.data() + "]";
    for (char& c : line)
        if (c == '\n') c = ' ';  // HDF5 puts a newline inside some descriptions
    static_cast<std::vector<std::string>*>(client)->push_back(std::move(line));
    return 0;
}

// The operating system's words in an entry of HDF5's file driver ("..., errno = 28, error
// message = 'No space left on device', buf = ..."), or "" where it has none.
std::string system_error_in(const std::string& entry) {
    constexpr std::string_view key = "error message = '";
    const std::size_t at = entry.find(key);
    if (at == std::string::npos) return {};
    const std::size_t from = at + key.size(), to = entry.find('\'', from);
    return to == std::string::npos ? std::string() : entry.substr(from, to - from);
}

// The call ifsim made and the deepest entry, which names the cause; the entries between only pass
// it up. Where the deepest is the file driver's, its cause is the operating system's error, which
// is said alone (the entry also lists the time, the buffer's address and the sizes).
std::string error_stack_text() {
    std::vector<std::string> entries;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_error, &entries);
    H5Eclear2(H5E_DEFAULT);
    if (entries.empty()) return {};
    if (const std::string os = system_error_in(entries.back()); !os.empty()) return entries.front() + ": " + os;
    return entries.size() == 1 ? entries[0] : entries.front() + "; ...; " + entries.back();
}

// What a crash while a reading_lock is held prints, made beforehand: a signal handler may only
// write it.
std::array<char, 4096> crash_message{};
std::size_t crash_message_length = 0;
std::array<char, 4096> crash_folder{};  // remove_if_empty_on_crash's, NUL-terminated; "" for none
constexpr std::array<int, 4> crash_signals = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE};

extern "C" void on_crash_while_reading(int) {
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, crash_message.data(), crash_message_length);
    if (crash_folder[0] != '\0') ::rmdir(crash_folder.data());  // only if empty
    ::_exit(2);
}

}  // namespace

}  // namespace ifsim::h5

namespace ifsim {

void remove_if_empty_on_crash(const std::filesystem::path& folder) {
    const std::string path = folder.string();
    // A path too long to keep is left behind, as before this existed.
    const std::size_t n = path.size() < h5::crash_folder.size() ? path.size() : 0;
    std::memcpy(h5::crash_folder.data(), path.data(), n);
    h5::crash_folder[n] = '\0';
}

}  // namespace ifsim

namespace ifsim::h5 {

reading_lock::reading_lock(const std::filesystem::path& file) : lock_(lock()) {
    std::string text = "ifsim: error: '";
    text += file.string();
    text += "': HDF5 crashed reading it (a damaged file, or one another program is writing); `h5dump -H` shows "
            "what HDF5 makes of it\n";
    crash_message_length = std::min(text.size(), crash_message.size());
    std::memcpy(crash_message.data(), text.data(), crash_message_length);
    struct sigaction crash {};
    crash.sa_handler = on_crash_while_reading;
    sigemptyset(&crash.sa_mask);
    for (std::size_t k = 0; k < crash_signals.size(); ++k) sigaction(crash_signals[k], &crash, &previous_[k]);
}

reading_lock::~reading_lock() {
    for (std::size_t k = 0; k < crash_signals.size(); ++k) sigaction(crash_signals[k], &previous_[k], nullptr);
}

std::unique_lock<std::mutex> lock() {
    std::unique_lock<std::mutex> guard(hdf5_mutex());
    // Per thread in a thread-safe HDF5, global otherwise; cheap either way.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return guard;
}

std::string failure(std::string_view what, const std::filesystem::path& file) {
    const std::string stack = error_stack_text();
    std::string message = "'";
    message += file.string();
    message += "': HDF5 failed to ";
    message += what;
    // HDF5 says "file write failed", not why; a full disk is the usual reason.
    std::error_code ec;
    const auto space = std::filesystem::space(file.parent_path().empty() ? "." : file.parent_path(), ec);
    if (!ec && space.available < (std::uintmax_t{1} << 20))
        message += " (the file system holding it is full: " + std::to_string(space.available / 1024) + " KiB free)";
    if (!stack.empty()) message += ": " + stack;
    return message;
}

void fail(std::string_view what, const std::filesystem::path& file) { throw runtime_failure(failure(what, file)); }

namespace {

// A creation property list of `cls` (group, dataset, file) without object times: HDF5 stamps each
// object with the time it was made by default, so that the same run twice wrote files that differ
// in those bytes alone. Without them the same config and seed give the same files, byte for byte.
handle untimed(hid_t cls, std::string_view what, const std::filesystem::path& file) {
    handle plist(check_id(H5Pcreate(cls), what, file));
    check(H5Pset_obj_track_times(plist.get(), false), what, file);
    return plist;
}

}  // namespace

handle create_group(hid_t loc, const std::string& name, const std::filesystem::path& file) {
    const std::string what = "create group '" + name + "'";
    handle gcpl = untimed(H5P_GROUP_CREATE, what, file);
    return handle(check_id(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), what, file));
}

handle create_extendible(hid_t loc, const std::string& name, hid_t file_type, hsize_t chunk_rows,
                         hsize_t chunk_cols, hsize_t cols, const std::filesystem::path& file) {
    const int rank = cols == 0 ? 1 : 2;
    const std::array<hsize_t, 2> dims{0, cols};
    const std::array<hsize_t, 2> max_dims{H5S_UNLIMITED, cols};
    const std::array<hsize_t, 2> chunk{chunk_rows, chunk_cols};
    const std::string what = "create dataset '" + name + "'";
    handle space(check_id(H5Screate_simple(rank, dims.data(), max_dims.data()), what, file));
    handle dcpl = untimed(H5P_DATASET_CREATE, what, file);
    check(H5Pset_chunk(dcpl.get(), rank, chunk.data()), what, file);
    // Writes cover whole chunks, each written once: HDF5's chunk cache would only add a copy.
    handle dapl(check_id(H5Pcreate(H5P_DATASET_ACCESS), what, file));
    check(H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0), what, file);
    return handle(check_id(
        H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
        what, file));
}

void write_rows(hid_t dataset, hid_t mem_type, const void* data, hsize_t at_row, hsize_t rows,
                hsize_t cols, const std::filesystem::path& file) {
    if (rows == 0) return;
    const int rank = cols == 0 ? 1 : 2;
    const std::array<hsize_t, 2> new_dims{at_row + rows, cols};
    const std::array<hsize_t, 2> start{at_row, 0};
    const std::array<hsize_t, 2> count{rows, cols};
    constexpr std::string_view what = "append to a dataset";
    check(H5Dset_extent(dataset, new_dims.data()), what, file);
    handle file_space(check_id(H5Dget_space(dataset), what, file));
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                              count.data(), nullptr),
          what, file);
    handle mem_space(check_id(H5Screate_simple(rank, count.data(), nullptr), what, file));
    check(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), what,
          file);
}

handle write_array(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, hsize_t n, const std::filesystem::path& file) {
    const std::string what = "write dataset '" + name + "'";
    handle space(check_id(H5Screate_simple(1, &n, nullptr), what, file));
    handle dcpl = untimed(H5P_DATASET_CREATE, what, file);
    handle dataset(check_id(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                       dcpl.get(), H5P_DEFAULT),
                            what, file));
    if (n > 0)
        check(H5Dwrite(dataset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what, file);
    return dataset;
}

void overwrite(hid_t dataset, hid_t mem_type, const void* data, const std::filesystem::path& file) {
    check(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "rewrite a dataset",
          file);
}

namespace {

// Replaces attribute `name` of `object` by a scalar one of `type` holding *value.
void set_attribute(hid_t object, const std::string& name, hid_t type, const void* value,
                   const std::filesystem::path& file) {
    const std::string what = "write attribute '" + name + "'";
    const htri_t exists = H5Aexists(object, name.c_str());
    check(exists, what, file);
    if (exists > 0) check(H5Adelete(object, name.c_str()), what, file);
    handle space(check_id(H5Screate(H5S_SCALAR), what, file));
    handle attr(check_id(
        H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), what, file));
    check(H5Awrite(attr.get(), type, value), what, file);
}

}  // namespace

void set_string_attribute(hid_t object, const std::string& name, const std::string& value,
                          const std::filesystem::path& file) {
    // Variable-length UTF-8, as libsonata writes it: h5py reads it back as str, not bytes.
    const std::string what = "write attribute '" + name + "'";
    handle type(check_id(H5Tcopy(H5T_C_S1), what, file));
    check(H5Tset_size(type.get(), H5T_VARIABLE), what, file);
    check(H5Tset_cset(type.get(), H5T_CSET_UTF8), what, file);
    const char* text = value.c_str();
    set_attribute(object, name, type.get(), &text, file);
}

std::optional<std::string> string_attribute(hid_t object, const char* name) {
    handle a(H5Aopen(object, name, H5P_DEFAULT));
    if (!a) return std::nullopt;
    handle type(H5Aget_type(a.get())), space(H5Aget_space(a.get()));
    if (!type || !space || H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_npoints(space.get()) != 1)
        return std::nullopt;
    handle mem(H5Tcopy(H5T_C_S1));
    if (H5Tset_cset(mem.get(), H5Tget_cset(type.get())) < 0) return std::nullopt;  // HDF5 converts no UTF-8 to ASCII
    if (H5Tis_variable_str(type.get()) > 0) {
        char* text = nullptr;
        if (H5Tset_size(mem.get(), H5T_VARIABLE) < 0 || H5Aread(a.get(), mem.get(), &text) < 0 || text == nullptr)
            return std::nullopt;
        std::string out(text);
        H5free_memory(text);
        return out;
    }
    std::string out(H5Tget_size(type.get()), '\0');
    if (out.empty() || H5Tset_size(mem.get(), out.size()) < 0 || H5Aread(a.get(), mem.get(), out.data()) < 0)
        return std::nullopt;
    return out.substr(0, out.find('\0'));
}

void set_uint8_attribute(hid_t object, const std::string& name, std::uint8_t value,
                         const std::filesystem::path& file) {
    set_attribute(object, name, H5T_STD_U8LE, &value, file);
}

void set_enum8_attribute(hid_t object, const std::string& name,
                         std::span<const std::pair<const char*, std::uint8_t>> members,
                         std::uint8_t value, const std::filesystem::path& file) {
    const std::string what = "write attribute '" + name + "'";
    handle type(check_id(H5Tenum_create(H5T_STD_U8LE), what, file));
    for (const auto& [member, v] : members)
        check(H5Tenum_insert(type.get(), member, &v), what, file);
    set_attribute(object, name, type.get(), &value, file);
}

part_file::part_file(const std::filesystem::path& path) : path_(path) {
    check_output_target(path);
    const auto part = part_path(path);
    handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "create", part));
    check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "create", part);
    handle fcpl = untimed(H5P_FILE_CREATE, "create", part);  // the root group's times
    file_ = handle(check_id(H5Fcreate(part.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                            "create the file", part));
}

void part_file::flush() {
    check(H5Fflush(file_.get(), H5F_SCOPE_LOCAL), "flush", part_path(path_));
}

void part_file::finish() {
    if (!file_) return;
    const auto part = part_path(path_);
    if (H5Fclose(file_.release()) < 0) {
        const std::string message = failure("close the file", part);
        throw runtime_failure(message + remove_cut_short());
    }
    std::error_code ec;
    // rename() replaces an existing <path> atomically: readers see the old file or the new one.
    std::filesystem::rename(part, path_, ec);
    if (ec)
        throw runtime_failure("cannot rename '" + part.string() + "' to '" + path_.string() +
                              "': " + ec.message());
}

std::string part_file::remove_cut_short() noexcept {
    if (file_) H5Fclose(file_.release());
    const auto part = part_path(path_);
    std::error_code ec;
    const std::uintmax_t bytes = std::filesystem::file_size(part, ec);
    if (ec || !std::filesystem::remove(part, ec)) return {};
    try {
        std::string note(cut_short_note);
        note += format_bytes(double(bytes));
        note += ") was removed";
        return note;
    } catch (...) {
        return {};
    }
}

void part_file::discard() noexcept {
    if (!file_) return;
    H5Fclose(file_.release());
    std::error_code ec;
    std::filesystem::remove(part_path(path_), ec);
}

}  // namespace ifsim::h5
