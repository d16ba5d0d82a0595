// The exit codes every subcommand but run shares (commands.hpp): a bad config is exit 2 with the
// message, any other failure exit 1 with the command named.
#include <iostream>

#include "commands.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::cli {

int reporting_errors(std::string_view command, const std::function<int()>& body) {
    try {
        return body();
    } catch (const config_error& e) {
        std::cerr << "ifsim: error: " << e.what() << "\n";
        return exit_bad_input;
    } catch (const std::exception& e) {
        std::cerr << "ifsim " << command << " failed: " << e.what() << "\n";
        return exit_failure;
    }
}

}  // namespace ifsim::cli
