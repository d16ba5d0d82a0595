// The update groups' layout (kernels/update_group.cuh), plain C++ on the host: which block steps
// which population, how many blocks each gets, and which populations share a launch. The kernel
// that uses it runs in Network.CudaEqualsCpu and Network.CudaGroupsEqualCpu on a GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "../kernels/update_group.cuh"

using namespace ifsim::cuda;

TEST(UpdateGroup, EveryBlockStepsTheMemberWhoseRangeHoldsIt) {
    std::mt19937 gen(20261127);
    for (int trial = 0; trial < 500; ++trial) {
        const unsigned members = 1 + gen() % max_group_members, max_blocks = 1 + gen() % 40;
        std::vector<std::uint64_t> sizes;
        for (unsigned m = 0; m < members; ++m) sizes.push_back(gen() % 3 == 0 ? gen() % 3 : gen() % 20000);
        const std::vector<unsigned> first = group_blocks(sizes, 256, max_blocks);
        ASSERT_EQ(first.size(), members + 1u);
        ASSERT_EQ(first[0], 0u);  // the ranges tile the grid from block 0
        group_step<float> g{};
        g.members = members;
        for (unsigned m = 0; m <= members; ++m) g.first_block[m] = first[m];
        for (unsigned m = 0; m < members; ++m) g.I_step[m] = float(m) + 0.5f;
        for (unsigned m = 0; m < members; ++m) {
            // A launch of its own: one block per 256 neurons, at least one, at most max_blocks.
            const std::uint64_t own = std::min<std::uint64_t>(std::max<std::uint64_t>((sizes[m] + 255) / 256, 1), max_blocks);
            ASSERT_EQ(first[m + 1] - first[m], own) << "member " << m << " of " << sizes[m] << " neurons";
            for (unsigned b = first[m]; b < first[m + 1]; ++b) {
                const block_part<float> part = member_of_block(g, b);
                ASSERT_EQ(part.member, m) << "block " << b;
                ASSERT_EQ(part.first, first[m]);
                ASSERT_EQ(part.blocks, own);
                ASSERT_EQ(part.I_step, g.I_step[m]);
            }
        }
    }
}

TEST(UpdateGroup, PopulationsWithTheSameKernelShareALaunchUpToTheLimit) {
    std::vector<char> keys;
    for (int i = 0; i < 40; ++i) keys.push_back(i % 5 == 4 ? 'b' : 'a');  // 32 a's, 8 b's
    keys.push_back('c');
    const auto groups = group_by_key(keys);
    ASSERT_EQ(groups.size(), 4u);  // a (16), b (8), a (16), c (1)
    std::vector<int> seen(keys.size(), 0);
    for (const auto& g : groups) {
        ASSERT_FALSE(g.empty());
        EXPECT_LE(g.size(), max_group_members);
        for (std::size_t i = 0; i < g.size(); ++i) {
            EXPECT_EQ(keys[g[i]], keys[g[0]]);
            if (i > 0) {
                EXPECT_LT(g[i - 1], g[i]);
            }
            ++seen[g[i]];
        }
    }
    for (const int s : seen) EXPECT_EQ(s, 1);
    EXPECT_EQ(groups[0].size(), 16u);
    EXPECT_EQ(keys[groups[1][0]], 'b');
    EXPECT_EQ(groups[1].size(), 8u);
    EXPECT_EQ(groups[2].size(), 16u);
    EXPECT_EQ(groups[3], std::vector<std::size_t>{40});
}
