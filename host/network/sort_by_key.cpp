// The parallel stable counting sort of sort_by_key.hpp, writing whole cache lines.
#include "ifsim/sort_by_key.hpp"

#include <omp.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>

#include "ifsim/parallel_errors.hpp"
#include "ifsim/uninitialized_vector.hpp"

namespace ifsim {

namespace {

// Up to this many keys, each thread of sort_by_key stages its values per key in a cache line
// (64 B x keys: 2 MiB, an L2 cache) and writes whole lines; beyond it, value by value.
constexpr std::uint64_t max_staged_keys = std::uint64_t{1} << 15;

// One 64-byte line to a 64-byte aligned dst, around the caches where the CPU can: a plain store
// first reads the line in. (The microcircuit's network build on the 2-core development VM:
// 9.8-10.1 s placing values one by one, as long with plain stores of whole lines, 8.9-9.1 s
// streaming them.)
inline void stream_line(void* dst, const void* line) {
#if defined(__SSE2__)
    auto* d = static_cast<__m128i*>(dst);
    const auto* s = static_cast<const __m128i*>(line);
    for (int q = 0; q < 4; ++q) _mm_stream_si128(d + q, _mm_load_si128(s + q));
#else
    std::memcpy(dst, line, 64);
#endif
}

inline void stream_fence() {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

// The value of item k of sort_by_key, walking k up from `first`: values[k / group] with one
// division per walk.
class value_walk {
public:
    value_walk(const std::uint32_t* values, std::uint64_t group, std::uint64_t first)
        : values_(values), group_(group), index_(first / group), left_(group - first % group) {}
    std::uint32_t next() {
        const std::uint32_t v = values_[index_];
        if (--left_ == 0) ++index_, left_ = group_;
        return v;
    }

private:
    const std::uint32_t* values_;
    std::uint64_t group_, index_, left_;
};

// Places the values of items k in [lo, hi) at out[next[key[k]]++], staged per key in a copy of
// the key's current line of out and written a line at a time. Stored one by one, each value lands
// on a line of its own (one per key): a cache miss per value once there are more keys than the
// core holds lines. Lines are out's 64-byte memory lines: position p lies at (p + shift) % line
// in its line.
void place_staged(const std::uint32_t* key, value_walk values, std::uint64_t lo, std::uint64_t hi,
                  std::vector<std::uint64_t>& next, std::uint32_t* out) {
    constexpr std::uint64_t line = 64 / sizeof(std::uint32_t);
    struct alignas(64) staged {
        std::uint32_t v[line];
    };
    const std::uint64_t shift = (reinterpret_cast<std::uintptr_t>(out) % 64) / sizeof(std::uint32_t);
    const std::vector<std::uint64_t> begin = next;  // where this thread's values of each key start
    uninitialized_vector<staged> stage(next.size());
    // The values of key b before position `end`, from the start of end - 1's line on, to out.
    const auto write = [&](std::uint64_t b, std::uint64_t end) {
        const std::uint64_t in_line = (end - 1 + shift) % line;  // end - 1's place in its line
        const std::uint64_t from = std::max(end - 1 - std::min(end - 1, in_line), begin[b]);
        if (end - from == line) return stream_line(out + from, stage[b].v);
        std::memcpy(out + from, stage[b].v + (from + shift) % line, (end - from) * sizeof(std::uint32_t));
    };
    for (std::uint64_t k = lo; k < hi; ++k) {
        const std::uint32_t b = key[k];
        const std::uint64_t at = next[b]++;
        stage[b].v[(at + shift) % line] = values.next();
        if ((at + shift) % line == line - 1) write(b, at + 1);
    }
    for (std::uint64_t b = 0; b < next.size(); ++b)
        if (next[b] > begin[b] && (next[b] - 1 + shift) % line != line - 1) write(b, next[b]);
    stream_fence();  // the streamed lines before anything that follows
}

}  // namespace

std::vector<std::uint64_t> sort_by_key(std::uint64_t n, std::uint64_t num_keys, const std::uint32_t* key,
                                       const std::uint32_t* values, std::uint64_t group, std::uint32_t* out) {
    // Each thread counts into num_keys words: no more threads than that pays for.
    const std::uint64_t useful = std::max<std::uint64_t>(1, n / std::max<std::uint64_t>(num_keys, 1));
    const int threads = int(std::min<std::uint64_t>(useful, std::uint64_t(omp_get_max_threads())));
    std::vector<std::uint64_t> start(num_keys + 1, 0);
    std::vector<std::vector<std::uint64_t>> next;  // per thread: its next position for each key
    // Allocations through `errors` (std::bad_alloc): every thread still meets every barrier, and
    // after one all agree whether to go on.
    parallel_errors errors;
#pragma omp parallel num_threads(threads)
    {
        const auto t = std::uint64_t(omp_get_thread_num()), T = std::uint64_t(omp_get_num_threads());
        const std::uint64_t lo = n * t / T, hi = n * (t + 1) / T;
#pragma omp single
        errors.run([&] { next.resize(T); });
        errors.run([&] {
            std::vector<std::uint64_t>& mine = next[t];
            mine.assign(num_keys, 0);
            for (std::uint64_t k = lo; k < hi; ++k) ++mine[key[k]];
        });
#pragma omp barrier
        if (!errors.failed()) {
#pragma omp single
            {
                std::uint64_t at = 0;
                for (std::uint64_t b = 0; b < num_keys; ++b) {
                    start[b] = at;
                    for (std::uint64_t u = 0; u < T; ++u) {
                        const std::uint64_t count = next[u][b];
                        next[u][b] = at;
                        at += count;
                    }
                }
                start[num_keys] = at;
            }
            // Staging pays where the lines fill: several values per key.
            errors.run([&] {
                std::vector<std::uint64_t>& mine = next[t];
                value_walk walk(values, group, lo);
                if (num_keys <= max_staged_keys && hi - lo >= 4 * num_keys)
                    place_staged(key, walk, lo, hi, mine, out);
                else
                    for (std::uint64_t k = lo; k < hi; ++k) out[mine[key[k]]++] = walk.next();
            });
        }
    }
    errors.rethrow();
    return start;
}

}  // namespace ifsim
