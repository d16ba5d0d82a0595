// Typed exceptions thrown by the library. Only tools/ catch them, print and choose an exit code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ifsim {

// Anything wrong with the user's input: a config key, a value, a file. Exit code 2.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A NaN or overflow found in the state during a run.
class numerical_error : public std::runtime_error {
public:
    // what() is `what` with the neuron's global id and the step, or with `where` where that says
    // both in the run's own terms (a population and its neuron, the block checked).
    numerical_error(const std::string& what, std::uint64_t neuron, std::uint64_t step, const std::string& where = "")
        : std::runtime_error(what + (where.empty() ? " (neuron " + std::to_string(neuron) + ", step " +
                                                         std::to_string(step) + ")"
                                                   : where)),
          reason_(what), neuron_(neuron), step_(step) {}
    const std::string& reason() const { return reason_; }  // what() without neuron and step
    std::uint64_t neuron() const { return neuron_; }
    std::uint64_t step() const { return step_; }

private:
    std::string reason_;
    std::uint64_t neuron_;
    std::uint64_t step_;
};

// A CUDA runtime error, with the error's name (e.g. "cudaErrorMemoryAllocation"), where it was
// raised and what was being done. Exit code 1.
class cuda_error : public std::runtime_error {
public:
    cuda_error(const std::string& error_name, const std::string& message, const char* file, int line)
        : std::runtime_error(error_name + ": " + message + " (" + file + ":" + std::to_string(line) + ")"),
          error_name_(error_name) {}
    const std::string& error_name() const { return error_name_; }

private:
    std::string error_name_;
};

// Failure while running (I/O, device), not the user's input. Exit code 1.
class runtime_failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The CUDA backend's run does not fit the device's free memory: found as the backend is made (its
// state, synapses, spike buffers and the buffers of the blocks its maker named), before anything
// runs, where --backend auto then runs on the CPU; or later, for a block longer than those. what()
// says what to change; shortfall() only what is short.
class device_memory_exhausted : public runtime_failure {
public:
    device_memory_exhausted(const std::string& shortfall, const std::string& advice)
        : runtime_failure(shortfall + ". " + advice), shortfall_(shortfall) {}
    const std::string& shortfall() const { return shortfall_; }

private:
    std::string shortfall_;
};

}  // namespace ifsim
