// Stateless, counter-based noise (DESIGN.md principle 3): Philox4x32-10 (Salmon, Moraes, Dror and
// Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), uniforms, Box-Muller normals and
// exact Poisson counts, all IFSIM_HD and built from ifsim::math, so the CPU and the GPU draw the
// same bits.
//
// Key and counter follow cuRAND's Philox4_32_10 device API, so the CUDA backend may equally draw
// through cuRAND:
//   key     = (k0, k1) = (low 32 bits of seed64, high 32 bits of seed64); ifsim sets
//             seed64 = seed | (uint64(stream) << 32), i.e. k0 = seed (< 2^32), k1 = stream.
//   counter = (x, y, z, w): (x, y) = the 64-bit block index (offset / 4), (z, w) = the 64-bit
//             subsequence.
// So philox4x32_10(make_counter(id, b), make_key(seed, stream)) equals the four words returned by
// curand4() right after curand_init(seed | (uint64(stream) << 32), id, 4 * b, &state).
//
// ifsim's counter: subsequence = global neuron (or synapse) id, block = step * rng_blocks_per_step
// + purpose. Each (id, step) owns 16 blocks of 4 words:
//   purpose 0 (neuron)      x, y: one Box-Muller pair (two standard normals); z: the uniform of
//                           the Brownian-bridge threshold-crossing test; w: spare.
//   purposes 1..13 (poisson) consumed in order by poisson_count (see there).
//   purpose 14               unassigned, reserved.
//   purpose 15 (init)        per-neuron values drawn once, at step 0 (realize.hpp).
#pragma once

#include <cstdint>

#include "ifsim/math.hpp"
#include "ifsim/platform.hpp"

namespace ifsim {

struct philox_key {
    std::uint32_t k0, k1;
};
struct philox_block {
    std::uint32_t x, y, z, w;
};

inline constexpr std::uint64_t rng_blocks_per_step = 16;

enum class rng_purpose : std::uint32_t {
    neuron = 0,   // Box-Muller pair, bridge uniform, spare
    poisson = 1,  // first of rng_poisson_blocks blocks (1..13)
    init = 15,    // per-neuron initial values and parameters, step 0
};
inline constexpr std::uint32_t rng_poisson_blocks = 13;

// Philox4x32-10 on words of type Word: std::uint32_t for one counter, or a vector of them for
// several counters at once (the CPU backend's lanes, host/cpu_philox.hpp). mulhilo(a, m, hi, lo)
// gives the high and low words of the 64-bit product a * m. Ten rounds; the key is bumped by the
// Weyl constants between rounds.
template <class Word, class MulHiLo>
IFSIM_HD void philox4x32_10_words(Word& x, Word& y, Word& z, Word& w, philox_key key, MulHiLo mulhilo) {
    std::uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        Word hi0, lo0, hi1, lo1;
        mulhilo(x, 0xD2511F53u, hi0, lo0);
        mulhilo(z, 0xCD9E8D57u, hi1, lo1);
        x = hi1 ^ y ^ k0;
        y = lo1;
        z = hi0 ^ w ^ k1;
        w = lo0;
    }
}

IFSIM_HD philox_block philox4x32_10(philox_block counter, philox_key key) {
    philox4x32_10_words(counter.x, counter.y, counter.z, counter.w, key,
                        [](std::uint32_t a, std::uint32_t m, std::uint32_t& hi, std::uint32_t& lo) {
                            const std::uint64_t p = std::uint64_t{m} * a;
                            hi = static_cast<std::uint32_t>(p >> 32);
                            lo = static_cast<std::uint32_t>(p);
                        });
    return counter;
}

// Precondition (validated with the config): seed < 2^32; higher bits are ignored.
IFSIM_HD philox_key make_key(std::uint64_t seed, std::uint32_t stream) {
    return philox_key{static_cast<std::uint32_t>(seed), stream};
}

IFSIM_HD philox_block make_counter(std::uint64_t subsequence, std::uint64_t block) {
    return philox_block{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                        static_cast<std::uint32_t>(subsequence),
                        static_cast<std::uint32_t>(subsequence >> 32)};
}

// The block of (id, step, purpose); purpose < rng_blocks_per_step.
IFSIM_HD philox_block draw(philox_key key, std::uint64_t id, std::uint64_t step,
                           std::uint32_t purpose) {
    return philox4x32_10(make_counter(id, step * rng_blocks_per_step + purpose), key);
}
IFSIM_HD philox_block draw(philox_key key, std::uint64_t id, std::uint64_t step, rng_purpose p) {
    return draw(key, id, step, static_cast<std::uint32_t>(p));
}

// A uniform in the open interval (0, 1), centred in its bin so the grid is symmetric about 1/2:
//   float:  (top 23 bits + 1/2) * 2^-23, in [2^-24, 1 - 2^-24]. Not 24 bits: (k + 1/2) 2^-24 needs
//           a 25-bit significand, and its largest value 1 - 2^-25 would round to 1.
//   double: (all 32 bits + 1/2) * 2^-32, in [2^-33, 1 - 2^-33], exact.
template <class Real> IFSIM_HD Real uniform_open(std::uint32_t bits) {
    if constexpr (sizeof(Real) == 4) {
        return (static_cast<float>(bits >> 9) + 0.5f) * 0x1p-23f;
    } else {
        return (static_cast<double>(bits) + 0.5) * 0x1p-32;
    }
}

// The top 53 bits of two words (hi's 32, lo's upper 21): a double's whole significand.
IFSIM_HD std::uint64_t bits53(std::uint32_t hi, std::uint32_t lo) {
    return (static_cast<std::uint64_t>(hi) << 21) | (lo >> 11);
}

// Two independent standard normals from two words: r = sqrt(-2 log u1), angle 2 pi u2.
// float: |n| <= 5.77 (u1 >= 2^-24); double: |n| <= 6.76 (u1 >= 2^-33).
template <class Real>
IFSIM_HD void box_muller(std::uint32_t a, std::uint32_t b, Real& n0, Real& n1) {
    const Real u1 = uniform_open<Real>(a);
    const Real u2 = uniform_open<Real>(b);
    const Real r = math::sqrt(Real(-2) * math::log(u1));
    Real s, c;
    math::sincospi(Real(2) * u2, s, c);
    n0 = r * c;
    n1 = r * s;
}

namespace detail {

// log(k!) exactly rounded enough for the PTRS acceptance test: by the exact product for k < 18
// (17! < 2^53), by Stirling's series with four correction terms beyond (error < 3e-15).
IFSIM_HD double log_factorial(double k) {
    if (k < 18.0) {
        double p = 1.0;
        for (double i = 2.0; i <= k; i += 1.0) p *= i;
        return math::log(p);
    }
    const double n = k + 1.0;
    const double r = 1.0 / n, r2 = r * r;
    const double series = r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)));
    return (n - 0.5) * math::log(n) - n + 0.9189385332046728 + series;
}

// The words of the Poisson blocks of (id, step), one at a time, in order x, y, z, w of block 1,
// then block 2, ...
struct poisson_words {
    philox_key key;
    std::uint64_t id, step;
    philox_block block{};
    std::uint32_t used = 0;  // words handed out so far

    IFSIM_HD std::uint32_t next() {
        const std::uint32_t i = used % 4;
        if (i == 0)
            block = draw(key, id, step, static_cast<std::uint32_t>(rng_purpose::poisson) + used / 4);
        ++used;
        return i == 0 ? block.x : i == 1 ? block.y : i == 2 ? block.z : block.w;
    }
};

}  // namespace detail

// Poisson mean below which poisson_count inverts the CDF.
inline constexpr double poisson_inversion_max_mean = 10.0;
// The largest mean poisson_count draws exactly (config validation holds input.poisson to it).
inline constexpr double max_poisson_mean_per_step = 1e6;
// PTRS iterations before the normal fallback: 2 words each, 12 blocks (block 13 is the fallback).
inline constexpr std::uint32_t poisson_max_tries = 24;

// One Poisson(mean) count for (id, step), exact in distribution up to double rounding, for mean
// in [0, 1e6] (mean <= 0 or NaN gives 0). Arithmetic is in double whatever Real is: the PTRS
// acceptance test subtracts terms of size mean * log(mean) (1.4e7 at 1e6), which float cannot.
//   mean < 10: sequential search of the CDF with one 52-bit uniform (words x, y of block 1).
//   mean >= 10: Hörmann's transformed rejection with squeeze (PTRS, Insurance: Mathematics and
//     Economics 12, 1993), two words per try from blocks 1..12 in order. Each try is accepted
//     with probability > 0.85, so 24 rejections in a row have probability < 1e-19; only then is
//     block 13 used, for max(0, round(mean + sqrt(mean) n)) with n a Box-Muller normal.
// The CDF that the sequential search of poisson_count walks for one mean below
// poisson_inversion_max_mean, accumulated with the same operations in the same order, so that
// searching it gives the same count bit for bit (P(k > 80) < 1e-60 for mean < 10: the cap only
// stops a search the rounding of the cdf left short of u). A population whose Poisson mean is
// the same for every neuron fills it once instead of every neuron-step.
inline constexpr std::uint32_t poisson_cdf_terms = 81;
struct poisson_cdf {
    double cdf[poisson_cdf_terms];  // cdf[k] = P(X <= k) as accumulated
};

IFSIM_HD poisson_cdf make_poisson_cdf(double mean) {
    poisson_cdf t{};
    double p = math::exp(-mean);
    double cdf = p;
    t.cdf[0] = cdf;
    for (std::uint32_t k = 1; k < poisson_cdf_terms; ++k) {
        p *= mean / static_cast<double>(k);
        cdf += p;
        t.cdf[k] = cdf;
    }
    return t;
}

namespace detail {

// The 52-bit uniform ((hi:lo >> 12) + 1/2) 2^-52 in (0, 1) of two Philox words, exact (math::
// to_double: the value is below 2^52, and the CPU converts it in vector lanes).
IFSIM_HD double uniform52(std::uint32_t hi, std::uint32_t lo) {
    const auto bits52 = static_cast<std::int64_t>((static_cast<std::uint64_t>(hi) << 20) | (lo >> 12));
    return (math::to_double(bits52) + 0.5) * 0x1p-52;
}

// The uniform of the CDF search: words x, y of the first Poisson block.
IFSIM_HD double poisson_uniform(poisson_words& words) {
    const std::uint32_t hi = words.next(), lo = words.next();
    return uniform52(hi, lo);
}

IFSIM_HD std::uint32_t search_cdf(double u, const double* cdf) {
    std::uint32_t k = 0;
    while (u > cdf[k] && k < poisson_cdf_terms - 1) ++k;
    return k;
}

}  // namespace detail

// The uniform that poisson_count inverts for (id, step) when the mean is below
// poisson_inversion_max_mean.
IFSIM_HD double poisson_search_uniform(const philox_block& first_poisson_block) {
    return detail::uniform52(first_poisson_block.x, first_poisson_block.y);
}
IFSIM_HD double poisson_search_uniform(philox_key key, std::uint64_t id, std::uint64_t step) {
    return poisson_search_uniform(draw(key, id, step, static_cast<std::uint32_t>(rng_purpose::poisson)));
}

// The search of poisson_count over the first `Head` terms of the CDF, branch free for vector
// lanes: the number of cdf[0..Head) below u. The cdf is nondecreasing, so these are a prefix and
// a result below Head is the search's own; Head means the search goes on past them.
template <std::uint32_t Head>
IFSIM_HD std::uint32_t search_cdf_head(double u, const poisson_cdf& table) {
    static_assert(Head < poisson_cdf_terms);
    std::uint32_t k = 0;
    for (std::uint32_t t = 0; t < Head; ++t) k += u > table.cdf[t] ? 1u : 0u;
    return k;
}

// poisson_count for a mean in (0, poisson_inversion_max_mean) whose table is at hand.
IFSIM_HD std::uint32_t poisson_count(const poisson_cdf& table, philox_key key, std::uint64_t id, std::uint64_t step) {
    return detail::search_cdf(poisson_search_uniform(key, id, step), table.cdf);
}

template <class Real>
IFSIM_HD std::uint32_t poisson_count(Real mean_in, philox_key key, std::uint64_t id,
                                     std::uint64_t step) {
    const double mean = static_cast<double>(mean_in);
    if (!(mean > 0.0)) return 0;
    detail::poisson_words words{key, id, step};
    if (mean < poisson_inversion_max_mean) {
        const double u = detail::poisson_uniform(words);
        // The search of make_poisson_cdf's table, accumulated as it goes.
        double p = math::exp(-mean);
        double cdf = p;
        std::uint32_t k = 0;
        while (u > cdf && k < poisson_cdf_terms - 1) {
            ++k;
            p *= mean / static_cast<double>(k);
            cdf += p;
        }
        return k;
    }
    const double slam = math::sqrt(mean);
    const double loglam = math::log(mean);
    const double b = 0.931 + 2.53 * slam;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double v_r = 0.9277 - 3.6224 / (b - 2.0);
    const double log_inv_alpha = math::log(inv_alpha);
    for (std::uint32_t t = 0; t < poisson_max_tries; ++t) {
        const double U = uniform_open<double>(words.next()) - 0.5;
        const double V = uniform_open<double>(words.next());
        const double us = 0.5 - math::detail::abs(U);
        // bounded so the floor stays exact; any k that large is rejected below
        double y = (2.0 * a / us + b) * U + mean + 0.43;
        y = y < 4.0e9 ? y : 4.0e9;
        const double k = math::floor(y);
        if (us >= 0.07 && V <= v_r) return static_cast<std::uint32_t>(k);
        if (k < 0.0 || (us < 0.013 && V > us)) continue;
        const double lhs = math::log(V) + log_inv_alpha - math::log(a / (us * us) + b);
        const double rhs = -mean + k * loglam - detail::log_factorial(k);
        if (lhs <= rhs) return static_cast<std::uint32_t>(k);
    }
    const philox_block last = draw(
        key, id, step, static_cast<std::uint32_t>(rng_purpose::poisson) + rng_poisson_blocks - 1);
    double n0, n1;
    box_muller<double>(last.x, last.y, n0, n1);
    const double k = math::floor(mean + slam * n0 + 0.5);
    return k > 0.0 ? static_cast<std::uint32_t>(k) : 0u;
}

}  // namespace ifsim
