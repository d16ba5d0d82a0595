// All models, and the one place that turns a runtime model_kind into a compile-time model type.
#pragma once

#include <utility>

#include "ifsim/models/eif.hpp"
#include "ifsim/models/lif.hpp"
#include "ifsim/models/params.hpp"
#include "ifsim/models/qif.hpp"

namespace ifsim {

// Calls f.template operator()<Model>() with the model type for `m`.
template <class F>
decltype(auto) with_model(model_kind m, F&& f) {
    switch (m) {
        case model_kind::lif: return std::forward<F>(f).template operator()<lif_model>();
        case model_kind::eif: return std::forward<F>(f).template operator()<eif_model>();
        case model_kind::qif: return std::forward<F>(f).template operator()<qif_model>();
        case model_kind::alif: return std::forward<F>(f).template operator()<alif_model>();
        case model_kind::adex: break;
    }
    return std::forward<F>(f).template operator()<adex_model>();
}

}  // namespace ifsim
