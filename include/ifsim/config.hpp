// Reading and writing run configurations (TOML, see docs/config.md). A config is parsed, overridden
// (--set KEY=VALUE) and validated completely before anything is allocated; every problem is a
// config_error naming the file, the key, the bad value and what would be accepted.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// Parses TOML text into a run_spec with every default filled in. `source_name` (a file name or a
// label such as "<string>") starts every error message and becomes run_spec::source_path.
// `overrides` are "KEY=VALUE" strings applied to the document before validation, in order; KEY is a
// dotted path that addresses populations and reports by name or index
// ("population.E.params.V_th=-52 mV", "record.E_V_m.interval=2 ms", "record.0.spikes=[\"E\"]"),
// VALUE is a TOML value, or a plain string when it does not parse as one.
run_spec parse_config(std::string_view toml_text, std::string_view source_name,
                      const std::vector<std::string>& overrides = {});

// Reads `file` and parses it as parse_config does; an unreadable file is a config_error naming it.
run_spec load_config(const std::filesystem::path& file,
                     const std::vector<std::string>& overrides = {});

// The resolved config as TOML: every default written out, quantities as strings with their default
// unit, in the shortest form that reads back exactly. parse_config(to_toml(s), s.source_path)
// reproduces `s`.
std::string to_toml(const run_spec& spec);
// How to_toml's text begins: a run's config.resolved.toml is known by it.
inline constexpr std::string_view resolved_config_header = "# ifsim resolved config:";

// The candidate nearest to `word` by edit distance (case-insensitive, a transposition counts as
// one edit), or "" when none is close enough to be a plausible misspelling.
std::string suggest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace ifsim
