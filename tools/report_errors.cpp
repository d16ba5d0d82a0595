// The exit codes every subcommand but run shares (commands.hpp): a bad config is exit 2 with the
// message, any other failure exit 1 with the command named.
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
