// "did you mean ...?": the nearest candidate by optimal-string-alignment distance.
#include <algorithm>
#include <string>
#include <vector>

#include "ifsim/config.hpp"

namespace ifsim {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Levenshtein distance plus adjacent transpositions, on lower-cased text.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const bool same = lower(a[i - 1]) == lower(b[j - 1]);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return prev[m];
}

}  // namespace

std::string suggest(std::string_view word, std::span<const std::string_view> candidates) {
    // A third of the word may be wrong (at least one character), never the whole of it.
    const std::size_t limit = std::max<std::size_t>(1, (word.size() + 1) / 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (auto c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance && d < std::max(word.size(), c.size())) {
            best_distance = d;
            best = std::string(c);
        }
    }
    return best;
}

}  // namespace ifsim
