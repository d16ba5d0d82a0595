#include "ifsim/models/params.hpp"

#include <gtest/gtest.h>

namespace ifsim {

TEST(params, defaults_are_valid_for_every_model) {
    for (auto m : all_models) EXPECT_EQ(check_params(with_model_defaults({}, m), m), "") << model_name(m);
}

TEST(params, zeno_reset_is_rejected_without_refractoriness) {
    neuron_params p;
    p.V_reset = p.V_th;
    p.t_ref = 0.0;
    EXPECT_NE(check_params(p, model_kind::lif).find("V_reset"), std::string::npos);
    p.t_ref = 1.0;
    EXPECT_EQ(check_params(p, model_kind::lif), "");
}

TEST(params, v_peak_defaults_to_five_slope_factors_above_v_t) {
    const auto p = with_model_defaults({}, model_kind::eif);
    EXPECT_DOUBLE_EQ(p.V_peak, p.V_T + 5.0 * p.Delta_T);
}

}  // namespace ifsim
