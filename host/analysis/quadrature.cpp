// Adaptive Gauss-Legendre quadrature. The nodes are computed once by Newton's method on the
// Legendre recurrence (to round-off), so no tables of magic numbers live in the source.
#include "quadrature.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace ifsim::analysis::detail {

namespace {

template <int N>
struct gauss_legendre {
    // nodes in (0, 1) of the symmetric rule on [-1, 1] and their weights; for odd N the last entry
    // is the node at 0 (counted once)
    std::array<double, (N + 1) / 2> x{}, w{};

    gauss_legendre() {
        for (int i = 0; i < (N + 1) / 2; ++i) {
            // Tricomi's initial guess for the i-th largest root, then Newton on P_N.
            double z = std::cos(std::numbers::pi * (i + 0.75) / (N + 0.5));
            double dp = 1.0;
            for (int it = 0; it < 100; ++it) {
                double p0 = 1.0, p1 = z;
                for (int k = 2; k <= N; ++k) {
                    const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = N * (z * p1 - p0) / (z * z - 1.0);
                const double dz = p1 / dp;
                z -= dz;
                if (std::abs(dz) < 1e-17) break;
            }
            x[i] = z;
            w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
        }
    }

    double apply(const std::function<double(double)>& f, double c, double h) const {
        double s = 0.0;
        for (int i = 0; i < N / 2; ++i) s += w[i] * (f(c - h * x[i]) + f(c + h * x[i]));
        if constexpr (N % 2 == 1) s += w[N / 2] * f(c);
        return s * h;
    }
};

struct interval {
    double a, b, value, error;
    bool operator<(const interval& o) const { return error < o.error; }
};

interval estimate(const std::function<double(double)>& f, double a, double b) {
    static const gauss_legendre<10> g10;
    static const gauss_legendre<20> g20;
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    const double v20 = g20.apply(f, c, h);
    const double v10 = g10.apply(f, c, h);
    return {a, b, v20, std::abs(v20 - v10)};
}

}  // namespace

quad_result integrate(const std::function<double(double)>& f, double a, double b, double rel_tol,
                      double abs_tol, int max_intervals) {
    if (a == b) return {0.0, 0.0};
    if (a > b) {
        const auto r = integrate(f, b, a, rel_tol, abs_tol, max_intervals);
        return {-r.value, r.error};
    }
    std::vector<interval> heap{estimate(f, a, b)};
    double value = heap.front().value, error = heap.front().error;
    const auto resum = [&] {
        value = 0.0;
        error = 0.0;
        for (const auto& iv : heap) {
            value += iv.value;
            error += iv.error;
        }
    };
    for (int it = 1; error > std::max(abs_tol, rel_tol * std::abs(value)) &&
                     static_cast<int>(heap.size()) < max_intervals;
         ++it) {
        std::pop_heap(heap.begin(), heap.end());
        const interval worst = heap.back();
        heap.pop_back();
        const double mid = 0.5 * (worst.a + worst.b);
        if (!(mid > worst.a && mid < worst.b)) break;  // cannot split further in double
        const interval left = estimate(f, worst.a, mid), right = estimate(f, mid, worst.b);
        heap.push_back(left);
        std::push_heap(heap.begin(), heap.end());
        heap.push_back(right);
        std::push_heap(heap.begin(), heap.end());
        value += (left.value + right.value) - worst.value;
        error += (left.error + right.error) - worst.error;
        // Re-sum now and then, so that round-off in the running totals cannot stall the loop.
        if (it % 64 == 0) resum();
    }
    resum();
    return {value, error};
}

}  // namespace ifsim::analysis::detail
