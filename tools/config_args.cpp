// config_args (commands.hpp): --seed and --threads as the overrides they stand for.
#include <string>

#include "commands.hpp"

namespace ifsim::cli {
namespace {

// Whether `override` (KEY=VALUE) sets `key`, spaces and tabs around the key allowed as in --set.
bool sets(const std::string& override, std::string_view key) {
    const auto eq = override.find('=');
    std::string_view k = std::string_view(override).substr(0, eq);
    while (!k.empty() && (k.front() == ' ' || k.front() == '\t')) k.remove_prefix(1);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.remove_suffix(1);
    return k == key;
}

void add(std::vector<std::string>& overrides, std::string_view option, std::string_view key,
         const std::string& value) {
    for (const auto& o : overrides)
        if (sets(o, key))
            throw config_error(std::string(option) + " " + value + " and --set " + o + " both set " +
                               std::string(key) + "; give one");
    overrides.push_back(std::string(key) + "=" + value);
}

}  // namespace

std::vector<std::string> config_args::all_overrides() const {
    std::vector<std::string> out = overrides;
    if (seed) add(out, "--seed", "simulation.seed", std::to_string(*seed));
    if (threads) add(out, "--threads", "simulation.threads", std::to_string(*threads));
    return out;
}

}  // namespace ifsim::cli
