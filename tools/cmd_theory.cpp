// `ifsim theory`: the predicted rate of every neuron of a config, as CSV (see theory_table.hpp).
#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/theory_table.hpp"

namespace ifsim::cli {

int theory(const config_args& args, const std::filesystem::path& csv_out) {
    return reporting_errors("theory", [&] {
        const theory_table table = make_theory_table(load_config(args.config, args.all_overrides()));
        for (const auto& note : table.notes) std::cerr << "ifsim theory: " << note << "\n";
        if (csv_out.empty()) std::cout << table.csv;
        else write_file_atomically(csv_out, table.csv);
        return exit_ok;
    });
}

}  // namespace ifsim::cli
