// The GPU's delivery kernel (kernels/network.cuh) run on the host: it has no barriers, shuffles or
// shared memory, so running each thread of its grid in turn, with atomicAdd as a plain add, is a
// faithful execution. Against a plain loop over the same spikes: every ring slot and the event
// count equal, for random pools, projections, delays, intervals inside the chunk and grid sizes.
// This checks the kernel's indexing on machines without a GPU; Network.CudaEqualsCpu checks the
// whole path on one.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "support/cuda_on_host.hpp"
// after the shim:
#include "../kernels/network.cuh"

using namespace ifsim::cuda;

namespace {

struct host_projection {
    std::vector<std::uint64_t> rows{0};
    std::vector<std::uint32_t> targets;
    std::vector<std::int32_t> weights;    // empty: constant_weight
    std::vector<std::uint8_t> delays8;    // one of the two, or neither: constant_delay
    std::vector<std::uint16_t> delays16;
    std::int32_t constant_weight = 0;
    std::uint16_t constant_delay = 1;

    std::int32_t weight_of(std::uint64_t s) const { return weights.empty() ? constant_weight : weights[s]; }
    std::uint64_t delay_of(std::uint64_t s) const {
        return !delays8.empty() ? delays8[s] : !delays16.empty() ? delays16[s] : constant_delay;
    }
    // The plain loop the kernels are checked against: neuron i's spike in `step` adds each synapse's
    // weight to its target's slot `delay` steps on, and counts its events.
    void deliver(std::uint32_t i, std::uint64_t step, std::uint64_t slots, std::uint64_t n_target,
                 std::vector<std::int64_t>& ring, unsigned long long& events) const {
        events += rows[i + 1] - rows[i];
        for (std::uint64_t s = rows[i]; s < rows[i + 1]; ++s)
            ring[((step + delay_of(s)) % slots) * n_target + targets[s]] += weight_of(s);
    }
    // As the backend hands it to the kernels.
    device_projection view(std::int64_t* ring, std::uint64_t slots, std::uint64_t n_target,
                           unsigned long long* events) const {
        return {rows.data(),
                targets.data(),
                weights.empty() ? nullptr : weights.data(),
                delays8.empty() ? nullptr : delays8.data(),
                delays16.empty() ? nullptr : delays16.data(),
                constant_weight,
                constant_delay,
                ring,
                slots,
                n_target,
                events};
    }
};

// Rows of 0-69 synapses for n sources: random targets, and, each independently, weights in
// [-1000, 1000] quanta or (half the time) one constant weight, and delays in [1, slots): per synapse
// in one byte (a quarter of the time) or in two (half), or one constant delay.
template <class Below>
host_projection random_projection(Below& below, std::uint32_t n, std::uint64_t slots, std::uint64_t n_target) {
    host_projection h;
    for (std::uint32_t i = 0; i < n; ++i) {
        for (std::uint32_t s = below(70); s > 0; --s) {
            h.targets.push_back(below(std::uint32_t(n_target)));
            h.weights.push_back(std::int32_t(below(2001)) - 1000);
            h.delays16.push_back(std::uint16_t(1 + below(std::uint32_t(slots) - 1)));
        }
        h.rows.push_back(h.targets.size());
    }
    h.constant_weight = std::int32_t(below(2001)) - 1000;
    h.constant_delay = std::uint16_t(1 + below(std::uint32_t(slots) - 1));
    if (below(2) == 0) h.weights.clear();
    switch (below(4)) {
        case 0: h.delays8.assign(h.delays16.begin(), h.delays16.end()); [[fallthrough]];  // slots < 256
        case 1: h.delays16.clear(); break;
        default: break;
    }
    return h;
}

// A source population's spike pool for one chunk: per step, a region of distinct neurons.
struct host_pool {
    std::vector<std::uint32_t> neuron;
    std::vector<std::uint64_t> base;
    std::vector<std::uint32_t> counts;
};

}  // namespace

TEST(DeliveryKernel, RunOnTheHostEqualsAPlainLoop) {
    std::mt19937 gen(20261127);
    const auto below = [&](std::uint32_t n) { return std::uint32_t(gen() % n); };
    for (int trial = 0; trial < 300; ++trial) {
        const std::uint64_t slots = 2 + below(20), n_target = 1 + below(50);
        const std::uint32_t chunk_steps = 1 + below(12);
        const std::uint32_t k0 = below(chunk_steps), steps = 1 + below(chunk_steps - k0);
        const std::uint64_t first_step = below(1000);
        std::vector<host_projection> projections;
        std::vector<host_pool> pools;
        std::vector<delivery_source> sources;
        const std::uint32_t num_populations = 1 + below(4);
        pools.reserve(num_populations);
        for (std::uint32_t p = 0; p < num_populations; ++p) {
            const std::uint32_t n = 1 + below(40), num_projections = below(4);  // some without any
            const auto first = unsigned(projections.size());
            for (std::uint32_t q = 0; q < num_projections; ++q) projections.push_back(random_projection(below, n, slots, n_target));
            host_pool& pool = pools.emplace_back();
            for (std::uint32_t k = 0; k < chunk_steps; ++k) {
                pool.base.push_back(pool.neuron.size());
                for (std::uint32_t i = 0; i < n; ++i)
                    if (below(5) == 0) pool.neuron.push_back(i);
                pool.counts.push_back(std::uint32_t(pool.neuron.size() - pool.base.back()));
            }
            if (num_projections > 0)
                sources.push_back({pool.neuron.data(), pool.base.data(), pool.counts.data(), first, num_projections});
        }

        std::vector<std::int64_t> ring(slots * n_target, 0), expected(slots * n_target, 0);
        unsigned long long events = 0, expected_events = 0;
        std::vector<device_projection> views;
        for (const host_projection& h : projections) views.push_back(h.view(ring.data(), slots, n_target, &events));
        for (const delivery_source& src : sources)
            for (std::uint32_t k = k0; k < k0 + steps; ++k)
                for (std::uint64_t e = src.base[k]; e < src.base[k] + src.counts[k]; ++e)
                    for (unsigned q = 0; q < src.num_projections; ++q)
                        projections[src.first_projection + q].deliver(src.neuron[e], first_step + k, slots, n_target,
                                                                      expected, expected_events);

        cuda_on_host::run_grid(1 + below(4), 64, [&] {
            deliver_interval_kernel(sources.data(), unsigned(sources.size()), views.data(), k0, steps, first_step);
        });
        ASSERT_EQ(ring, expected) << "trial " << trial;
        ASSERT_EQ(events, expected_events) << "trial " << trial;
    }
}

// The generators' kernel (deliver_listed_kernel), run the same way: a slice of a listed schedule
// (steps ascending, a neuron repeated within a step, as Poisson generators make them) through one
// projection equals a plain loop, for random projections, slices and grid sizes.
TEST(DeliveryKernel, ListedSpikesRunOnTheHostEqualAPlainLoop) {
    std::mt19937 gen(20261206);
    const auto below = [&](std::uint32_t n) { return std::uint32_t(gen() % n); };
    for (int trial = 0; trial < 300; ++trial) {
        const std::uint64_t slots = 2 + below(20), n_target = 1 + below(50);
        const std::uint32_t n_source = 1 + below(40);
        const host_projection h = random_projection(below, n_source, slots, n_target);
        std::vector<std::uint64_t> step;
        std::vector<std::uint32_t> neuron;
        for (std::uint64_t t = below(500), end = t + below(40); t < end; ++t)
            for (std::uint32_t i = 0; i < n_source; ++i)
                for (std::uint32_t r = below(8) == 0 ? 1 + below(3) : 0; r > 0; --r) {  // 0 to 3 spikes
                    step.push_back(t);
                    neuron.push_back(i);
                }

        std::vector<std::int64_t> ring(slots * n_target, 0), expected(slots * n_target, 0);
        unsigned long long events = 0, expected_events = 0;
        const device_projection view = h.view(ring.data(), slots, n_target, &events);
        const std::uint64_t lo = step.empty() ? 0 : below(std::uint32_t(step.size())), count = step.size() - lo;
        for (std::uint64_t e = lo; e < step.size(); ++e)
            h.deliver(neuron[e], step[e], slots, n_target, expected, expected_events);

        cuda_on_host::run_grid(1 + below(4), 64,
                               [&] { deliver_listed_kernel(view, step.data() + lo, neuron.data() + lo, count); });
        ASSERT_EQ(ring, expected) << "trial " << trial;
        ASSERT_EQ(events, expected_events) << "trial " << trial;
    }
}
