// `ifsim theory`: the predicted rate of every neuron of a config, as CSV (see theory_table.hpp).
#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/simulation.hpp"
#include "ifsim/theory_table.hpp"

namespace ifsim::cli {

int theory(const std::filesystem::path& config, const std::vector<std::string>& overrides,
           const std::filesystem::path& csv_out) {
    try {
        const std::string csv = theory_csv(load_config(config, overrides));
        if (csv_out.empty()) std::cout << csv;
        else write_file_atomically(csv_out, csv);
        return exit_ok;
    } catch (const config_error& e) {
        std::cerr << "ifsim: error: " << e.what() << "\n";
        return exit_bad_input;
    } catch (const std::exception& e) {
        std::cerr << "ifsim theory failed: " << e.what() << "\n";
        return exit_failure;
    }
}

}  // namespace ifsim::cli
