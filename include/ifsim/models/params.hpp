// The parameters of every neuron model, in one struct so that a population can make any of them
// per-neuron (a linspace of C_m, a normal spread of V_th) without a struct per model. Each model
// names the fields it reads; the config layer rejects the others for that model.
#pragma once

#include <array>
#include <limits>
#include <span>
#include <string_view>

#include "ifsim/units.hpp"

namespace ifsim {

enum class model_kind { lif, eif, qif, alif, adex };

inline constexpr std::array<model_kind, 5> all_models = {model_kind::lif, model_kind::eif,
                                                         model_kind::qif, model_kind::alif,
                                                         model_kind::adex};

std::string_view model_name(model_kind m);

// Defaults give tau_m = 20 ms (C_m = 200 pF, g_L = 10 nS), the chapter's example neuron.
struct neuron_params {
    double C_m = 200.0;      // membrane capacitance [pF]
    double g_L = 10.0;       // leak conductance [nS]                         (not qif)
    double E_L = -70.0;      // leak reversal, resting potential [mV]
    double V_th = -50.0;     // hard threshold [mV]                           (lif, alif)
    double V_reset = -60.0;  // reset potential [mV]
    double t_ref = 2.0;      // absolute refractory period, V clamped [ms]
    double V_T = -50.0;      // soft threshold of the exponential term [mV]  (eif, adex)
    double Delta_T = 2.0;    // spike sharpness [mV]                          (eif, adex)
    // spike detection [mV] (eif, adex, qif); NaN means the model default: V_T + 5 Delta_T for the
    // exponential models, +20 mV for the qif
    double V_peak = std::numeric_limits<double>::quiet_NaN();
    double k = 1.0;          // quadratic coefficient [nS/mV]                 (qif)
    double V_c = -50.0;      // unstable fixed point, V_c > E_L [mV]          (qif)
    double a = 0.0;          // subthreshold adaptation [nS]                  (alif, adex)
    double b = 20.0;         // spike-triggered adaptation increment [pA]     (alif, adex)
    double tau_w = 100.0;    // adaptation time constant [ms]                 (alif, adex)
};

// A pointer to one neuron_params field. (Through an alias: nvcc re-emits `double T::*m` with
// parentheses that g++ -Wall then warns about.)
using param_member = double neuron_params::*;

struct param_field {
    std::string_view name;
    dimension dim;
    param_member member;
    std::string_view meaning;
};

inline constexpr std::array<param_field, 14> param_fields = {{
    {"C_m", dimension::capacitance, &neuron_params::C_m, "membrane capacitance"},
    {"g_L", dimension::conductance, &neuron_params::g_L, "leak conductance"},
    {"E_L", dimension::voltage, &neuron_params::E_L, "leak reversal potential"},
    {"V_th", dimension::voltage, &neuron_params::V_th, "spike threshold"},
    {"V_reset", dimension::voltage, &neuron_params::V_reset, "reset potential"},
    {"t_ref", dimension::time, &neuron_params::t_ref, "absolute refractory period"},
    {"V_T", dimension::voltage, &neuron_params::V_T, "soft threshold of the exponential term"},
    {"Delta_T", dimension::voltage, &neuron_params::Delta_T, "spike sharpness factor"},
    {"V_peak", dimension::voltage, &neuron_params::V_peak, "spike detection voltage"},
    {"k", dimension::conductance_per_voltage, &neuron_params::k, "quadratic coefficient"},
    {"V_c", dimension::voltage, &neuron_params::V_c, "unstable fixed point"},
    {"a", dimension::conductance, &neuron_params::a, "subthreshold adaptation conductance"},
    {"b", dimension::current, &neuron_params::b, "spike-triggered adaptation increment"},
    {"tau_w", dimension::time, &neuron_params::tau_w, "adaptation time constant"},
}};

// Largest |voltage| a parameter or initial V_m may have [mV]: 1 kV, beyond any neuron and within
// float's range, in which V is recorded.
inline constexpr double max_abs_voltage_mV = 1e6;
inline constexpr std::string_view voltage_range_rule = "must be within +-1e6 mV";  // max_abs_voltage_mV
// Largest |current| a parameter (b), an input (I_e, steps, sigma_I) or an initial w or I_noise may
// have [pA]: 1 mA, a million times a neuron's rheobase (1e308 pA passed and made V infinite).
inline constexpr double max_abs_current_pA = 1e9;
inline constexpr std::string_view current_range_rule = "must be within +-1e9 pA (1 mA)";  // max_abs_current_pA

// Largest |conductance| a parameter (g_L, a) may have [nS]: 1 mS, as a synaptic weight's bound
// (a = 1e20 nS passed and ran V to -5e13 mV).
inline constexpr double max_abs_conductance_nS = 1e6;
inline constexpr std::string_view conductance_range_rule = "must be within +-1e6 nS (1 mS)";  // max_abs_conductance_nS

// Names of the parameters that model `m` reads, in the order of param_fields.
std::span<const std::string_view> model_param_names(model_kind m);

// Fills model defaults that depend on other parameters (V_peak).
neuron_params with_model_defaults(neuron_params p, model_kind m);

// Empty if `p` is a valid parameter set for `m` at a step of `dt_ms`; otherwise a message naming
// the parameter, its value and the constraint (C_m > 0, V_reset < V_th unless t_ref >= dt,
// V_c > E_L, ...).
std::string check_params(const neuron_params& p, model_kind m, double dt_ms);

// Whether the model has an adaptation current w.
constexpr bool has_adaptation(model_kind m) { return m == model_kind::alif || m == model_kind::adex; }

}  // namespace ifsim
