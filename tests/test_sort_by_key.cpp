// sort_by_key (sort_by_key.hpp) against std::stable_sort: few keys, where each thread stages its
// values in cache lines; many keys, where it places them one by one; values that each stand for a
// group of items; every alignment of the output within a cache line; 1, 2 and 5 threads.
#include "ifsim/sort_by_key.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

using namespace ifsim;

namespace {

struct sorted {
    std::vector<std::uint32_t> out;
    std::vector<std::uint64_t> start;
};

// The reference: item indices stably sorted by key.
sorted reference(const std::vector<std::uint32_t>& key, const std::vector<std::uint32_t>& values,
                 std::uint64_t group, std::uint64_t num_keys) {
    std::vector<std::size_t> order(key.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    sorted r;
    for (const std::size_t k : order) r.out.push_back(values[k / group]);
    r.start.assign(num_keys + 1, 0);
    for (const std::uint32_t b : key) ++r.start[b + 1];
    std::partial_sum(r.start.begin(), r.start.end(), r.start.begin());
    return r;
}

// n items with keys below num_keys (skewed: some keys empty, some crowded) and distinct values,
// each for `group` items.
void expect_sorted_like_reference(std::uint64_t n, std::uint64_t num_keys, std::uint32_t seed,
                                  std::uint64_t group = 1) {
    std::mt19937 rng(seed);
    std::vector<std::uint32_t> key(n), values((n + group - 1) / group);
    for (std::uint64_t k = 0; k < n; ++k) {
        const std::uint32_t u = std::uint32_t(rng() % num_keys);
        key[k] = k % 3 == 0 ? u / 4 : u;  // the lower quarter of the keys gets more items
    }
    for (std::size_t v = 0; v < values.size(); ++v) values[v] = std::uint32_t(rng());
    const sorted want = reference(key, values, group, num_keys);
    const int saved = omp_get_max_threads();
    for (const int threads : {1, 2, 5}) {
        omp_set_num_threads(threads);
        for (std::size_t offset = 0; offset < 16; ++offset) {  // out at every 4-byte place in a line
            SCOPED_TRACE(testing::Message() << "n " << n << ", keys " << num_keys << ", group " << group
                                            << ", threads " << threads << ", offset " << offset);
            std::vector<std::uint32_t> buffer(n + 32, 0xdeadbeef);
            std::uint32_t* out = buffer.data() + offset;
            const std::vector<std::uint64_t> start = sort_by_key(n, num_keys, key.data(), values.data(), group, out);
            EXPECT_EQ(start, want.start);
            EXPECT_TRUE(std::equal(want.out.begin(), want.out.end(), out));
            // nothing written outside out[0, n)
            EXPECT_TRUE(std::all_of(buffer.begin(), buffer.begin() + std::ptrdiff_t(offset),
                                    [](std::uint32_t v) { return v == 0xdeadbeef; }));
            EXPECT_TRUE(std::all_of(buffer.begin() + std::ptrdiff_t(offset + n), buffer.end(),
                                    [](std::uint32_t v) { return v == 0xdeadbeef; }));
        }
    }
    omp_set_num_threads(saved);
}

}  // namespace

TEST(SortByKey, FewKeysStagedInLines) {
    expect_sorted_like_reference(200000, 100, 1);  // ~2000 values per key
    // 3-17 per key and thread: lines partly filled, and at 5 threads too few to stage
    expect_sorted_like_reference(50000, 3000, 2);
}

TEST(SortByKey, ManyKeysPlacedOneByOne) {
    expect_sorted_like_reference(100000, 200000, 3);  // beyond the staged keys, and sparse
}

TEST(SortByKey, ValuesForGroupsOfItems) {
    // fixed_indegree's transposition: each target's K sources, the value being the target. The
    // threads' shares start inside groups (at 2 and 5 threads), staged and, at 5 threads with
    // 10000 keys, placed one by one.
    expect_sorted_like_reference(100000, 500, 6, 999);
    expect_sorted_like_reference(99999, 10000, 7, 13);
}

TEST(SortByKey, EdgeCases) {
    expect_sorted_like_reference(1, 1, 4);
    expect_sorted_like_reference(17, 1, 5);  // one key: a line and a value
    const std::vector<std::uint64_t> start = sort_by_key(0, 3, nullptr, nullptr, 1, nullptr);
    EXPECT_EQ(start, (std::vector<std::uint64_t>{0, 0, 0, 0}));
}

