// parallel_errors (parallel_errors.hpp): what a thread throws inside an OpenMP team comes out after
// it, through a worksharing loop and a barrier, with no std::terminate and no thread left waiting.
#include "ifsim/parallel_errors.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <new>
#include <numeric>
#include <stdexcept>
#include <vector>

using namespace ifsim;

// Iteration 7 throws std::bad_alloc (a build too large for the memory left) on 1, 2 and 5
// threads: the first exception is thrown after the team, and no work starts once it is kept. On
// one thread that is exact: iterations 0-6 done, none after.
TEST(ParallelErrors, AnExceptionInATeamIsThrownAfterIt) {
    for (const int threads : {1, 2, 5}) {
        parallel_errors errors;
        std::vector<int> done(1000, 0);
#pragma omp parallel num_threads(threads)
        {
#pragma omp for schedule(static, 1)
            for (int i = 0; i < 1000; ++i)
                errors.run([&] {
                    if (i == 7) throw std::bad_alloc();
                    done[std::size_t(i)] = 1;
                });
#pragma omp barrier
            errors.run([&] { ADD_FAILURE() << "work after a failure ran"; });
        }
        EXPECT_TRUE(errors.failed());
        EXPECT_THROW(errors.rethrow(), std::bad_alloc) << threads << " threads";
        EXPECT_EQ(done[7], 0);
        if (threads == 1) {
            EXPECT_EQ(std::accumulate(done.begin(), done.end(), 0), 7);
        }
    }
}

// The first exception kept is the one thrown after the team, whatever comes later; keep() takes
// one caught by the caller's own catch; no failure, nothing thrown.
TEST(ParallelErrors, TheFirstExceptionIsKept) {
    parallel_errors errors;
    errors.run([] { throw std::runtime_error("first"); });
    errors.keep(std::make_exception_ptr(std::logic_error("second")));
    try {
        errors.rethrow();
        ADD_FAILURE() << "nothing thrown";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first");
    }
    parallel_errors none;
    none.run([] {});
    EXPECT_FALSE(none.failed());
    EXPECT_NO_THROW(none.rethrow());
}
