// parse_config and load_config: TOML text -> overrides -> validated run_spec.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config_detail.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {

run_spec parse_config(std::string_view toml_text, std::string_view source_name,
                      const std::vector<std::string>& overrides) {
    config_detail::context ctx;
    ctx.source = std::string(source_name);
    ctx.base_dir = std::filesystem::path(source_name).parent_path();
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        throw config_error(ctx.source + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) +
                           ": not valid TOML: " + std::string(e.description()));
    }
    config_detail::apply_overrides(root, overrides, ctx);
    run_spec spec = config_detail::build_spec(root, ctx);
    spec.source_path = std::string(source_name);
    return spec;
}

run_spec load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw config_error(file.string() + ": cannot read the config file: " +
                           (ec ? ec.message()
                               : std::filesystem::exists(file, ec) ? "not a regular file"
                                                                   : "no such file"));
    std::ifstream in(file, std::ios::binary);
    if (!in.is_open())
        throw config_error(file.string() + ": cannot read the config file: " + std::strerror(errno));
    std::ostringstream text;
    if (in.peek() != std::ifstream::traits_type::eof()) text << in.rdbuf();
    if (in.bad()) throw config_error(file.string() + ": cannot read the config file: read error");
    return parse_config(text.str(), file.string(), overrides);
}

}  // namespace ifsim
