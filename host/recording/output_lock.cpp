// The lock a command holds on its output folder while it writes there (recording.hpp).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"

namespace ifsim {

output_folder_lock::output_folder_lock(const std::filesystem::path& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) throw config_error("output folder '" + dir.string() + "' cannot be opened: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    const int err = errno;
    if (err == EWOULDBLOCK) {
        ::close(fd_);
        fd_ = -1;
        throw runtime_failure("output folder '" + dir.string() +
                              "' is in use: another ifsim process is writing there; wait for it to end, or choose "
                              "another folder (-o)");
    }
    // A file system that cannot lock a folder (NFS's emulated flock wants a file open for
    // writing: EBADF; ENOLCK, EINVAL elsewhere): written unlocked (docs/output.md).
    ::close(fd_);
    fd_ = -1;
}

output_folder_lock::~output_folder_lock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

output_folder_lock::output_folder_lock(output_folder_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

output_folder_lock& output_folder_lock::operator=(output_folder_lock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

}  // namespace ifsim
