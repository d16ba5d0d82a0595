// The exit codes every subcommand but run shares (commands.hpp): a bad config is exit 2 with the
// message, any other failure exit 1 with the command named.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <string>

#include "commands.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::cli {

std::string failure_text(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e) == nullptr) return e.what();
    return std::string("out of memory (") + e.what() +
           "): this needs more memory than the process may have (free memory, ulimit -v, the job's "
           "limit); `ifsim check CONFIG` estimates what a run needs";
}

int stdout_written(int code) {
    errno = 0;
    std::cout.flush();
    if (std::fflush(stdout) == 0 && !std::ferror(stdout) && std::cout.good()) return code;
    // errno of the first failed write is gone by now; a closed pipe is the usual one.
    const int err = errno;
    std::cerr << "ifsim: cannot write to standard output"
              << (err != 0 ? std::string(": ") + std::strerror(err) : std::string(" (a closed pipe, a full disk)"))
              << "; what it printed is incomplete\n";
    return code == exit_ok ? exit_failure : code;
}

int reporting_errors(std::string_view command, const std::function<int()>& body) {
    try {
        return body();
    } catch (const config_error& e) {
        std::cerr << "ifsim: error: " << e.what() << "\n";
        return exit_bad_input;
    } catch (const std::exception& e) {
        std::cerr << "ifsim " << command << " failed: " << failure_text(e) << "\n";
        return exit_failure;
    }
}

}  // namespace ifsim::cli
