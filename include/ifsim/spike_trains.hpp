// A run's spike file read back as spike trains, for statistics after the run (`ifsim stats`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ifsim {

// /spikes/<population> of a SONATA spike file (recording.hpp's writer) as one train per neuron,
// neurons 0 .. num_neurons - 1, each sorted [ms]. Throws runtime_failure where the file cannot be
// read, lacks the population, holds other types than SONATA's (floating-point timestamps in ms,
// integer node ids), or lists a node id outside 0 .. num_neurons - 1 or a time outside 0 .. end_ms
// (the configured run's end): a file that is not what the run wrote gives no statistics.
std::vector<std::vector<double>> read_spike_trains(const std::filesystem::path& file, const std::string& population,
                                                   std::uint64_t num_neurons, double end_ms);

}  // namespace ifsim
