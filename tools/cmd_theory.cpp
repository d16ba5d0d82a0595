// `ifsim theory`: the predicted rate of every neuron of a config, as CSV (see theory_table.hpp).
#include <cctype>
#include <iostream>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/theory_table.hpp"

namespace ifsim::cli {

namespace {

// --out takes CSV: not the config itself, nor a name of the files a config or a run is kept in
// (`--out out/run/config.resolved.toml` replaced the run's config with a table).
void check_csv_target(const std::filesystem::path& csv_out, const std::filesystem::path& config) {
    std::error_code ec;
    if (std::filesystem::equivalent(csv_out, config, ec))
        throw config_error("--out " + csv_out.string() + " is the config given; name a CSV file");
    const std::string ext = csv_out.extension().string();
    std::string lower = ext;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));  // a.TOML too
    if (lower == ".toml" || lower == ".json" || lower == ".h5" || lower == ".hdf5")
        throw config_error("--out " + csv_out.string() + ": the theory is CSV; a " + ext +
                           " name is a config's or a run's file (name a .csv file)");
    // Its folder must be one, as run's --out must be (a file there is bad input, not a failure).
    const std::filesystem::path folder = csv_out.parent_path().empty() ? "." : csv_out.parent_path();
    if (!std::filesystem::is_directory(folder, ec))
        throw config_error("--out " + csv_out.string() + ": '" + folder.string() + "' " +
                           (std::filesystem::exists(folder, ec) ? "is not a folder" : "does not exist") +
                           "; name a CSV file in a folder that exists");
}

}  // namespace

int theory(const config_args& args, const std::filesystem::path& csv_out) {
    return reporting_errors("theory", [&] {
        if (!csv_out.empty()) check_csv_target(csv_out, args.config);
        const run_spec spec = load_config(args.config, args.all_overrides());
        const theory_table table = naming_the_config(spec, [&] { return make_theory_table(spec); });
        for (const auto& note : table.notes) std::cerr << "ifsim theory: " << note << "\n";
        if (csv_out.empty()) std::cout << table.csv;
        else write_file_atomically(csv_out, table.csv);
        return exit_ok;
    });
}

}  // namespace ifsim::cli
