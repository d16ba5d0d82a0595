// Two backends' runs of one spec compared bit for bit (`ifsim compare`: CPU against CUDA in float).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ifsim/backend.hpp"

namespace ifsim {

// A backend to compare, as its label in the messages ("cpu", "cuda") and how to make a fresh one.
struct compared_backend {
    std::string label;
    std::function<std::unique_ptr<backend>()> make;
};

// Runs a and b from step 0 to `steps` in blocks of `block` steps, and returns the first difference
// as a sentence naming the population, neuron, step and variable with both values: the spikes
// (step, neuron, offset), then the recorded samples, then every population's state at the block's
// end (V_m, w, I_noise, and each exp synaptic channel's I or g); nothing if all bits agree. A state difference, known only to the block, is pinned to its
// step by a second pair of runs in one-step blocks up to there.
std::optional<std::string> first_difference(const run_spec& spec, const compared_backend& a,
                                            const compared_backend& b, std::uint64_t steps, std::uint32_t block);

}  // namespace ifsim
