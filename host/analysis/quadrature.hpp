// Adaptive Gauss-Legendre quadrature for the analysis code (private to host/analysis).
#pragma once

#include <functional>

namespace ifsim::analysis::detail {

struct quad_result {
    double value;  // the integral estimate
    double error;  // estimated absolute error (sum over the final intervals of |G20 - G10|)
};

// Integrates f over the finite interval [a, b] (a > b gives the negative of [b, a]) with globally
// adaptive bisection: each interval is estimated with the 20-point Gauss-Legendre rule, its error
// with |G20 - G10| (pessimistic for smooth f: it is the error of the 10-point rule), and the interval
// with the largest error is halved until the summed error is below max(abs_tol, rel_tol |value|) or
// max_intervals is reached. Deterministic: the same inputs give the same bits.
quad_result integrate(const std::function<double(double)>& f, double a, double b, double rel_tol,
                      double abs_tol = 0.0, int max_intervals = 4000);

}  // namespace ifsim::analysis::detail
