// Connectivity generation: connection rules (pairwise Bernoulli, fixed in-/out-degree, fixed total,
// all-to-all, one-to-one) realised as a CSR by presynaptic neuron (DESIGN.md, "Backends and the
// step loop"). Weights and delays are attached elsewhere.
//
// Random rules draw from the stateless Philox (DESIGN.md principle 3), so a connectivity depends
// only on (rule, sizes, seed, projection index), never on thread count, and a GPU generator can
// produce the same rows:
//   key          make_key(seed, connectivity_stream(projection_index))
//   subsequence  the row's id: the source for pairwise_bernoulli and fixed_outdegree, the target
//                for fixed_indegree, the synapse index s (0..N-1) for fixed_total
//   words        the row's word stream: x, y, z, w of block 0, then of block 1, ... (row_words);
//                the block index counts from 0 without bound (the stream is the projection's own,
//                so it never meets the per-step neuron blocks)
// See connect() for what each rule draws from its row's words.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ifsim/math.hpp"
#include "ifsim/platform.hpp"
#include "ifsim/random.hpp"
#include "ifsim/uninitialized_vector.hpp"

namespace ifsim {

// Connectivity stored by presynaptic neuron. Ids are local to the source and target populations.
// The per-synapse arrays are filled whole by parallel loops, so they skip std::vector's serial
// zero fill (uninitialized_vector.hpp): 3 GB for the microcircuit's synapses.
struct csr {
    std::uint64_t num_sources = 0, num_targets = 0;
    std::vector<std::uint64_t> row_offsets;    // num_sources + 1; row i is [row_offsets[i], row_offsets[i+1])
    uninitialized_vector<std::uint32_t> targets;  // target index per synapse, sorted within each row
};

// Where in a row of `length` synapses over n targets the first target >= value lies if the row
// spreads evenly: seek_target's first guess.
inline std::uint64_t even_spread_index(std::uint64_t length, std::uint32_t value, std::uint64_t n) {
    return length * value / n;
}

// The first synapse of a row (sorted targets [row, end) among n) whose target is >= value:
// std::lower_bound's answer for any sorted row. The random rules spread a row evenly over the n
// targets, so the search starts where an even spread puts `value` and gallops from there: one or
// two cache lines of a row that is usually not cached, where a binary search waits on a chain of
// log2(length) misses (a quarter of Brunel's delivery on the CPU).
inline const std::uint32_t* seek_target(const std::uint32_t* row, const std::uint32_t* end, std::uint32_t value,
                                        std::uint64_t n) {
    const auto length = std::uint64_t(end - row);
    if (length == 0 || value == 0) return row;
    if (value >= n) return end;
    const std::uint32_t* guess = row + even_spread_index(length, value, n);  // < end, as value < n
    std::ptrdiff_t step = 1;
    if (*guess < value) {  // after guess; every target before lo is < value
        const std::uint32_t* lo = guess + 1;
        while (end - lo > step && lo[step - 1] < value) {
            lo += step;
            step *= 2;
        }
        return std::lower_bound(lo, end - lo > step ? lo + step : end, value);
    }
    const std::uint32_t* hi = guess;  // at or before guess; every target from hi on is >= value
    while (hi - row > step && hi[-step] >= value) {
        hi -= step;
        step *= 2;
    }
    return std::lower_bound(hi - row > step ? hi - step : row, hi, value);
}

enum class rule_kind {
    pairwise_bernoulli,  // each (i, j) independently with probability p
    fixed_indegree,      // every target gets exactly `degree` sources
    fixed_outdegree,     // every source gets exactly `degree` targets
    fixed_total,         // exactly `degree` synapses in all, pairs drawn uniformly
    all_to_all,          // every pair
    one_to_one,          // i -> i; needs num_sources == num_targets
    from_file,           // the synapses a file lists (synapse_file.hpp); built by build_network, not connect()
};
// The rule names as the config writes them, in the order of rule_kind.
inline constexpr std::array<std::string_view, 7> rule_names = {
    "pairwise_bernoulli", "fixed_indegree", "fixed_outdegree", "fixed_total", "all_to_all", "one_to_one", "from_file"};

struct connection_rule {
    rule_kind kind = rule_kind::all_to_all;
    double p = 0;              // pairwise_bernoulli: connection probability in [0, 1]
    std::uint64_t degree = 0;  // K for fixed_indegree / fixed_outdegree, N for fixed_total
    bool autapses = true;      // i -> i allowed; only meaningful when source and target populations are the same
    bool multapses = true;     // repeated pairs allowed (fixed_indegree, fixed_outdegree, fixed_total)
    std::string file;          // from_file: the synapse file, absolute or relative to the working directory
};

// RNG stream of projection `projection_index`: above every per-neuron value stream
// (population_setup.hpp, < 0x10000) and the noise stream. Precondition: projection_index <
// 2^32 - 2^16 (the config validates far fewer projections than that).
inline constexpr std::uint32_t connectivity_stream_base = 0x10000;
IFSIM_HD std::uint32_t connectivity_stream(std::uint32_t projection_index) {
    return connectivity_stream_base + projection_index;
}

// Uniform in (0, 1) from two words: (53 bits + 1/2) 2^-53, exact below 1/2; above it the half
// rounds to even (to either neighbour), and the all-ones words' 1 is taken to the largest double
// below 1. Never 0, whose log geometric_skip would take.
IFSIM_HD double uniform53_of(std::uint32_t hi, std::uint32_t lo) {
    const double u = (static_cast<double>(bits53(hi, lo)) + 0.5) * 0x1p-53;
    return u < 1.0 ? u : 0x1.fffffffffffffp-1;
}

// The words of one row's Philox stream, in order: block b = philox(counter(row, b), key), words
// x, y, z, w, then block b + 1.
struct row_words {
    philox_key key;
    std::uint64_t row;
    std::uint64_t block = 0;  // next block to draw
    philox_block current{};
    std::uint32_t used = 4;   // words of `current` handed out

    IFSIM_HD std::uint32_t next() {
        if (used == 4) {
            current = philox4x32_10(make_counter(row, block), key);
            ++block;
            used = 0;
        }
        const std::uint32_t i = used++;
        return i == 0 ? current.x : i == 1 ? current.y : i == 2 ? current.z : current.w;
    }

    // Uniform integer in [0, n), 1 <= n <= 2^32, exactly (Lemire's multiply-shift with rejection,
    // ACM TOMACS 29(1), 2019): one word, and another only with probability < n / 2^32.
    IFSIM_HD std::uint64_t below(std::uint64_t n) {
        if (n >= (std::uint64_t{1} << 32)) return next();
        const auto n32 = static_cast<std::uint32_t>(n);
        std::uint64_t m = std::uint64_t{next()} * n32;
        auto low = static_cast<std::uint32_t>(m);
        if (low < n32) {
            const std::uint32_t threshold = (0u - n32) % n32;  // 2^32 mod n
            while (low < threshold) {
                m = std::uint64_t{next()} * n32;
                low = static_cast<std::uint32_t>(m);
            }
        }
        return m >> 32;
    }

    // Uniform in (0, 1) from the next two words (uniform53_of).
    IFSIM_HD double uniform53() {
        const std::uint32_t hi = next(), lo = next();
        return uniform53_of(hi, lo);
    }
};

// Number of failures before the next success of Bernoulli(p) trials, 0 < p < 1, given
// log1p_neg_p = math::log1p(-p): floor(log(u) / log(1 - p)) is Geometric(p) on {0, 1, ...}.
// Returned as a double (it can exceed 2^64 for tiny p); the caller compares it with what is left.
IFSIM_HD double geometric_skip(double u, double log1p_neg_p) { return math::floor(math::log(u) / log1p_neg_p); }
IFSIM_HD double geometric_skip(row_words& w, double log1p_neg_p) { return geometric_skip(w.uniform53(), log1p_neg_p); }

// The row samplers, shared by the host (connect()) and the device (kernels/synapse_draws.cu): each
// emits its row's picks in draw order through `emit`.

// k of the candidates 0..n-1 except `excluded` (>= n: none excluded): k independent uniforms
// ("below") with multapses; without, a uniform k-subset by Floyd's algorithm (Bentley and Floyd,
// CACM 30(9), 1987): for j = avail-k .. avail-1 take t uniform in [0, j], keep t if new, else j.
// `taken(c)` says whether candidate c was emitted already (only asked without multapses).
// Precondition: k <= the candidates available when !multapses, and one exists if k > 0.
template <class Taken, class Emit>
IFSIM_HD void sample_row(row_words& w, std::uint64_t n, std::uint64_t excluded, std::uint64_t k, bool multapses,
                         Taken taken, Emit emit) {
    const std::uint64_t avail = excluded < n ? n - 1 : n;
    const auto shifted = [excluded](std::uint64_t x) { return static_cast<std::uint32_t>(x >= excluded ? x + 1 : x); };
    if (multapses) {
        for (std::uint64_t i = 0; i < k; ++i) emit(shifted(w.below(avail)));
        return;
    }
    for (std::uint64_t j = avail - k; j < avail; ++j) {
        const std::uint32_t t = shifted(w.below(j + 1));
        emit(taken(t) ? shifted(j) : t);
    }
}

// Targets 0..m-1 except `excluded`, in increasing order, given the row's geometric skips in
// order from next_skip(): each target with probability p when the skips are Geometric(p).
template <class NextSkip, class Emit>
IFSIM_HD void bernoulli_row_by_skips(NextSkip next_skip, std::uint64_t m, std::uint64_t excluded, Emit emit) {
    std::uint64_t pos = 0;
    while (pos < m) {
        const double skip = next_skip();
        if (!(skip < static_cast<double>(m - pos))) break;
        pos += static_cast<std::uint64_t>(skip);
        if (pos != excluded) emit(static_cast<std::uint32_t>(pos));
        ++pos;
    }
}

// The same with the skips drawn one by one from the row's words (0 < p < 1, log1p_neg_p =
// log1p(-p)): skip i from words 2i and 2i + 1.
template <class Emit>
IFSIM_HD void bernoulli_row(row_words& w, std::uint64_t m, std::uint64_t excluded, double log1p_neg_p, Emit emit) {
    bernoulli_row_by_skips([&] { return geometric_skip(w, log1p_neg_p); }, m, excluded, emit);
}

// One fixed_total pair from its row's words: source uniform in [0, S), target uniform in [0, M)
// or, without autapses within one population, in [0, M) minus the source.
IFSIM_HD void draw_pair(row_words& w, std::uint64_t num_sources, std::uint64_t num_targets, bool no_self,
                        std::uint32_t& source, std::uint32_t& target) {
    source = static_cast<std::uint32_t>(w.below(num_sources));
    const std::uint64_t ex = no_self ? source : num_targets;
    const std::uint64_t t = w.below(ex < num_targets ? num_targets - 1 : num_targets);
    target = static_cast<std::uint32_t>(t >= ex ? t + 1 : t);
}

// The connectivity of one projection from a population of num_sources neurons to one of
// num_targets (same_population: they are one population, so i -> i is an autapse).
//   pairwise_bernoulli  per source i (row i): geometric skipping over targets 0..M-1, two words
//                       per connection made (plus the final overshoot); i -> i dropped when
//                       autapses are off. p = 0 gives nothing, p = 1 every pair.
//   fixed_outdegree     per source i: K targets; with multapses K independent uniforms ("below"),
//                       without them Floyd's algorithm (one draw per pick, j = n-K .. n-1). The
//                       target range skips i when autapses are off (draw from M - 1, shift >= i).
//   fixed_indegree      per target j (row j): the same sampler over sources, then transposed.
//   fixed_total         synapse s = 0..N-1 (row s): source = below(S), then target = below(M, or
//                       M - 1 around the source without autapses). Without multapses the
//                       synapses are drawn in order s = 0, 1, ... and a pair already taken is
//                       redrawn from the same row's following words, which yields a uniform
//                       N-subset of the allowed pairs; with multapses per-source counts are
//                       Multinomial(N, 1/S).
//   all_to_all, one_to_one  no randomness.
// Deterministic: identical for every OMP_NUM_THREADS (rows are built independently and then
// assembled in order).
// Throws config_error: p outside [0, 1]; K or N larger than the distinct pairs available without
// multapses (or any synapse requested with none possible); one_to_one with num_sources !=
// num_targets, or within one population with autapses off; same_population with different sizes;
// num_targets or num_sources above 2^32; a fixed in- or out-degree making more than
// max_degree_rule_synapses.
inline constexpr std::uint64_t max_degree_rule_synapses = std::uint64_t{1} << 40;
csr connect(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
            bool same_population, std::uint64_t seed, std::uint32_t projection_index);

// The CSR of listed pairs (sources[k], targets[k]) (the from_file rule): order[s] is the pair at CSR
// position s; pairs with the same source and target keep their list order. Precondition: every
// source < num_sources, every target < num_targets <= 2^32.
csr csr_of_pairs(const std::vector<std::uint64_t>& sources, const std::vector<std::uint64_t>& targets,
                 std::uint64_t num_sources, std::uint64_t num_targets, std::vector<std::uint64_t>& order);

std::uint64_t num_synapses(const csr& c);

// fixed_total without multapses marks the pairs it has taken: in a bitmap of all `pairs`, where
// that is no larger than a hash set of its n synapses would be (or 128 MB), else in the set.
bool taken_pairs_in_a_bitmap(double pairs, double n);
// The bytes that marking holds: the bitmap, or the set at 40 B a pair.
double taken_pairs_bytes(double pairs, double n);

// The expected number of synapses connect() makes (exact for every rule but pairwise_bernoulli,
// whose count is binomial around it; 0 for from_file, unknown until the file is read): for the
// memory estimate and the mean-field in-degrees.
double expected_synapses(const connection_rule& r, double num_sources, double num_targets, bool same_population);
std::vector<std::uint64_t> in_degrees(const csr& c);   // num_targets entries
std::vector<std::uint64_t> out_degrees(const csr& c);  // num_sources entries

}  // namespace ifsim
