// Connection rules realised as a CSR by source (connectivity.hpp). Each random row is a pure
// function of (key, row id), built on its own (in parallel) and assembled in row order, so the
// result is the same for every thread count.
#include "ifsim/connectivity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <omp.h>

#include "ifsim/errors.hpp"
#include "ifsim/parallel_errors.hpp"
#include "ifsim/sort_by_key.hpp"
#include "ifsim/uninitialized_vector.hpp"
#include "../cpu_philox.hpp"

namespace ifsim {

namespace {

constexpr std::uint64_t max_population = std::uint64_t{1} << 32;  // uint32 target ids

// A row's picks by sample_row, in draw order; `seen` is scratch for the picks so far.
void sampled_row(row_words w, std::uint64_t n, std::uint64_t excluded, std::uint64_t k, bool multapses,
                 std::vector<std::uint32_t>& out, std::unordered_set<std::uint64_t>& seen) {
    out.clear();
    out.reserve(k);
    seen.clear();
    sample_row(
        w, n, excluded, k, multapses, [&](std::uint32_t c) { return seen.count(c) != 0; },
        [&](std::uint32_t c) {
            if (!multapses) seen.insert(c);
            out.push_back(c);
        });
}

// A row's geometric skips, the same as geometric_skip(row_words&) draws them one by one (skip i
// from words 2i and 2i + 1: half of block i / 2), drawn `batch` at a time in vector lanes, Philox
// and log inlined. A row's last batch draws a few skips it does not use.
class skip_batches {
public:
    skip_batches(philox_key key, std::uint64_t row, double log1p_neg_p)
        : key_(key), row_(row), log1p_neg_p_(log1p_neg_p) {}

    double next() {
        if (used_ == batch) draw();
        return skip_[used_++];
    }

private:
    static constexpr int batch = 32;

    [[gnu::flatten]] void draw() {
        const philox_key key = key_;
        const std::uint64_t row = row_, first = block_;
        const double l = log1p_neg_p_;
        double* const skip = skip_;
#pragma omp simd
        for (int q = 0; q < batch / 2; ++q) {
            const philox_block b = philox4x32_10(make_counter(row, first + std::uint64_t(q)), key);
            skip[2 * q] = geometric_skip(uniform53_of(b.x, b.y), l);
            skip[2 * q + 1] = geometric_skip(uniform53_of(b.z, b.w), l);
        }
        block_ += batch / 2;
        used_ = 0;
    }

    philox_key key_;
    std::uint64_t row_;
    double log1p_neg_p_;
    std::uint64_t block_ = 0;  // the next block to draw
    int used_ = batch;
    double skip_[batch];
};

// Assembles per-source rows, in order.
csr from_rows(std::uint64_t num_sources, std::uint64_t num_targets,
              const std::vector<std::vector<std::uint32_t>>& rows) {
    csr c;
    c.num_sources = num_sources;
    c.num_targets = num_targets;
    c.row_offsets.assign(num_sources + 1, 0);
    for (std::uint64_t i = 0; i < num_sources; ++i)
        c.row_offsets[i + 1] = c.row_offsets[i] + rows[i].size();
    c.targets.resize(c.row_offsets[num_sources]);
    // In parallel: the copy also faults the new pages in, which on one thread was as slow as the copy.
    const auto n = static_cast<std::int64_t>(num_sources);
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i)
        std::copy(rows[i].begin(), rows[i].end(),
                  c.targets.begin() + static_cast<std::ptrdiff_t>(c.row_offsets[i]));
    return c;
}

// Per-source rows, each a pure function of its source id.
template <class RowFn>
csr by_source(std::uint64_t num_sources, std::uint64_t num_targets, RowFn row_fn) {
    std::vector<std::vector<std::uint32_t>> rows(num_sources);
    const auto n = static_cast<std::int64_t>(num_sources);
    parallel_errors errors;  // a row that cannot grow (std::bad_alloc)
#pragma omp parallel
    {
        std::unordered_set<std::uint64_t> seen;
#pragma omp for schedule(dynamic, 64)
        for (std::int64_t i = 0; i < n; ++i) errors.run([&] { row_fn(static_cast<std::uint64_t>(i), rows[i], seen); });
    }
    errors.rethrow();
    return from_rows(num_sources, num_targets, rows);
}

// A CSR shaped for the synapses whose sources are `src` (row offsets counted, targets sized), and
// the next free slot of each row for the caller to fill.
template <class Indices>
csr counted_rows(std::uint64_t num_sources, std::uint64_t num_targets, const Indices& src,
                 std::vector<std::uint64_t>& fill) {
    csr c;
    c.num_sources = num_sources;
    c.num_targets = num_targets;
    c.row_offsets.assign(num_sources + 1, 0);
    for (const auto s : src) ++c.row_offsets[s + 1];
    for (std::uint64_t i = 0; i < num_sources; ++i) c.row_offsets[i + 1] += c.row_offsets[i];
    c.targets.resize(src.size());
    fill.assign(c.row_offsets.begin(), c.row_offsets.end() - 1);
    return c;
}

// Groups (source, target) pairs by source, targets ascending within each row: sorted by target,
// then stably by source, so no row needs sorting on its own. Consumes the pairs.
csr from_pairs(std::uint64_t num_sources, std::uint64_t num_targets, uninitialized_vector<std::uint32_t> src,
               uninitialized_vector<std::uint32_t> tgt) {
    const std::uint64_t n = src.size();
    uninitialized_vector<std::uint32_t> src_by_target(n);
    const std::vector<std::uint64_t> by_target =
        sort_by_key(n, num_targets, tgt.data(), src.data(), 1, src_by_target.data());
    src = {};
    // tgt becomes the targets in that order: by_target[j] .. by_target[j + 1] hold target j.
    const auto m = static_cast<std::int64_t>(num_targets);
#pragma omp parallel for schedule(static)
    for (std::int64_t j = 0; j < m; ++j)
        std::fill(tgt.begin() + std::ptrdiff_t(by_target[j]), tgt.begin() + std::ptrdiff_t(by_target[j + 1]), std::uint32_t(j));
    csr c;
    c.num_sources = num_sources;
    c.num_targets = num_targets;
    c.targets.resize(n);
    c.row_offsets = sort_by_key(n, num_sources, src_by_target.data(), tgt.data(), 1, c.targets.data());
    return c;
}

void validate(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
              bool same_population) {
    const std::string name(rule_names[std::size_t(r.kind)]);
    if (num_sources > max_population || num_targets > max_population)
        throw config_error(name + ": populations of " + std::to_string(num_sources) + " and " +
                           std::to_string(num_targets) +
                           " neurons; at most 2^32 = 4294967296 are supported per population");
    if (same_population && num_sources != num_targets)
        throw config_error(name + ": a projection within one population needs as many sources as "
                           "targets, got " + std::to_string(num_sources) + " and " +
                           std::to_string(num_targets));
    const bool no_self = same_population && !r.autapses;
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli:
            if (!(r.p >= 0.0 && r.p <= 1.0))
                throw config_error("pairwise_bernoulli: p = " + std::to_string(r.p) +
                                   " is not a probability; accepted: 0 <= p <= 1");
            break;
        case rule_kind::fixed_indegree:
        case rule_kind::fixed_outdegree: {
            const bool in = r.kind == rule_kind::fixed_indegree;
            const std::uint64_t pool = in ? num_sources : num_targets;
            const std::uint64_t rows = in ? num_targets : num_sources;
            const std::uint64_t avail = no_self ? (pool > 0 ? pool - 1 : 0) : pool;
            const char* what = in ? "sources" : "targets";
            if (r.degree > 0 && rows > 0 && avail == 0)
                throw config_error(name + ": degree " + std::to_string(r.degree) + " but no " +
                                   what + " are available (autapses off in a single neuron?)");
            if (!r.multapses && r.degree > avail)
                throw config_error(name + ": degree " + std::to_string(r.degree) + " exceeds the " +
                                   std::to_string(avail) + " distinct " + what +
                                   " available without multapses; accepted: degree <= " +
                                   std::to_string(avail) + ", or multapses = true");
            if (r.degree > 0 && rows > max_degree_rule_synapses / r.degree)
                throw config_error(name + ": degree " + std::to_string(r.degree) + " for each of " +
                                   std::to_string(rows) + " neurons; at most 2^40 synapses are supported");
            break;
        }
        case rule_kind::fixed_total: {
            const std::uint64_t diag = no_self ? num_sources : 0;
            const long double pairs =
                static_cast<long double>(num_sources) * static_cast<long double>(num_targets) -
                static_cast<long double>(diag);
            if (r.degree > 0 && pairs <= 0)
                throw config_error("fixed_total: " + std::to_string(r.degree) +
                                   " synapses requested but no pair of neurons may connect");
            if (!r.multapses && static_cast<long double>(r.degree) > pairs)
                throw config_error("fixed_total: " + std::to_string(r.degree) +
                                   " synapses exceed the " +
                                   std::to_string(static_cast<std::uint64_t>(pairs)) +
                                   " distinct pairs available without multapses");
            if (r.degree >= max_population * 16)
                throw config_error("fixed_total: " + std::to_string(r.degree) +
                                   " synapses; at most 2^36 are supported");
            break;
        }
        case rule_kind::all_to_all:
            break;
        case rule_kind::one_to_one:
            if (num_sources != num_targets)
                throw config_error("one_to_one: needs as many sources as targets, got " +
                                   std::to_string(num_sources) + " and " + std::to_string(num_targets));
            if (no_self && num_sources > 0)
                throw config_error("one_to_one within one population connects only i -> i, which "
                                   "autapses = false forbids; set autapses = true");
            break;
        case rule_kind::from_file:
            throw std::invalid_argument("connect: from_file synapses are read by build_network");
    }
}

}  // namespace

csr connect(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
            bool same_population, std::uint64_t seed, std::uint32_t projection_index) {
    validate(r, num_sources, num_targets, same_population);
    const philox_key key = make_key(seed, connectivity_stream(projection_index));
    const bool no_self = same_population && !r.autapses;
    // the candidate a row must skip: itself when autapses are off, none (the pool size) otherwise
    const auto excluded = [no_self](std::uint64_t row, std::uint64_t pool) {
        return no_self ? row : pool;
    };
    using row_t = std::vector<std::uint32_t>;
    using seen_t = std::unordered_set<std::uint64_t>;

    switch (r.kind) {
        case rule_kind::all_to_all:
            return by_source(num_sources, num_targets, [&](std::uint64_t i, row_t& row, seen_t&) {
                for (std::uint64_t j = 0; j < num_targets; ++j)
                    if (j != excluded(i, num_targets)) row.push_back(static_cast<std::uint32_t>(j));
            });
        case rule_kind::one_to_one:
            return by_source(num_sources, num_targets, [&](std::uint64_t i, row_t& row, seen_t&) {
                row.push_back(static_cast<std::uint32_t>(i));
            });
        case rule_kind::pairwise_bernoulli: {
            if (r.p == 0.0) return by_source(num_sources, num_targets, [](std::uint64_t, row_t&, seen_t&) {});
            if (r.p == 1.0) {
                connection_rule all = r;
                all.kind = rule_kind::all_to_all;
                return connect(all, num_sources, num_targets, same_population, seed, projection_index);
            }
            const double log1p_neg_p = math::log1p(-r.p);
            return by_source(num_sources, num_targets, [&](std::uint64_t i, row_t& row, seen_t&) {
                skip_batches skips(key, i, log1p_neg_p);
                bernoulli_row_by_skips([&] { return skips.next(); }, num_targets, excluded(i, num_targets),
                                       [&](std::uint32_t j) { row.push_back(j); });
            });
        }
        case rule_kind::fixed_outdegree:
            return by_source(num_sources, num_targets, [&](std::uint64_t i, row_t& row, seen_t& seen) {
                sampled_row(row_words{key, i}, num_targets, excluded(i, num_targets), r.degree,
                            r.multapses, row, seen);
                std::sort(row.begin(), row.end());
            });
        case rule_kind::fixed_indegree: {
            // Per target: K sources, stored flat (K per target, in draw order), then grouped by
            // source; targets are taken in increasing order, so every row comes out sorted.
            const std::uint64_t k = r.degree;
            uninitialized_vector<std::uint32_t> sources(num_targets * k);
            const auto m = static_cast<std::int64_t>(num_targets);
            parallel_errors errors;
#pragma omp parallel
            {
                seen_t seen;
                row_t row;
#pragma omp for schedule(dynamic, 64)
                for (std::int64_t js = 0; js < m; ++js) {
                    errors.run([&] {
                        const auto j = static_cast<std::uint64_t>(js);
                        sampled_row(row_words{key, j}, num_sources, excluded(j, num_sources), k,
                                    r.multapses, row, seen);
                        std::copy(row.begin(), row.end(),
                                  sources.begin() + static_cast<std::ptrdiff_t>(j * k));
                    });
                }
            }
            errors.rethrow();
            std::vector<std::uint32_t> target_ids(num_targets);
            std::iota(target_ids.begin(), target_ids.end(), std::uint32_t{0});
            csr c;
            c.num_sources = num_sources;
            c.num_targets = num_targets;
            c.targets.resize(sources.size());
            c.row_offsets = sort_by_key(sources.size(), num_sources, sources.data(), target_ids.data(),
                                        std::max<std::uint64_t>(k, 1), c.targets.data());
            return c;
        }
        case rule_kind::fixed_total: {
            const std::uint64_t n = r.degree;
            uninitialized_vector<std::uint32_t> src(n), tgt(n);
            const auto draw = [&](row_words& w, std::uint64_t s) {
                draw_pair(w, num_sources, num_targets, no_self, src[s], tgt[s]);
            };
            if (r.multapses) {
                // Each row's first block (all a pair needs but for a rare rejection) drawn a batch
                // at a time in Philox lanes: make_counter(s, 0) is draw()'s (s, step 0, purpose 0).
                constexpr std::uint64_t batch = 1024;
                const auto batches = static_cast<std::int64_t>((n + batch - 1) / batch);
#pragma omp parallel
                {
                    alignas(64) std::uint32_t x[batch], y[batch], z[batch], v[batch];
#pragma omp for schedule(static)
                    for (std::int64_t b = 0; b < batches; ++b) {
                        const std::uint64_t first = std::uint64_t(b) * batch, count = std::min(batch, n - first);
                        cpu::draw_words(key, first, std::int64_t(count), 0, 0, x, y, z, v);
                        for (std::uint64_t j = 0; j < count; ++j) {
                            row_words w{key, first + j, 1, philox_block{x[j], y[j], z[j], v[j]}, 0};
                            draw(w, first + j);
                        }
                    }
                }
            } else {
                // In synapse order: a pair already taken is redrawn from the row's next words. Near
                // every pair taken that is ~ln(pairs) draws per synapse, so the taken pairs are
                // a bitmap where taken_pairs_in_a_bitmap: the same draws, some 20x faster than the
                // set (3200^2 pairs all taken: minutes before).
                const auto fill_in_order = [&](auto take) {
                    for (std::uint64_t s = 0; s < n; ++s) {
                        row_words w{key, s};
                        do draw(w, s);
                        while (!take(std::uint64_t{src[s]} * num_targets + tgt[s]));
                    }
                };
                const double pairs = double(num_sources) * double(num_targets);
                if (taken_pairs_in_a_bitmap(pairs, double(n))) {
                    std::vector<std::uint64_t> bits(std::size_t((pairs + 63.0) / 64.0), 0);
                    fill_in_order([&](std::uint64_t pair) {
                        std::uint64_t& word = bits[pair / 64];
                        const std::uint64_t bit = std::uint64_t{1} << (pair % 64);
                        const bool fresh = (word & bit) == 0;
                        word |= bit;
                        return fresh;
                    });
                } else {
                    seen_t taken;
                    taken.reserve(n);
                    fill_in_order([&](std::uint64_t pair) { return taken.insert(pair).second; });
                }
            }
            return from_pairs(num_sources, num_targets, std::move(src), std::move(tgt));
        }
        case rule_kind::from_file: break;  // validate() threw
    }
    throw config_error("unknown connection rule " + std::to_string(static_cast<int>(r.kind)));
}

csr csr_of_pairs(const std::vector<std::uint64_t>& sources, const std::vector<std::uint64_t>& targets,
                 std::uint64_t num_sources, std::uint64_t num_targets, std::vector<std::uint64_t>& order) {
    // Counting sort by source keeps the list order within a row; a stable sort by target follows.
    std::vector<std::uint64_t> fill;
    csr c = counted_rows(num_sources, num_targets, sources, fill);
    order.resize(sources.size());
    for (std::uint64_t k = 0; k < sources.size(); ++k) order[fill[sources[k]]++] = k;
    const auto n = static_cast<std::int64_t>(num_sources);
#pragma omp parallel for schedule(dynamic, 256)
    for (std::int64_t i = 0; i < n; ++i) {
        const auto first = order.begin() + static_cast<std::ptrdiff_t>(c.row_offsets[i]);
        const auto last = order.begin() + static_cast<std::ptrdiff_t>(c.row_offsets[i + 1]);
        std::stable_sort(first, last, [&](std::uint64_t a, std::uint64_t b) { return targets[a] < targets[b]; });
        for (auto it = first; it != last; ++it) c.targets[std::size_t(it - order.begin())] = std::uint32_t(targets[*it]);
    }
    return c;
}

std::uint64_t num_synapses(const csr& c) { return c.targets.size(); }

bool taken_pairs_in_a_bitmap(double pairs, double n) { return pairs / 8.0 <= std::max(double(1 << 27), 32.0 * n); }

double taken_pairs_bytes(double pairs, double n) { return taken_pairs_in_a_bitmap(pairs, n) ? pairs / 8.0 : 40.0 * n; }

double expected_synapses(const connection_rule& r, double num_sources, double num_targets, bool same_population) {
    const double pairs = same_population && !r.autapses ? num_sources * (num_targets - 1.0) : num_sources * num_targets;
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli: return r.p * pairs;
        case rule_kind::fixed_indegree: return double(r.degree) * num_targets;
        case rule_kind::fixed_outdegree: return double(r.degree) * num_sources;
        case rule_kind::fixed_total: return double(r.degree);
        case rule_kind::all_to_all: return pairs;
        case rule_kind::one_to_one: return num_sources;
        case rule_kind::from_file: return 0.0;  // unknown until the file is read
    }
    return 0.0;
}

std::vector<std::uint64_t> in_degrees(const csr& c) {
    std::vector<std::uint64_t> d(c.num_targets, 0);
    for (const std::uint32_t t : c.targets) ++d[t];
    return d;
}

std::vector<std::uint64_t> out_degrees(const csr& c) {
    std::vector<std::uint64_t> d(c.num_sources, 0);
    for (std::uint64_t i = 0; i < c.num_sources; ++i) d[i] = c.row_offsets[i + 1] - c.row_offsets[i];
    return d;
}

}  // namespace ifsim
