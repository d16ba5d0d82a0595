// A stable counting sort of 32-bit values by 32-bit keys, in parallel: how the network build
// groups synapses drawn as (source, target) pairs into rows.
#pragma once

#include <cstdint>
#include <vector>

namespace ifsim {

// out[p] = values[k / group], with p the place of item k < n among all items ordered by
// key[k] < num_keys, ties by k: each value stands for `group` >= 1 consecutive items (fixed_indegree's
// K sources of one target). The result is the same for every thread count. Returns where each
// key's items start in out (num_keys + 1 entries, the last n). out holds n values and overlaps
// neither input.
std::vector<std::uint64_t> sort_by_key(std::uint64_t n, std::uint64_t num_keys, const std::uint32_t* key,
                                       const std::uint32_t* values, std::uint64_t group, std::uint32_t* out);

}  // namespace ifsim
