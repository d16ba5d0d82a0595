// The backend interface: a CPU or CUDA engine that owns the state of every population and advances
// it a block of steps per call (DESIGN.md principle 6: coarse calls, nothing per neuron).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ifsim/spec.hpp"

namespace ifsim {

// The spikes of one population in one block of steps, in step order and neuron order within a
// step, so that every backend produces the same sequence.
struct spike_list {
    std::vector<std::uint64_t> step;    // global step index
    std::vector<std::uint64_t> neuron;  // index within the population
    std::vector<double> offset;         // spike time inside the step as a fraction of dt, [0, 1]

    std::size_t size() const { return step.size(); }
    void clear() {
        step.clear();
        neuron.clear();
        offset.clear();
    }
};

// What a block of steps produced.
struct block_output {
    std::vector<spike_list> spikes;           // per population
    std::vector<std::vector<float>> samples;  // per state record: rows x neurons, row-major
    std::vector<std::uint64_t> sample_rows;   // per state record: rows in this block

    void clear();
};

// Which state variable a state_record samples: a neuron's, or its synaptic channel's state
// (I_syn [pA] of an exp_current channel, g_syn [nS] of an exp_conductance one).
enum class state_variable { V_m, w, I_noise, I_syn, g_syn };
inline bool is_synaptic(state_variable v) { return v == state_variable::I_syn || v == state_variable::g_syn; }
state_variable parse_state_variable(const std::string& name);

struct network_stats {
    std::uint64_t synapses = 0;
    double bytes_per_synapse = 0.0;  // as stored: target, weight, and delay where heterogeneous
    double build_s = 0.0;            // connectivity, weights and delays [s]
    std::uint64_t events = 0;        // synaptic events delivered (spikes x their synapses)
    std::vector<std::uint64_t> projection_synapses;  // per [[projection]], in config order
};

class backend {
public:
    virtual ~backend() = default;
    virtual std::string name() const = 0;    // "cpu" or "cuda"
    virtual std::string device() const = 0;  // e.g. "2 threads, -march=x86-64-v4" or the GPU's name
    // Advances every population from step `first_step` by `num_steps` steps. State records sample
    // the state at the start of every step that is a multiple of their interval.
    virtual void advance(std::uint64_t first_step, std::uint32_t num_steps, block_output& out) = 0;
    // Copies one state variable of one population to the host (tests, compare).
    virtual std::vector<double> state(std::size_t population, state_variable v) const = 0;
    // Copies a population's synaptic channel's exp state (I [pA] or g [nS], network.hpp's
    // channels_onto order) to the host; zeros for a delta channel, which holds none (compare).
    virtual std::vector<double> synaptic_state(std::size_t population, std::size_t channel) const = 0;
    // The network's size and the synaptic events delivered so far (zero without projections).
    virtual network_stats network() const { return {}; }
    // The bytes one step of every population must move at the least (memory_traffic.hpp).
    virtual double least_bytes_per_step() const = 0;
    // The copy bandwidth of the memory holding the state, measured now [bytes read + written / s].
    virtual double copy_bandwidth() const = 0;
};

std::unique_ptr<backend> make_cpu_backend(const run_spec& spec);

// The OpenMP threads of a run's host work (the CPU backend, network builds): simulation.threads,
// else OpenMP's default (OMP_NUM_THREADS, else the cores) held to max_threads. Both backends set
// them when made. Returns their number, as run_threads().
unsigned use_run_threads(const simulation_spec& sim);

// The threads a parallel region gets now: OpenMP's count, held to OMP_THREAD_LIMIT (which
// omp_get_max_threads does not apply).
unsigned run_threads();

// The CPUs this process may run on (its affinity: taskset's, a Slurm job's), 0 if unknown.
unsigned cpus_available();

}  // namespace ifsim
