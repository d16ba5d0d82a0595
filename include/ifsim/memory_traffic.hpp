// The hardware floor of a run (bench/README.md): the bytes its step loop must read and write at the
// least, and the measured copy bandwidth that bounds how fast memory can move them. The floor is
// least bytes / copy bandwidth; where the data fits in cache a run can beat it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ifsim/network.hpp"
#include "ifsim/population_setup.hpp"

namespace ifsim {

// A ring-buffer slot, one neuron's fixed-point arrivals of one step on one channel, is an int64 on
// both backends (fixed_point.hpp).
inline constexpr std::size_t arrival_slot_bytes = sizeof(std::int64_t);

// The bytes one step of a population must move at the least: its state (V, the refractory state,
// and w and the OU current where the model and input have them) read and written once; parameters
// and bias currents that vary per neuron read once; per synaptic channel the step's arrival slot
// read and cleared (where it has a ring), and an exp channel's current or conductance read and
// written. Constant
// parameters stay in registers, and random numbers are generated, not loaded: no bytes.
template <class Model, class Real>
double least_bytes_per_step(const population_data<Model, Real>& d, const std::vector<synapse_channel>& channels) {
    const double n = double(d.size);
    const double state = double(!d.V.empty() + !d.ref.empty() + !d.w.empty() + !d.I_ou.empty());
    double bytes = 2.0 * state * sizeof(Real) * n;
    if (d.coeffs.size() > 1) bytes += double(d.coeffs.size()) * sizeof(d.coeffs[0]);
    if (d.I_e.size() > 1) bytes += double(d.I_e.size()) * sizeof(Real);
    for (const synapse_channel& c : channels)
        bytes += 2.0 * n * ((c.has_ring ? arrival_slot_bytes : 0) + (c.kind == synapse_kind::delta ? 0 : sizeof(Real)));
    return bytes;
}

// The bytes one synaptic event must move at the least: its synapse as stored (target, weight, and
// delay where heterogeneous) read once, and its target's arrival slot read and written.
inline double least_bytes_per_event(double bytes_per_synapse) {
    return bytes_per_synapse + 2.0 * arrival_slot_bytes;
}

// The copy size host_copy_bandwidth is measured with: far beyond any last-level cache.
inline constexpr std::size_t host_copy_bytes = std::size_t(256) << 20;

// Copy bandwidth of this machine's memory with every OpenMP thread (bytes read + written per
// second): the best of 5 copies between two arrays of `bytes` each. Throws runtime_failure if
// `bytes` is zero or the copy took no measurable time.
double host_copy_bandwidth(std::size_t bytes);

}  // namespace ifsim
