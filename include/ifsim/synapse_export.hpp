// A built projection written as a synapse file (synapse_file.hpp's formats, by extension: .csv or
// .h5 / .hdf5), so that the from_file rule reads back the same synapses: NEST's GetConnections,
// for a network to inspect, analyse or run elsewhere.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "ifsim/network.hpp"

namespace ifsim {

// Writes projection k of `net` as rows source, target, weight, delay in CSR order (by source,
// then target): the weight as stored (its fixed-point value, in the synapse kind's unit: mV, pA
// or nS), the delay as its whole steps times dt_ms [ms]. Weights and delays read back to the same
// fixed-point values and steps (CSV: 17 significant digits). Written as <file>.part and renamed,
// so the file is whole or absent. Returns the number of rows. Throws runtime_failure, also when
// `stop` (set by a signal) is seen set between slices of 2^20 synapses: the .part goes.
std::uint64_t write_synapse_file(const std::filesystem::path& file, const network& net, std::size_t k, double dt_ms,
                                 const std::atomic<bool>* stop = nullptr);

}  // namespace ifsim
