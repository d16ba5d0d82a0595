// Small text outputs (summary.json, config.resolved.toml, theory.csv): written whole or not at all.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"

namespace ifsim {

namespace {

void check_not_in_the_way(const std::filesystem::path& path) {
    std::error_code ec;
    // The rename would replace a link by the file, whatever it stands for (/dev/stdout, which
    // leads to a file where stdout is redirected to one): refused.
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec)))
        throw config_error("cannot write '" + path.string() + "': it is a link; give the name of a file (or of none)");
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status) || std::filesystem::is_regular_file(status)) return;
    throw config_error("cannot write '" + path.string() + "': " +
                       (std::filesystem::is_directory(status) ? "a folder" : "something other than a file") +
                       " of that name is in the way; move or remove it");
}

volatile std::sig_atomic_t deferred_signal = 0;
extern "C" void defer_signal(int sig) { deferred_signal = sig; }

// While one lives, SIGINT, SIGTERM and SIGHUP that would end the process (their default) wait, and
// end it once it is gone: a file written whole is in place first (theory --out, killed while it
// wrote 50 MB, left its .part). A command's own handler (run's stop flag) stays as it is. Process
// wide, as a signal may go to any thread (OpenMP's too).
class stops_deferred {
public:
    stops_deferred() {
        struct sigaction defer {};
        defer.sa_handler = defer_signal;
        sigemptyset(&defer.sa_mask);
        for (std::size_t k = 0; k < signals_.size(); ++k) {
            struct sigaction now {};
            replaced_[k] = sigaction(signals_[k], nullptr, &now) == 0 && now.sa_handler == SIG_DFL &&
                           sigaction(signals_[k], &defer, nullptr) == 0;
        }
    }
    ~stops_deferred() {
        for (std::size_t k = 0; k < signals_.size(); ++k)
            if (replaced_[k]) std::signal(signals_[k], SIG_DFL);
        if (const int sig = deferred_signal; sig != 0) std::raise(sig);
    }
    stops_deferred(const stops_deferred&) = delete;
    stops_deferred& operator=(const stops_deferred&) = delete;

private:
    static constexpr std::array<int, 3> signals_ = {SIGINT, SIGTERM, SIGHUP};
    std::array<bool, 3> replaced_{};
};

}  // namespace

std::filesystem::path part_path(const std::filesystem::path& path) {
    std::filesystem::path part = path;
    part += ".part";
    return part;
}

void check_output_target(const std::filesystem::path& path) {
    check_not_in_the_way(path);
    // A leftover .part is written over; one that is a link is removed first, or the write would go
    // through it into the file it points to.
    std::error_code ec;
    const std::filesystem::path part = part_path(path);
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(part, ec))) std::filesystem::remove(part, ec);
    check_not_in_the_way(part);
}

std::string read_text_file(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), {});
}

void write_part_file(const std::filesystem::path& path, const std::string& text) {
    check_output_target(path);
    const std::filesystem::path part = part_path(path);
    const auto fail = [&](const std::string& what, int err) {
        throw runtime_failure("cannot " + what + " '" + part.string() + "': " + std::strerror(err));
    };
    // O_NOFOLLOW: a link put there since check_output_target removed one is not written through.
    const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    std::FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "wb");
    if (!f) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        fail("create", err);
    }
    const std::size_t n = std::fwrite(text.data(), 1, text.size(), f);
    int err = n == text.size() ? 0 : (errno != 0 ? errno : EIO);
    if (std::fclose(f) != 0 && err == 0) err = errno != 0 ? errno : EIO;
    if (err != 0) {
        std::remove(part.c_str());
        fail("write", err);
    }
}

void commit_part_file(const std::filesystem::path& path) {
    const std::filesystem::path part = part_path(path);
    std::error_code ec;
    // rename() replaces an existing <path> atomically: readers see the old file or the new one.
    std::filesystem::rename(part, path, ec);
    if (ec) throw runtime_failure("cannot rename '" + part.string() + "' to '" + path.string() + "': " + ec.message());
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
    const stops_deferred wait;
    write_part_file(path, text);
    commit_part_file(path);
}

}  // namespace ifsim
