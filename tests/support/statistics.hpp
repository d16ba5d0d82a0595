// Statistics the tests share: the normal and chi-squared upper tails, and a Poisson goodness of fit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

namespace ifsim::test {

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Upper tail of chi-squared with dof degrees of freedom (Wilson-Hilferty; dof >= 5 for the tests).
inline double chi2_pvalue(double chi2, double dof) {
    const double h = 2.0 / (9.0 * dof);
    const double z = (std::cbrt(chi2 / dof) - (1.0 - h)) / std::sqrt(h);
    return 1.0 - normal_cdf(z);
}

inline long double poisson_pmf(long double mean, long long k) {
    return std::exp(k * std::log(mean) - mean - std::lgamma(static_cast<long double>(k) + 1));
}

struct poisson_fit {
    double mean, var;      // of the sample
    double z_mean, z_var;  // their distances from Poisson's, in standard errors
    double chi2;
    int dof;
    double p;  // chi-squared upper tail; 1 with a single bin
};

// The sample `counts` (value -> how often it occurred) against Poisson(mean): sample mean and
// variance as z scores (var of the sample variance ~ (mu4 - sigma^4) / n, mu4 = mean (1 + 3 mean)),
// and chi-squared over the bins that expect >= 5, tails merged into the outermost bins.
inline poisson_fit fit_poisson(const std::map<long long, std::uint64_t>& counts, double mean) {
    double n = 0, s1 = 0, s2 = 0;
    for (const auto& [k, c] : counts) {
        n += double(c);
        s1 += double(k) * double(c);
        s2 += double(k) * double(k) * double(c);
    }
    poisson_fit f{};
    f.mean = s1 / n;
    f.var = s2 / n - f.mean * f.mean;
    f.z_mean = (f.mean - mean) / std::sqrt(mean / n);
    f.z_var = (f.var - mean) / std::sqrt((mean * (1 + 3 * mean) - mean * mean) / n);

    const auto mode = static_cast<long long>(mean);
    long long lo = mode, hi = mode;
    while (lo > 0 && n * poisson_pmf(mean, lo - 1) >= 5) --lo;
    while (n * poisson_pmf(mean, hi + 1) >= 5) ++hi;
    long double below = 0;  // P(k < lo)
    for (long long k = 0; k < lo; ++k) below += poisson_pmf(mean, k);
    long double cum = below;
    std::uint64_t obs_below = 0, obs_above = 0;
    for (const auto& [k, c] : counts) {
        if (k < lo) obs_below += c;
        if (k > hi) obs_above += c;
    }
    int bins = 0;
    for (long long k = lo; k <= hi; ++k) {
        const long double p = poisson_pmf(mean, k);
        cum += p;
        const auto it = counts.find(k);
        double observed = it == counts.end() ? 0.0 : double(it->second);
        long double pe = p;
        if (k == lo) observed += double(obs_below), pe += below;
        if (k == hi) observed += double(obs_above), pe += std::max<long double>(0, 1 - cum);
        const double expected = double(n * pe);
        f.chi2 += (observed - expected) * (observed - expected) / expected;
        ++bins;
    }
    f.dof = bins - 1;
    f.p = bins > 1 ? chi2_pvalue(f.chi2, bins - 1) : 1.0;
    return f;
}

}  // namespace ifsim::test
