// The startup check's view of this build (host/host_cpu_check.cpp): the x86 extensions it
// requires of the CPU are those the compiler lets this build's host code use, read here from the
// compiler's own macros one by one, for a baseline, a v3, a v4 and a beyond-v4 feature.
#include <gtest/gtest.h>

#include <string>

#include "../host/x86_features.hpp"

namespace ifsim::test {
namespace {

bool required(const std::string& name) {
    for (unsigned k = 0; k < detail::num_x86_features; ++k)
        if (name == detail::x86_feature_names[k]) return detail::required_x86_features[k];
    ADD_FAILURE() << name << " is not in IFSIM_X86_FEATURES";
    return false;
}

#if defined(__x86_64__) && defined(__GNUC__)
TEST(HostCpu, RequiresWhatTheBuildMayUse) {
#ifdef __SSE4_2__
    EXPECT_TRUE(required("sse4.2"));
#else
    EXPECT_FALSE(required("sse4.2"));
#endif
#ifdef __AVX2__
    EXPECT_TRUE(required("avx2"));
#else
    EXPECT_FALSE(required("avx2"));
#endif
#ifdef __FMA__
    EXPECT_TRUE(required("fma"));
#else
    EXPECT_FALSE(required("fma"));
#endif
#ifdef __AVX512F__
    EXPECT_TRUE(required("avx512f"));
#else
    EXPECT_FALSE(required("avx512f"));
#endif
#ifdef __AVX512VL__
    EXPECT_TRUE(required("avx512vl"));
#else
    EXPECT_FALSE(required("avx512vl"));
#endif
#ifdef __AVX512VP2INTERSECT__
    EXPECT_TRUE(required("avx512vp2intersect"));
#else
    EXPECT_FALSE(required("avx512vp2intersect"));
#endif
}
#endif

}  // namespace
}  // namespace ifsim::test
