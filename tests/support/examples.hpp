// The examples at a size the emulated device (tests/emulated/device.hpp) steps in about a second
// each: 30 ms, or until the first spikes (adaptation's step current starts at 100 ms, qif_onset's
// neurons start at rest); Brunel at a tenth of its size, noisy_lif at 2,000 of its 10,000 neurons.
// Not the microcircuit: 3e8 synapses take minutes there at any duration worth running.
#pragma once

#include <string>
#include <vector>

namespace ifsim::test {

struct small_example {
    std::string name;                    // examples/<name>.toml
    std::vector<std::string> overrides;  // KEY=VALUE, as --set takes them
};

inline const std::vector<small_example>& small_examples() {
    static const std::vector<small_example> all = {
        {"adaptation", {"simulation.duration=150ms"}},
        {"brunel",
         {"simulation.duration=30ms", "population.0.size=1000", "population.1.size=250",
          "projection.0.rule.fixed_indegree=100", "projection.1.rule.fixed_indegree=100",
          "projection.2.rule.fixed_indegree=25", "projection.3.rule.fixed_indegree=25"}},
        {"eif_vs_lif", {"simulation.duration=30ms"}},
        {"fi_curve", {"simulation.duration=30ms"}},
        {"fi_curve_noisy", {"simulation.duration=30ms"}},
        {"noisy_lif", {"simulation.duration=30ms", "population.0.size=2000"}},
        {"qif_onset", {"simulation.duration=100ms"}},
        {"synaptic_shot_noise", {"simulation.duration=30ms"}},
        {"vogels_abbott", {"simulation.duration=30ms"}},
    };
    return all;
}

// The examples left out of small_examples(), each for its reason above.
inline const std::vector<std::string>& examples_too_large_to_emulate() {
    static const std::vector<std::string> names = {"microcircuit"};
    return names;
}

}  // namespace ifsim::test
