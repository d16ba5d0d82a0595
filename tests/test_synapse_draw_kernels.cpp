// The device synapse draws' kernels (kernels/synapse_draws.cuh) run on the host, thread by thread
// (support/cuda_on_host.hpp), with std::sort and std::exclusive_scan where the GPU uses CUB's
// radix sort and scan, assembled as synapse_draws.cu assembles them: the CSR equals the host's
// connect() and the values equal the host's draws, for every rule the GPU draws and grids that
// stride. This checks the kernels' indexing on machines without a GPU;
// NetworkSources.DeviceDrawsEqualHostDraws checks the whole path on one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "support/cuda_on_host.hpp"
// after the shim:
#include "../kernels/synapse_draws.cuh"
#include "ifsim/network.hpp"

using namespace ifsim;

namespace {

struct shape {
    std::uint64_t sources, targets;
    bool same;
};

constexpr std::uint64_t seed = 20261206;
constexpr std::uint32_t projection = 3;

// Sorted keys -> CSR, by split_keys_kernel, as synapse_draws.cu's sorted_csr after the radix sort.
csr split(std::vector<std::uint64_t> keys, const shape& s, unsigned blocks) {
    std::sort(keys.begin(), keys.end());
    csr c;
    c.num_sources = s.sources;
    c.num_targets = s.targets;
    c.row_offsets.assign(s.sources + 1, 0);
    c.targets.resize(keys.size());
    if (!keys.empty())
        cuda_on_host::run_grid(blocks, 32, [&] {
            cuda::split_keys_kernel(keys.data(), keys.size(), s.sources, c.targets.data(), c.row_offsets.data());
        });
    return c;
}

void expect_same(const csr& device, const csr& host, const char* what) {
    EXPECT_EQ(device.row_offsets, host.row_offsets) << what;
    ASSERT_EQ(device.targets.size(), host.targets.size()) << what;
    EXPECT_TRUE(std::equal(device.targets.begin(), device.targets.end(), host.targets.begin())) << what;
}

}  // namespace

TEST(SynapseDrawKernels, FixedDegreesEqualTheHostsConnect) {
    for (const shape s : {shape{40, 40, true}, shape{37, 53, false}, shape{1, 9, false}})
        for (const rule_kind kind : {rule_kind::fixed_indegree, rule_kind::fixed_outdegree})
            for (const bool multapses : {true, false})
                for (const bool autapses : {true, false})
                    for (const unsigned blocks : {1u, 3u}) {
                        connection_rule r;
                        r.kind = kind;
                        r.degree = 5;
                        r.multapses = multapses;
                        r.autapses = autapses;
                        const bool in = kind == rule_kind::fixed_indegree;
                        const std::uint64_t rows = in ? s.targets : s.sources, pool = in ? s.sources : s.targets;
                        const bool no_self = s.same && !autapses;
                        if (!multapses && r.degree > pool - (no_self ? 1 : 0)) continue;
                        std::vector<std::uint64_t> keys(rows * r.degree);
                        const philox_key key = make_key(seed, connectivity_stream(projection));
                        cuda_on_host::run_grid(blocks, 32, [&] {
                            cuda::fixed_degree_kernel(key, rows, pool, no_self, r.degree, multapses, in, keys.data());
                        });
                        expect_same(split(keys, s, blocks), connect(r, s.sources, s.targets, s.same, seed, projection),
                                    in ? "fixed_indegree" : "fixed_outdegree");
                    }
}

// 500 and 2500 synapses: the host draws the rows' first blocks 1024 at a time.
TEST(SynapseDrawKernels, FixedTotalWithMultapsesEqualsTheHostsConnect) {
    for (const shape s : {shape{40, 40, true}, shape{37, 53, false}})
        for (const bool autapses : {true, false})
            for (const unsigned blocks : {1u, 4u})
                for (const std::uint64_t total : {500u, 2500u}) {
                    connection_rule r;
                    r.kind = rule_kind::fixed_total;
                    r.degree = total;
                    r.autapses = autapses;
                    std::vector<std::uint64_t> keys(r.degree);
                    const philox_key key = make_key(seed, connectivity_stream(projection));
                    cuda_on_host::run_grid(blocks, 32, [&] {
                        cuda::fixed_total_kernel(key, r.degree, s.sources, s.targets, s.same && !autapses, keys.data());
                    });
                    expect_same(split(keys, s, blocks), connect(r, s.sources, s.targets, s.same, seed, projection), "fixed_total");
                }
}

// Row lengths, an exclusive scan for the offsets (CUB's on the GPU), then the rows in place.
TEST(SynapseDrawKernels, PairwiseBernoulliEqualsTheHostsConnect) {
    for (const shape s : {shape{60, 60, true}, shape{37, 200, false}})
        for (const double p : {0.05, 0.5})
            for (const bool autapses : {true, false})
                for (const unsigned blocks : {1u, 3u}) {
                    connection_rule r;
                    r.kind = rule_kind::pairwise_bernoulli;
                    r.p = p;
                    r.autapses = autapses;
                    const bool no_self = s.same && !autapses;
                    const philox_key key = make_key(seed, connectivity_stream(projection));
                    std::vector<std::uint64_t> counts(s.sources + 1);
                    cuda_on_host::run_grid(blocks, 32, [&] {
                        cuda::bernoulli_count_kernel(key, s.sources, s.targets, no_self, math::log1p(-p), counts.data());
                    });
                    csr c;
                    c.num_sources = s.sources;
                    c.num_targets = s.targets;
                    c.row_offsets.resize(s.sources + 1);
                    std::exclusive_scan(counts.begin(), counts.end(), c.row_offsets.begin(), std::uint64_t{0});
                    c.targets.resize(c.row_offsets.back());
                    cuda_on_host::run_grid(blocks, 32, [&] {
                        cuda::bernoulli_fill_kernel(key, s.sources, s.targets, no_self, math::log1p(-p), c.row_offsets.data(),
                                                    c.targets.data());
                    });
                    expect_same(c, connect(r, s.sources, s.targets, s.same, seed, projection), "pairwise_bernoulli");
                }
}

TEST(SynapseDrawKernels, DrawnValuesEqualTheHostsDraws) {
    using K = synapse_distribution::kind;
    const philox_key key = make_key(seed, weight_stream_base + projection);
    for (const synapse_distribution d : {synapse_distribution{K::uniform, 0.5, 2.0}, synapse_distribution{K::normal, -1.0, 0.7},
                                         synapse_distribution{K::lognormal, 2.0, 1.5}}) {
        std::vector<double> device(1001), host(1001);
        cuda_on_host::run_grid(3, 32, [&] { cuda::draw_values_kernel(d, key, device.size(), device.data()); });
        synapse_source().draw(d, key, host);
        EXPECT_EQ(device, host) << "kind " << int(d.type);
    }
}
