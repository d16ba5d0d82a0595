// `ifsim synapses`: builds a config's network on the CPU, as a run does, and writes each
// projection's synapses as a file (synapse_export.hpp), with a config that reads them back
// (from_files.toml), replacing an earlier export in the folder.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "commands.hpp"
#include "ifsim/backend.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/network.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/synapse_export.hpp"

namespace ifsim::cli {

// How from_files.toml begins: an earlier export is known by it.
constexpr std::string_view export_header = "# Written by ifsim synapses";
// There from before an earlier export's files go until from_files.toml is written: an export
// stopped or failed part way, whose files the next export replaces.
constexpr const char* unfinished_marker = ".ifsim-synapses-unfinished";

namespace {

int stopped(const std::string& how_far) {
    std::fprintf(stderr, "ifsim: synapses stopped by a signal %s\n", how_far.c_str());
    return exit_interrupted;
}

}  // namespace

int synapses(const config_args& args, const std::filesystem::path& out_dir, const std::string& format) {
    return reporting_errors("synapses", [&] {
        const run_spec spec = load_config(args.config, args.all_overrides());
        if (spec.projections.empty())
            throw config_error(spec.source_path + ": no [[projection]]: there are no synapses to write");
        // The folder and the files' names first: a large network takes a while to build.
        std::error_code ec;
        std::filesystem::create_directories(out_dir, ec);
        if (ec) throw config_error(out_dir.string() + ": cannot create the output folder (" + ec.message() + ")");
        const std::filesystem::path dir = std::filesystem::absolute(out_dir);
        const output_folder_lock lock(dir);  // one writer at a time
        // Not a run's folder: clearing an earlier export would take a report named projection_<k>.
        if (std::filesystem::exists(dir / "summary.json", ec))
            throw config_error(out_dir.string() + " holds a run (summary.json); write the synapses to a folder of their own");
        const std::filesystem::path config = dir / "from_files.toml";
        if (std::filesystem::equivalent(config, args.config, ec))
            throw config_error(config.string() + " is the config given; choose another --out folder");
        const auto projection_file = [&](std::size_t k) {
            return dir / ("projection_" + std::to_string(k) + "." + format);
        };
        check_output_target(config);
        for (std::size_t k = 0; k < spec.projections.size(); ++k) check_output_target(projection_file(k));
        // Only an earlier export's files are replaced: from_files.toml as this command writes it,
        // and the projection files beside it; another file of those names (the user's) is refused.
        const bool has_config = std::filesystem::exists(config, ec);
        const bool earlier_export = has_config || std::filesystem::exists(dir / unfinished_marker, ec);
        if (has_config && !read_text_file(config).starts_with(export_header))
            throw config_error(out_dir.string() + " holds from_files.toml, which ifsim synapses did not write: an "
                               "export would replace it; move it, or choose another --out");
        for (std::size_t k = 0; k < spec.projections.size() && !earlier_export; ++k)
            if (std::filesystem::exists(projection_file(k), ec))
                throw config_error(out_dir.string() + " holds " + projection_file(k).filename().string() +
                                   ", which no ifsim export there wrote (no from_files.toml, nor an unfinished "
                                   "export's mark): an export would replace it; move it, or choose another --out");

        use_run_threads(spec.simulation);
        stop_on_signals();  // Ctrl-C while writing: no .part left, exit 130
        const network net = naming_the_config(spec, [&] { return build_network(spec); });
        if (stop_requested.load()) return stopped("before anything was written");
        // An earlier export's files go (another format, more projections): the folder holds one.
        // The mark first, so that a stop from here on leaves files the next export may replace;
        // then the config, so that it never lists files that are gone. Only where from_files.toml
        // or the mark says an export is there: a folder's own projection_<k>.csv stay.
        write_file_atomically(dir / unfinished_marker, "ifsim synapses is writing this folder, or stopped part way\n");
        std::filesystem::remove(config, ec);
        if (earlier_export)
            for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
                const std::string name = e.path().filename().string();
                const auto digits = name.find_first_not_of("0123456789", 11);
                if (name.starts_with("projection_") && digits > 11 && digits != std::string::npos &&
                    (name.substr(digits) == ".h5" || name.substr(digits) == ".csv"))
                    std::filesystem::remove(e.path(), ec);
            }
        // The same model with every rule replaced by its file: it runs the same synapses.
        run_spec from_files = spec;
        const auto written_so_far = [&](std::size_t k) {
            return "with " + std::to_string(k) + " of " + std::to_string(spec.projections.size()) +
                   " projections written and no from_files.toml";
        };
        for (std::size_t k = 0; k < spec.projections.size(); ++k) {
            if (stop_requested.load()) return stopped(written_so_far(k));
            const projection_spec& pr = spec.projections[k];
            const std::filesystem::path file = projection_file(k);
            std::uint64_t rows = 0;
            try {
                rows = write_synapse_file(file, net, k, spec.simulation.dt_ms, &stop_requested);
            } catch (const runtime_failure&) {
                if (stop_requested.load()) return stopped(written_so_far(k));
                throw;
            }
            std::printf("%s  projection %zu (%s -> %s): %llu synapses\n", file.string().c_str(), k, pr.source.c_str(),
                        pr.target.c_str(), (unsigned long long)rows);
            projection_spec& f = from_files.projections[k];
            f.rule = connection_rule{};
            f.rule.kind = rule_kind::from_file;
            f.rule.file = file.filename().string();  // relative to from_files.toml: the folder can move
            f.weight_from_file = f.delay_from_file = true;
        }
        if (stop_requested.load()) return stopped(written_so_far(spec.projections.size()));
        write_file_atomically(config, std::string(export_header) + " from " + spec.source_path +
                                          ": its projections as the files beside this one.\n" + to_toml(from_files));
        std::filesystem::remove(dir / unfinished_marker, ec);
        std::printf("%s  the config with these files as its projections\n", config.string().c_str());
        return exit_ok;
    });
}

}  // namespace ifsim::cli
