// --set KEY=VALUE: edits to the TOML document before validation, so an override is checked exactly
// like the file. KEY is a dotted path; populations, generators, projections and reports are
// addressed by name or by index (a projection without a name by index only).
#include <array>
#include <optional>
#include <span>
#include <string>

#include "config_detail.hpp"
#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::config_detail {

namespace {

struct schema_node {
    enum class kind { value, table, list };  // list: an array of tables chosen by name or index
    std::string_view name;
    kind type;
    std::span<const schema_node> children;
};
using K = schema_node::kind;

constexpr std::array<schema_node, 6> simulation_schema = {{{"dt", K::value, {}},
                                                           {"duration", K::value, {}},
                                                           {"seed", K::value, {}},
                                                           {"precision", K::value, {}},
                                                           {"spike_timing", K::value, {}},
                                                           {"threads", K::value, {}}}};
constexpr std::array<schema_node, 14> params_schema = [] {
    std::array<schema_node, 14> out{};
    for (std::size_t i = 0; i < param_fields.size(); ++i) out[i] = {param_fields[i].name, K::value, {}};
    return out;
}();
constexpr std::array<schema_node, 3> init_schema = {
    {{"V_m", K::value, {}}, {"w", K::value, {}}, {"I_noise", K::value, {}}}};
constexpr std::array<schema_node, 2> steps_schema = {{{"times", K::value, {}}, {"amplitudes", K::value, {}}}};
constexpr std::array<schema_node, 2> noise_schema = {{{"sigma_V", K::value, {}}, {"bridge", K::value, {}}}};
constexpr std::array<schema_node, 2> ou_schema = {{{"sigma_I", K::value, {}}, {"tau_I", K::value, {}}}};
constexpr std::array<schema_node, 6> poisson_schema = {{{"rate", K::value, {}},
                                                        {"weight", K::value, {}},
                                                        {"count", K::value, {}},
                                                        {"synapse", K::value, {}},
                                                        {"tau_syn", K::value, {}},
                                                        {"E_rev", K::value, {}}}};
constexpr std::array<schema_node, 5> input_schema = {{{"I_e", K::value, {}},
                                                      {"steps", K::table, steps_schema},
                                                      {"noise", K::table, noise_schema},
                                                      {"ou", K::table, ou_schema},
                                                      {"poisson", K::table, poisson_schema}}};
constexpr std::array<schema_node, 6> population_schema = {{{"name", K::value, {}},
                                                           {"size", K::value, {}},
                                                           {"model", K::value, {}},
                                                           {"params", K::table, params_schema},
                                                           {"init", K::table, init_schema},
                                                           {"input", K::table, input_schema}}};
constexpr std::array<schema_node, 9> record_schema = {{{"spikes", K::value, {}},
                                                       {"state", K::value, {}},
                                                       {"population", K::value, {}},
                                                       {"projection", K::value, {}},
                                                       {"neurons", K::value, {}},
                                                       {"interval", K::value, {}},
                                                       {"name", K::value, {}},
                                                       {"start", K::value, {}},
                                                       {"stop", K::value, {}}}};
constexpr std::array<schema_node, 7> generator_schema = {{{"name", K::value, {}},
                                                          {"size", K::value, {}},
                                                          {"times", K::value, {}},
                                                          {"neurons", K::value, {}},
                                                          {"rate", K::value, {}},
                                                          {"start", K::value, {}},
                                                          {"stop", K::value, {}}}};
constexpr std::array<schema_node, 9> rule_schema = {{{"pairwise_bernoulli", K::value, {}},
                                                     {"fixed_indegree", K::value, {}},
                                                     {"fixed_outdegree", K::value, {}},
                                                     {"fixed_total", K::value, {}},
                                                     {"all_to_all", K::value, {}},
                                                     {"one_to_one", K::value, {}},
                                                     {"from_file", K::value, {}},
                                                     {"autapses", K::value, {}},
                                                     {"multapses", K::value, {}}}};
constexpr std::array<schema_node, 9> projection_schema = {{{"name", K::value, {}},
                                                           {"source", K::value, {}},
                                                           {"target", K::value, {}},
                                                           {"rule", K::table, rule_schema},
                                                           {"synapse", K::value, {}},
                                                           {"weight", K::value, {}},
                                                           {"delay", K::value, {}},
                                                           {"tau_syn", K::value, {}},
                                                           {"E_rev", K::value, {}}}};
constexpr std::array<schema_node, 5> root_schema = {{{"simulation", K::table, simulation_schema},
                                                     {"population", K::list, population_schema},
                                                     {"generator", K::list, generator_schema},
                                                     {"projection", K::list, projection_schema},
                                                     {"record", K::list, record_schema}}};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string string_at(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    return (n && n->is_string()) ? n->as_string()->get() : std::string();
}

// The name an element of a [[list]] answers to (a record's default name is default_record_name, as
// validation gives it); "" where it has none (a projection without one).
std::string element_name(const toml::table& t, std::string_view list) {
    if (t.contains("name")) return string_at(t, "name");
    if (list == "record" && t.contains("state")) {
        return default_record_name(string_at(t, "population"), string_at(t, "state"), t.get("projection"));
    }
    return {};
}

class override_error {
public:
    override_error(const context& ctx, std::string_view text) : prefix_(ctx.source + ": --set " + std::string(text) + ": ") {}
    [[noreturn]] void operator()(const std::string& message) const { throw config_error(prefix_ + message); }

private:
    std::string prefix_;
};

// VALUE as TOML ("5", "[1, 2]", "{ uniform = [...] }", "\"2 s\""), else the text as a string.
toml::table parse_value(std::string_view value) {
    try {
        const std::string text = "x = " + std::string(value);
        toml::table doc = toml::parse(std::string_view(text), std::string_view("--set"));
        if (doc.size() == 1 && doc.contains("x")) return doc;
    } catch (const toml::parse_error&) {
    }
    toml::table doc;
    doc.insert("x", std::string(value));
    return doc;
}

void apply_one(toml::table& root, std::string_view text, context& ctx) {
    const override_error fail(ctx, text);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos)
        fail("expected KEY=VALUE, e.g. simulation.dt=\"0.05 ms\" or population.E.size=500");
    const std::string_view key = trim(text.substr(0, eq));
    const std::string_view value = trim(text.substr(eq + 1));

    std::vector<std::string_view> segments;
    for (std::size_t start = 0;;) {
        const auto dot = key.find('.', start);
        segments.push_back(key.substr(start, dot == std::string_view::npos ? key.npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    for (auto s : segments)
        if (s.empty()) fail("KEY '" + std::string(key) + "' has an empty part; expected a dotted path such as population.E.params.V_th");

    toml::table* table = &root;
    std::span<const schema_node> level = root_schema;
    std::string path;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string_view seg = segments[i];
        const schema_node* node = nullptr;
        std::vector<std::string_view> names;
        for (const auto& s : level) {
            names.push_back(s.name);
            if (s.name == seg) node = &s;
        }
        if (node == nullptr) {
            fail("unknown key '" + child_path(path, seg) + "'" + did_you_mean(path, seg, names) +
                 " (" + (path.empty() ? std::string("the top level") : path) + " accepts: " + join(names) + ")");
        }
        const std::string here = child_path(path, seg);
        const bool last = i + 1 == segments.size();
        if (node->type == K::value || (node->type == K::table && last)) {
            if (!last) {
                std::string whole;
                for (std::size_t k = 0; k <= i; ++k) {
                    if (k > 0) whole += '.';
                    whole += segments[k];
                }
                fail("'" + here + "' holds a value; there is nothing inside it to set (set the whole value: " +
                     whole + "=...)");
            }
            toml::table parsed = parse_value(value);
            parsed.get("x")->visit([&](auto& v) { table->insert_or_assign(seg, v); });
            ctx.overridden.emplace_back(here, std::string(key) + "=" + std::string(value));
            return;
        }
        if (node->type == K::table) {
            toml::node* sub = table->get(seg);
            if (sub == nullptr) sub = table->insert(seg, toml::table{}).first->second.as_table();
            // rule = "all_to_all" is short for rule = { all_to_all = true }: a flag may be set inside.
            if (seg == "rule" && sub->is_string() &&
                (sub->as_string()->get() == "all_to_all" || sub->as_string()->get() == "one_to_one")) {
                toml::table expanded;
                expanded.insert(sub->as_string()->get(), true);
                sub = table->insert_or_assign(seg, std::move(expanded)).first->second.as_table();
            }
            // Not a table: the config is at fault, not the override (which --seed or --threads may
            // have made), and is told as the config check would tell it.
            if (!sub->is_table()) optional_table(ctx, *table, path, seg);
            table = sub->as_table();
            level = node->children;
            path = here;
            continue;
        }
        // A list element, by name or index.
        if (i + 2 >= segments.size())
            fail("expected " + std::string(seg) + ".<name or index>.<key>, e.g. " +
                 (seg == "population"   ? "population.E.size=500"
                  : seg == "projection" ? "projection.0.weight=\"0.2 mV\""
                                        : "record.E_V_m.interval=\"2 ms\""));
        const std::string_view selector = segments[++i];
        toml::array* list = table->get(seg) ? table->get(seg)->as_array() : nullptr;
        std::vector<std::string> known;
        toml::table* chosen = nullptr;
        std::size_t chosen_index = 0;
        for (std::size_t k = 0; list && k < list->size(); ++k) {
            auto* t = (*list)[k].as_table();
            if (t == nullptr) continue;
            const std::string name = element_name(*t, seg);
            if (!name.empty()) known.push_back(name);
            if (chosen == nullptr && name == selector) chosen = t, chosen_index = k;
        }
        if (chosen == nullptr && !selector.empty() &&
            selector.find_first_not_of("0123456789") == std::string_view::npos && selector.size() < 10) {
            const std::size_t k = std::stoul(std::string(selector));
            if (list && k < list->size() && (*list)[k].is_table()) chosen = (*list)[k].as_table(), chosen_index = k;
        }
        if (chosen == nullptr && seg == "projection" && known.empty())
            fail("no projection has index '" + std::string(selector) + "': projections without a name are " +
                 "chosen by their 0-based position in the file, projection.<index>.<key> (" +
                 (list && !list->empty() ? "index 0 .. " + std::to_string(list->size() - 1)
                                         : std::string("there is no [[projection]]; --set cannot add one")) +
                 ")");
        if (chosen == nullptr) {
            std::vector<std::string_view> views(known.begin(), known.end());
            const std::string near = suggest(selector, views);
            fail("no " + std::string(seg) + " is named '" + std::string(selector) + "'" +
                 (near.empty() ? "" : "; did you mean '" + near + "'?") + " (" + std::string(seg) +
                 (known.empty() ? " has no named entries" : " names: " + join(views)) +
                 (list ? "; or give an index 0 .. " + std::to_string(list->size() - 1) : "") + ")");
        }
        table = chosen;
        level = node->children;
        path = element_path(here, chosen_index);
    }
}

}  // namespace

void apply_overrides(toml::table& root, const std::vector<std::string>& overrides, context& ctx) {
    for (const auto& o : overrides) apply_one(root, o, ctx);
}

}  // namespace ifsim::config_detail
