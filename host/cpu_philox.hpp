// Philox4x32-10 for several counters at once on the CPU, in GCC vector types: the same rounds as
// philox4x32_10 (random.hpp), with the 32 x 32 -> 64-bit products done as the CPU's widening
// multiply of even and odd lanes (vpmuludq). gcc's vectoriser, left to the scalar code, widens
// each word to 64 bits and multiplies in 64-bit lanes instead (AVX-512's vpmullq, three times
// the work): these lanes draw the same bits (tests/test_random.cpp) 3.6x faster with AVX-512.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "ifsim/random.hpp"

namespace ifsim::cpu {

// Whether the lanes beat gcc's vectorisation of the scalar draw: with AVX2 or AVX-512 (x86-64-v3
// and v4: 1.8x and 3.6x; with SSE2 alone 0.8x).
#if defined(__AVX512F__) || defined(__AVX2__)
inline constexpr bool philox_lanes_pay = true;
#else
inline constexpr bool philox_lanes_pay = false;
#endif

// As many lanes as one vector register holds words: wider vectors cost gcc more than they save.
#if defined(__AVX512F__)
inline constexpr int philox_lanes = 16;
#elif defined(__AVX2__)
inline constexpr int philox_lanes = 8;
#else
inline constexpr int philox_lanes = 4;
#endif
using word_lanes = std::uint32_t __attribute__((vector_size(4 * philox_lanes)));
using wide_lanes = std::uint64_t __attribute__((vector_size(4 * philox_lanes)));

// The low word of each 64-bit lane times m, as 64-bit products: one instruction on x86
// (pmuludq), which gcc does not find for the plain expression.
inline wide_lanes mul_low_words(wide_lanes a, std::uint32_t m) {
#if defined(__AVX512F__)
    // maskz with every lane: _mm512_mul_epu32's undefined pass-through trips gcc 12's
    // -Wmaybe-uninitialized once inlined.
    return reinterpret_cast<wide_lanes>(
        _mm512_maskz_mul_epu32(__mmask8(0xFF), reinterpret_cast<__m512i>(a), _mm512_set1_epi64(m)));
#elif defined(__AVX2__)
    return reinterpret_cast<wide_lanes>(_mm256_mul_epu32(reinterpret_cast<__m256i>(a), _mm256_set1_epi64x(m)));
#elif defined(__SSE2__)
    return reinterpret_cast<wide_lanes>(_mm_mul_epu32(reinterpret_cast<__m128i>(a), _mm_set1_epi64x(m)));
#else
    return (a & 0xFFFFFFFFu) * m;
#endif
}

// hi and lo of a * m in each lane: the even lanes' products in the 64-bit halves of `even`, the
// odd lanes' in those of `odd`, then each word moved back to its own lane.
inline void mulhilo_lanes(word_lanes a, std::uint32_t m, word_lanes& hi, word_lanes& lo) {
    // Swap the two words of each 64-bit half: a shuffle rather than a shift, which would compete
    // with the multiplies for their port.
    word_lanes swap{};
    for (int k = 0; k < philox_lanes; ++k) swap[k] = std::uint32_t(k ^ 1);
    const wide_lanes even = mul_low_words(reinterpret_cast<wide_lanes>(a), m);  // a * m of lanes 0, 2, ...
    const wide_lanes odd = mul_low_words(reinterpret_cast<wide_lanes>(__builtin_shuffle(a, swap)), m);  // of 1, 3, ...
    word_lanes odd_lane{};
    for (int k = 1; k < philox_lanes; k += 2) odd_lane[k] = ~0u;
    const word_lanes even_w = reinterpret_cast<word_lanes>(even), odd_w = reinterpret_cast<word_lanes>(odd);
    hi = odd_lane ? odd_w : __builtin_shuffle(even_w, swap);
    lo = odd_lane ? __builtin_shuffle(odd_w, swap) : even_w;
}

// The blocks of `purpose` for ids first_id, ..., first_id + philox_lanes - 1 in `step`: word
// lanes x, y, z, w as draw(key, first_id + k, step, purpose) gives them for lane k.
struct block_lanes {
    word_lanes x, y, z, w;
};
inline block_lanes draw_lanes(philox_key key, std::uint64_t first_id, std::uint64_t step, std::uint32_t purpose) {
    const std::uint64_t block = step * rng_blocks_per_step + purpose;
    block_lanes b;
    b.x = word_lanes{} + static_cast<std::uint32_t>(block);
    b.y = word_lanes{} + static_cast<std::uint32_t>(block >> 32);
    // The counter's subsequence, the id, as make_counter: low words first_id + k, and the high
    // word plus a carry where the low one wrapped. In vector operations: lane by lane stores,
    // read back as a vector, stalled each draw on store forwarding (a sixth of a noisy LIF's time).
    word_lanes lane{};
    for (int k = 0; k < philox_lanes; ++k) lane[k] = std::uint32_t(k);
    const auto low = static_cast<std::uint32_t>(first_id);
    b.z = low + lane;
    b.w = static_cast<std::uint32_t>(first_id >> 32) - reinterpret_cast<word_lanes>(b.z < low);
    philox4x32_10_words(b.x, b.y, b.z, b.w, key, mulhilo_lanes);
    return b;
}

// The words x, y, z (and w where asked) of the blocks of `purpose` in `step` for ids first_id ...
// first_id + count - 1, into arrays of at least count rounded up to philox_lanes: by the lanes
// where they pay, else by gcc's vectorisation of draw().
inline void draw_words(philox_key key, std::uint64_t first_id, std::int64_t count, std::uint64_t step,
                       std::uint32_t purpose, std::uint32_t* x, std::uint32_t* y, std::uint32_t* z,
                       std::uint32_t* w = nullptr) {
    if constexpr (philox_lanes_pay) {
        for (std::int64_t j = 0; j < count; j += philox_lanes) {
            const block_lanes b = draw_lanes(key, first_id + std::uint64_t(j), step, purpose);
            std::memcpy(x + j, &b.x, sizeof b.x);
            std::memcpy(y + j, &b.y, sizeof b.y);
            std::memcpy(z + j, &b.z, sizeof b.z);
            if (w) std::memcpy(w + j, &b.w, sizeof b.w);
        }
    } else {
#pragma omp simd
        for (std::int64_t j = 0; j < count; ++j) {
            const philox_block b = draw(key, first_id + std::uint64_t(j), step, purpose);
            x[j] = b.x;
            y[j] = b.y;
            z[j] = b.z;
            if (w) w[j] = b.w;
        }
    }
}

}  // namespace ifsim::cpu
