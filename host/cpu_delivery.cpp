// The CPU backend's delivery (cpu_delivery.hpp).
#include "cpu_delivery.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ifsim/connectivity.hpp"

namespace ifsim::cpu {
namespace {

// Below this many synaptic events per thread a team costs more than it saves.
constexpr std::uint64_t min_events_per_thread = 4096;

constexpr std::ptrdiff_t ahead = 16;  // synapses between a prefetch and its add

// Thread t of T: the synapses of batch b onto its range of b's targets.
template <class Index>
void deliver_part(const delivery_batch& b, const Index* neuron, std::uint64_t t, std::uint64_t T) {
    const built_projection& proj = *b.proj;
    const ring_view& ring = b.ring;
    const auto lo = std::uint32_t(ring.n * t / T), hi = std::uint32_t(ring.n * (t + 1) / T);
    const std::uint64_t* rows = proj.conn.row_offsets.data();
    const std::uint32_t* targets = proj.conn.targets.data();
    const std::int32_t* weights = proj.weight.empty() ? nullptr : proj.weight.data();
    const std::int64_t constant_weight = proj.constant_weight;
    const std::uint8_t* delay8 = proj.delay8.empty() ? nullptr : proj.delay8.data();
    const std::uint16_t* delay16 = proj.delay16.empty() ? nullptr : proj.delay16.data();
    for (std::size_t k = 0; k < b.num; ++k) {
        if (k + 1 < b.num) {
            // The row of the next spike is rarely cached: ask now for the line where this
            // thread's part of it begins (seek_target's first guess), so that its miss
            // overlaps this spike's adds rather than stalling the next search.
            const std::uint64_t j = neuron[k + 1];
            const std::uint64_t at = rows[j] + even_spread_index(rows[j + 1] - rows[j], lo, ring.n);
            __builtin_prefetch(targets + at);
            if (weights) __builtin_prefetch(weights + at);
            if (delay8) __builtin_prefetch(delay8 + at);
            if (delay16) __builtin_prefetch(delay16 + at);
        }
        const std::uint64_t i = neuron[k];
        const std::uint32_t* row = targets + rows[i];
        const std::uint32_t* end = targets + rows[i + 1];
        const std::uint32_t* first = t == 0 ? row : seek_target(row, end, lo, ring.n);
        const std::uint32_t* last = t + 1 == T ? end : seek_target(row, end, hi, ring.n);
        const std::uint64_t now = b.step[k] % ring.slots;
        const auto slot_after = [&](std::uint64_t d) {  // d < slots: no division
            const std::uint64_t r = now + d;
            return ring.data + (r >= ring.slots ? r - ring.slots : r) * ring.n;
        };
        if (!delay8 && !delay16) {
            std::int64_t* dst = slot_after(proj.constant_delay);
            if (weights)
                for (const std::uint32_t* p = first; p != last; ++p) dst[*p] += weights[p - targets];
            else
                for (const std::uint32_t* p = first; p != last; ++p) dst[*p] += constant_weight;
        } else {
            // Each add lands in a random slot of a ring that may not fit the cache (the
            // microcircuit's are 37 MB), and the core alone overlaps few of those misses:
            // asking early for the line of the add `ahead` synapses on made the microcircuit's
            // delivery 1.5x faster. (One slot row, as above, stays cached: no gain measured.)
            const auto add_delayed = [&]<class Delay>(const Delay* delay) {
                const auto add = [&](const std::uint32_t* p) {
                    slot_after(delay[p - targets])[*p] += weights ? weights[p - targets] : constant_weight;
                };
                const std::uint32_t* p = first;
                for (; last - p > ahead; ++p) {
                    __builtin_prefetch(slot_after(delay[p + ahead - targets]) + p[ahead], 1, 1);
                    add(p);
                }
                for (; p != last; ++p) add(p);
            };
            if (delay8) add_delayed(delay8);
            else add_delayed(delay16);
        }
    }
}

}  // namespace

std::uint64_t deliver(const std::vector<delivery_batch>& batches) {
    if (batches.empty()) return 0;
    std::uint64_t work = 0;
    for (const delivery_batch& b : batches) {
        const std::uint64_t* rows = b.proj->conn.row_offsets.data();
        for (std::size_t k = 0; k < b.num; ++k) {
            const std::uint64_t i = b.neuron64 ? b.neuron64[k] : b.neuron32[k];
            work += rows[i + 1] - rows[i];
        }
    }
    const int threads = int(std::min<std::uint64_t>(std::uint64_t(omp_get_max_threads()),
                                                     std::max<std::uint64_t>(1, work / min_events_per_thread)));
#pragma omp parallel num_threads(threads)
    {
        const auto t = std::uint64_t(omp_get_thread_num()), T = std::uint64_t(omp_get_num_threads());
        for (const delivery_batch& b : batches) {
            if (b.neuron64) deliver_part(b, b.neuron64, t, T);
            else deliver_part(b, b.neuron32, t, T);
        }
    }
    return work;
}

}  // namespace ifsim::cpu
