#include "ifsim/models/params.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include "ifsim/models.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/units.hpp"

namespace ifsim {

TEST(params, defaults_are_valid_for_every_model) {
    for (auto m : all_models) EXPECT_EQ(check_params(with_model_defaults({}, m), m, 0.1), "") << model_name(m);
}

// A reset at threshold needs a refractory period of a step at least: with t_ref = 0 the neuron
// would spike forever in no time, under one step at every step (in float a t_ref of 1e-300 ms
// counts no time, and it fired twice in one instant).
TEST(params, zeno_reset_is_rejected_without_a_steps_refractoriness) {
    neuron_params p;
    p.V_reset = p.V_th;
    p.t_ref = 0.0;
    EXPECT_NE(check_params(p, model_kind::lif, 0.1).find("V_reset"), std::string::npos);
    p.t_ref = 0.05;
    EXPECT_EQ(check_params(p, model_kind::lif, 0.1),
              "V_reset = -50 mV must be below V_th = -50 mV when t_ref = 0.05 ms is under one step of dt = 0.1 ms (the "
              "neuron would spike at every step)");
    EXPECT_EQ(check_params(p, model_kind::lif, 0.05), "");
    p.t_ref = 1.0;
    EXPECT_EQ(check_params(p, model_kind::lif, 0.1), "");
    p.V_reset = p.V_th - 1.0;
    p.t_ref = 0.05;
    EXPECT_EQ(check_params(p, model_kind::lif, 0.1), "");
}

// Conductances are bounded as weights are (a = 1e20 nS ran V to -5e13 mV).
TEST(params, conductances_are_within_a_millisiemens) {
    neuron_params p = with_model_defaults({}, model_kind::adex);
    p.a = -1e20;
    EXPECT_EQ(check_params(p, model_kind::adex, 0.1), "a = " + format_number(-1e20) + " nS must be within +-1e6 nS (1 mS)");
    p.a = 1e6;
    EXPECT_EQ(check_params(p, model_kind::adex, 0.1), "");
    p.g_L = 2e6;
    EXPECT_EQ(check_params(p, model_kind::lif, 0.1), "g_L = " + format_number(2e6) + " nS must be within +-1e6 nS (1 mS)");
}

TEST(params, v_peak_defaults_to_five_slope_factors_above_v_t) {
    const auto p = with_model_defaults({}, model_kind::eif);
    EXPECT_DOUBLE_EQ(p.V_peak, p.V_T + 5.0 * p.Delta_T);
}

// A Delta_T below V_T's ulp leaves the default V_peak on V_T: said, with Delta_T, where the
// message named only a V_peak the user never set (a fuzz audit).
TEST(params, a_default_v_peak_on_v_t_names_delta_t) {
    neuron_params p;
    p.Delta_T = 1e-40;
    EXPECT_EQ(check_params(with_model_defaults(p, model_kind::eif), model_kind::eif, 0.1),
              "V_peak = -50 mV must be above V_T = -50 mV; Delta_T = 1e-40 mV is too small for the default V_peak, "
              "V_T + 5 Delta_T, to differ from V_T: set V_peak, or a larger Delta_T");
    p.V_peak = -55.0;  // set below V_T: said as set
    EXPECT_EQ(check_params(p, model_kind::adex, 0.1), "V_peak = -55 mV must be above V_T = -50 mV");
}

// each_field visits every field of every model's coefficients: the CPU backend keeps per-neuron
// coefficients field by field, and a field left out would be left undefined. The bytes visited
// are the struct's, but for the padding after the flags in double.
template <class Real>
void expect_each_field_covers_the_coefficients() {
    for (const auto m : all_models)
        with_model(m, [&]<class Model>() {
            using coeffs = typename Model::template coeffs<Real>;
            coeffs c{};
            std::size_t bytes = 0, flags = 0;
            c.each_field([&](auto& field, const char* what) {
                EXPECT_GT(std::strlen(what), 0u);
                bytes += sizeof field;
                flags += std::is_same_v<std::remove_cvref_t<decltype(field)>, unsigned> ? 1 : 0;
            });
            EXPECT_EQ(flags, 1u) << model_name(m);
            EXPECT_EQ(bytes + (sizeof(Real) - sizeof(unsigned)), sizeof(coeffs)) << model_name(m);
        });
}

TEST(params, each_field_covers_every_models_coefficients) {
    expect_each_field_covers_the_coefficients<float>();
    expect_each_field_covers_the_coefficients<double>();
}

// A decay's rate dt / tau may underflow (it decays not at all over a step, as it should) but not
// overflow: dt / tau_w = inf in float made a partial step's h dt / tau_w NaN at h = 0, and a run
// that check passed failed with V not finite (a fuzz audit).
TEST(params, a_decay_rate_may_underflow_the_precision_but_not_overflow_it) {
    neuron_params p;
    p.tau_w = 1e-40;  // dt / tau_w = 1e39
    EXPECT_NE(coefficient_range_problem(p, model_kind::alif, 0.1, precision::single)
                  .find("the coefficient dt / tau_w derived from its parameters and dt is 1.0000000000000001e+39"),
              std::string::npos);
    EXPECT_EQ(coefficient_range_problem(p, model_kind::alif, 0.1, precision::double_), "");
    p.tau_w = 1e-320;  // beyond double's too
    const std::string beyond_double = coefficient_range_problem(with_model_defaults(p, model_kind::adex), model_kind::adex, 0.1, precision::double_);
    EXPECT_NE(beyond_double.find("dt / tau_w"), std::string::npos) << beyond_double;
    p.tau_w = 1e40;  // dt / tau_w = 1e-41: subnormal in float, exempt
    EXPECT_EQ(coefficient_range_problem(p, model_kind::alif, 0.1, precision::single), "");
}

// The drive check takes a step current as it runs, added to I_e, with its sign: I_e = 2e8 pA with
// a step of -2e8 pA over g_L = 1e-30 nS runs in float (2e38 mV at most), +2e8 pA does not.
TEST(params, a_drive_is_checked_with_each_step_of_the_step_current) {
    population_spec pop;
    pop.name = "A";
    pop.size = 1;
    pop.model = model_kind::lif;
    simulation_spec sim;
    sim.real = precision::single;
    neuron_params p;
    p.g_L = 1e-30;
    pop.input.steps.time_ms = {10.0};
    pop.input.steps.amplitude_pA = {-2e8};
    EXPECT_NO_THROW(check_drives(pop, sim, {p}, {2e8}));
    pop.input.steps.amplitude_pA = {2e8};
    try {
        check_drives(pop, sim, {p}, {2e8});
        ADD_FAILURE() << "4e38 mV taken in float";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("its input current (I_e with the step current) 4e+08 pA over g_L = "
                                             "1e-30 nS drives V to 4e+38 mV, beyond float's range"),
                  std::string::npos) << e.what();
    }
    sim.real = precision::double_;
    EXPECT_NO_THROW(check_drives(pop, sim, {p}, {2e8}));
}

}  // namespace ifsim
