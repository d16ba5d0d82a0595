// Backend tests are written once and run for every (backend, precision) pair.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "ifsim/spec.hpp"
#include "simulate.hpp"

namespace ifsim::test {

class backend_test : public ::testing::TestWithParam<std::tuple<std::string, precision>> {
protected:
    // The CUDA instances skip, with the reason, where no device is usable.
    void SetUp() override {
        if (backend_name() == "cuda" && !cuda_unavailable().empty()) GTEST_SKIP() << cuda_unavailable();
    }
    const std::string& backend_name() const { return std::get<0>(GetParam()); }
    precision real() const { return std::get<1>(GetParam()); }
    bool is_float() const { return real() == precision::single; }
    // Tolerance for the float or the double build of the same check.
    double tol(double float_tol, double double_tol) const { return is_float() ? float_tol : double_tol; }
};

inline std::string backend_param_name(const ::testing::TestParamInfo<backend_test::ParamType>& info) {
    return std::get<0>(info.param) + (std::get<1>(info.param) == precision::single ? "_float" : "_double");
}

}  // namespace ifsim::test

// Every backend test runs on the CPU and on CUDA, in float and in double.
#define IFSIM_INSTANTIATE_BACKEND_TESTS(suite)                                                      \
    INSTANTIATE_TEST_SUITE_P(backends, suite,                                                       \
                             ::testing::Combine(::testing::Values(std::string("cpu"),               \
                                                                  std::string("cuda")),             \
                                                ::testing::Values(::ifsim::precision::single,       \
                                                                  ::ifsim::precision::double_)),   \
                             ::ifsim::test::backend_param_name)
