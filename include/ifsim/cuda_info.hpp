// What the CUDA runtime reports about this machine. Plain C++: the CLI includes it whether or not
// the CUDA library was built; query_cuda() is defined in kernels/ only when it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ifsim/memory.hpp"  // memory_part
#include "ifsim/random.hpp"
#include "ifsim/spec.hpp"  // run_spec, default_block_steps

namespace ifsim {

struct cuda_device {
    int ordinal = 0;                 // the runtime's device number (one that does not answer is left out)
    std::string name;
    int major = 0, minor = 0;        // compute capability
    int multiprocessors = 0;
    std::size_t total_memory = 0;    // [bytes]
    std::size_t free_memory = 0;     // [bytes]; device 0's only (the others' left 0: see query_cuda)
};

struct cuda_status {
    bool usable = false;             // a device exists and the driver can run our kernels
    std::string reason;              // why not, when not usable
    int runtime_version = 0;         // e.g. 13000
    int driver_version = 0;          // 0 when no driver
    std::vector<cuda_device> devices;
};

// Asks the CUDA runtime; never throws. Device 0 is usable where it answers and can load this
// build's kernels (CMAKE_CUDA_ARCHITECTURES): that creates its context, and no other device's.
cuda_status query_cuda();

class backend;
class synapse_source;

// What the CUDA backend holds per population: synaptic channels (synapse kind x tau_syn x E_rev, a
// fixed array in each update's arguments) and neurons (CUB counts a sort's items in int).
inline constexpr std::size_t cuda_max_channels = 8;
inline constexpr std::uint64_t cuda_max_population = 2147483647;
// Free device memory a run may use: the rest is left to the driver, other contexts, fragmentation.
inline constexpr double cuda_usable_memory_fraction = 0.95;

// Why the CUDA backend cannot run `spec`, "" where it can (host/cuda_limits.cpp). Asked before
// anything is built: --backend auto then runs the config on the CPU, --backend cuda refuses it.
std::string cuda_cannot_run(const run_spec& spec);

// The device memory the CUDA backend needs at the least for `spec`, from the config alone
// (host/cuda_limits.cpp), named as the backend names its parts: each population's state and
// synaptic rings, as long as the longest delay sure to be drawn (`ring_slots`), and each
// projection's synapses at the count expected, their targets and row offsets (a pairwise_bernoulli
// count 5 standard deviations below its mean; a synapse file's left out). The backend refuses a run over it before the network
// is drawn; `ifsim check` prints it.
struct device_memory_need {
    std::vector<memory_part> parts;
    std::uint32_t ring_slots = 1;
};
device_memory_need least_device_memory(const run_spec& spec);

// The CUDA backend on device 0 (kernels/cuda_backend.cu), its buffers sized for blocks of up to
// `block_steps` (the caller's advance() calls; longer ones grow them). Throws config_error for a
// config cuda_cannot_run refuses, runtime_failure when no device is usable,
// device_memory_exhausted when the run does not fit in device memory (needed vs free, largest part
// named), and cuda_error for CUDA runtime errors.
std::unique_ptr<backend> make_cuda_backend(const run_spec& spec, std::uint32_t block_steps = default_block_steps);

// Draws build_network's connectivity and synapse values on device 0 where the rule and the memory
// allow, else on the host; the same network either way (kernels/synapse_draws.cu).
std::unique_ptr<synapse_source> make_device_synapse_source();

// Device-to-device copy bandwidth of device 0, best of a few copies: the denominator of the GPU
// benchmarks' bandwidth ratio. The copies are of 1 GiB, far beyond the L2 cache, or of a quarter
// of the free memory where that is less; under 256 MiB the cache would weigh in, and
// runtime_failure says how much is free.
struct measured_copy {
    double bytes_per_s;       // read + written
    std::size_t copy_bytes;  // each copy's
};
measured_copy device_copy_bandwidth();

// cuRAND's raw Philox4_32_10 words on device 0 for block blocks[i] of subsequence ids[i]
// (kernels/curand_probe.cu, through the update kernel's own draw): the device half of the check
// that cuRAND and ifsim's host Philox give the same bits.
std::vector<philox_block> curand_philox_blocks(philox_key key, const std::vector<std::uint64_t>& ids,
                                               const std::vector<std::uint64_t>& blocks);

}  // namespace ifsim
