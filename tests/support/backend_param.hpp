// Backend tests are written once and run for every (backend, precision) pair.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "ifsim/spec.hpp"

namespace ifsim::test {

class backend_test : public ::testing::TestWithParam<std::tuple<std::string, precision>> {
protected:
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

#define IFSIM_INSTANTIATE_BACKEND_TESTS(suite)                                                      \
    INSTANTIATE_TEST_SUITE_P(cpu, suite,                                                            \
                             ::testing::Combine(::testing::Values(std::string("cpu")),              \
                                                ::testing::Values(::ifsim::precision::single,       \
                                                                  ::ifsim::precision::double_)),   \
                             ::ifsim::test::backend_param_name)
