// `ifsim theory`: the predicted rate of every neuron of a config, as CSV (see theory_table.hpp).
#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/simulation.hpp"
#include "ifsim/theory_table.hpp"

namespace ifsim::cli {

int theory(const std::filesystem::path& config, const std::vector<std::string>& overrides,
           const std::filesystem::path& csv_out) {
    return reporting_errors("theory", [&] {
        const std::string csv = theory_csv(load_config(config, overrides));
        if (csv_out.empty()) std::cout << csv;
        else write_file_atomically(csv_out, csv);
        return exit_ok;
    });
}

}  // namespace ifsim::cli
