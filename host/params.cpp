// Model parameter tables and their validation.
#include "ifsim/models/params.hpp"

#include <cmath>

namespace ifsim {

std::string_view model_name(model_kind m) {
    switch (m) {
        case model_kind::lif: return "lif";
        case model_kind::eif: return "eif";
        case model_kind::qif: return "qif";
        case model_kind::alif: return "alif";
        case model_kind::adex: return "adex";
    }
    return "?";
}

std::span<const std::string_view> model_param_names(model_kind m) {
    static constexpr std::string_view lif[] = {"C_m", "g_L", "E_L", "V_th", "V_reset", "t_ref"};
    static constexpr std::string_view eif[] = {"C_m",     "g_L",     "E_L", "V_reset",
                                               "t_ref",   "V_T",     "Delta_T", "V_peak"};
    static constexpr std::string_view qif[] = {"C_m", "E_L", "V_reset", "t_ref",
                                               "V_peak", "k", "V_c"};
    static constexpr std::string_view alif[] = {"C_m", "g_L", "E_L", "V_th", "V_reset",
                                                "t_ref", "a", "b", "tau_w"};
    static constexpr std::string_view adex[] = {"C_m",    "g_L", "E_L", "V_reset", "t_ref", "V_T",
                                                "Delta_T", "V_peak", "a", "b", "tau_w"};
    switch (m) {
        case model_kind::lif: return lif;
        case model_kind::eif: return eif;
        case model_kind::qif: return qif;
        case model_kind::alif: return alif;
        case model_kind::adex: return adex;
    }
    return {};
}

neuron_params with_model_defaults(neuron_params p, model_kind m) {
    if (std::isnan(p.V_peak)) {
        p.V_peak = (m == model_kind::qif) ? 20.0 : p.V_T + 5.0 * p.Delta_T;
    }
    return p;
}

std::string check_params(const neuron_params& p, model_kind m, double dt_ms) {
    const auto uses = [m](std::string_view name) {
        for (auto n : model_param_names(m))
            if (n == name) return true;
        return false;
    };
    for (const auto& f : param_fields) {
        if (uses(f.name) && !std::isfinite(p.*f.member))
            return std::string(f.name) + " = " + format_number(p.*f.member) + " must be a finite number";
        // (a double run's E_L = -1e300 mV was recorded as -inf)
        if (uses(f.name) && f.dim == dimension::voltage && !(std::fabs(p.*f.member) <= max_abs_voltage_mV))
            return std::string(f.name) + " = " + format_number(p.*f.member) + " mV " + std::string(voltage_range_rule);
        if (uses(f.name) && f.dim == dimension::current && !(std::fabs(p.*f.member) <= max_abs_current_pA))
            return std::string(f.name) + " = " + format_number(p.*f.member) + " pA " + std::string(current_range_rule);
        if (uses(f.name) && f.dim == dimension::conductance && !(std::fabs(p.*f.member) <= max_abs_conductance_nS))
            return std::string(f.name) + " = " + format_number(p.*f.member) + " nS " + std::string(conductance_range_rule);
    }
    const auto positive = [](double v) { return v > 0.0; };
    if (!positive(p.C_m)) return "C_m = " + format_number(p.C_m) + " pF must be > 0";
    if (uses("g_L") && !positive(p.g_L)) return "g_L = " + format_number(p.g_L) + " nS must be > 0";
    if (p.t_ref < 0.0) return "t_ref = " + format_number(p.t_ref) + " ms must be >= 0";
    if (uses("Delta_T") && !positive(p.Delta_T))
        return "Delta_T = " + format_number(p.Delta_T) + " mV must be > 0 (use model = \"lif\" for the limit 0)";
    if (uses("k") && !positive(p.k)) return "k = " + format_number(p.k) + " nS/mV must be > 0";
    if (uses("V_c") && !(p.V_c > p.E_L))
        return "V_c = " + format_number(p.V_c) + " mV must be above E_L = " + format_number(p.E_L) + " mV";
    if (uses("tau_w") && !positive(p.tau_w)) return "tau_w = " + format_number(p.tau_w) + " ms must be > 0";

    // The spike condition: a hard threshold, or V_peak for the models whose V runs away.
    const bool hard = uses("V_th");
    const double spike_at = hard ? p.V_th : p.V_peak;
    const char* spike_name = hard ? "V_th" : "V_peak";
    if (!(p.V_reset < spike_at) && !hard)
        return "V_reset = " + format_number(p.V_reset) + " mV must be below V_peak = " + format_number(p.V_peak) + " mV";
    if (!(p.V_reset < spike_at) && p.t_ref == 0.0)
        return "V_reset = " + format_number(p.V_reset) + " mV must be below " + spike_name + " = " +
               format_number(spike_at) + " mV when t_ref = 0 (the neuron would spike forever in no time)";
    if (!(p.V_reset < spike_at) && p.t_ref < dt_ms)
        return "V_reset = " + format_number(p.V_reset) + " mV must be below " + spike_name + " = " +
               format_number(spike_at) + " mV when t_ref = " + format_number(p.t_ref) +
               " ms is under one step of dt = " + format_number(dt_ms) +
               " ms (the neuron would spike at every step)";
    if (uses("V_T") && !(p.V_peak > p.V_T)) {
        // The default V_T + 5 Delta_T rounds to V_T where Delta_T is below V_T's ulp: said so, as
        // the user may not have set V_peak at all (whether they did is not known here).
        const bool as_default = p.V_peak == p.V_T + 5.0 * p.Delta_T;
        return "V_peak = " + format_number(p.V_peak) + " mV must be above V_T = " + format_number(p.V_T) + " mV" +
               (as_default ? "; Delta_T = " + format_number(p.Delta_T) +
                                 " mV is too small for the default V_peak, V_T + 5 Delta_T, to differ from V_T: set "
                                 "V_peak, or a larger Delta_T"
                           : "");
    }
    if (uses("V_c") && !(p.V_peak > p.V_c))
        return "V_peak = " + format_number(p.V_peak) + " mV must be above V_c = " + format_number(p.V_c) + " mV";
    return {};
}

}  // namespace ifsim
