// The writer thread's queue: items consumed in order, each exactly once, the caller's buffer handed
// back for reuse, and a consumer's error reported to the caller rather than lost.
#include "ifsim/background_consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using ifsim::background_consumer;

TEST(BackgroundConsumer, ConsumesEveryItemInOrder) {
    std::vector<int> seen;
    {
        background_consumer<std::vector<int>> c([&](std::vector<int>& v) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));  // slower than the producer
            seen.insert(seen.end(), v.begin(), v.end());
        });
        std::vector<int> buffer;
        for (int i = 0; i < 50; ++i) {
            buffer.clear();
            buffer.push_back(2 * i);
            buffer.push_back(2 * i + 1);
            c.submit(buffer);
        }
        c.wait();
    }
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(BackgroundConsumer, HandsBackTheConsumedBuffer) {
    background_consumer<std::vector<int>> c([](std::vector<int>& v) { v.push_back(-1); });
    std::vector<int> a{1};
    c.submit(a);
    EXPECT_TRUE(a.empty());  // the initial spare
    std::vector<int> b{2};
    c.submit(b);
    EXPECT_EQ(b, (std::vector<int>{1, -1}));  // the first item, after its consume
}

TEST(BackgroundConsumer, ReportsAConsumersErrorOnceAndDropsLaterItems) {
    int consumed = 0;
    background_consumer<int> c([&](int& v) {
        ++consumed;
        if (v == 2) throw std::runtime_error("disk full");
    });
    for (int v : {1, 2}) {
        int item = v;
        c.submit(item);
    }
    EXPECT_THROW(c.wait(), std::runtime_error);
    EXPECT_NO_THROW(c.wait());  // reported once
    int item = 3;
    EXPECT_NO_THROW(c.submit(item));
    c.wait();
    EXPECT_EQ(consumed, 2);  // item 3 was dropped: the output is already broken
}

TEST(BackgroundConsumer, DestructorFinishesTheItemInHand) {
    int consumed = 0;
    {
        background_consumer<int> c([&](int&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ++consumed;
        });
        int item = 1;
        c.submit(item);
    }
    EXPECT_EQ(consumed, 1);
}
