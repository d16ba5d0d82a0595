// Statistics of recorded spike trains: rate, ISI mean and CV, lag-1 serial correlation, Fano factor
// and population rate. The definitions are documented in include/ifsim/analysis.hpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "ifsim/analysis.hpp"
#include "ifsim/units.hpp"
#include "ifsim/errors.hpp"

namespace ifsim::analysis {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double ms_per_s = 1000.0;
// ISIs whose standard deviation is less than this fraction of their mean are regular: a
// deterministic neuron's, equal but for rounding (a float run's state rounds differently each
// cycle: up to 4e-5 measured; a double run's 1e-14).
constexpr double min_relative_isi_spread = 1e-4;

void check_window(const char* who, double t_start, double t_stop) {
    if (!(std::isfinite(t_start) && std::isfinite(t_stop) && t_start < t_stop))
        throw config_error(std::string(who) + ": window [" + format_number(t_start) + ", " + format_number(t_stop) +
                           ") ms must be finite with t_start < t_stop");
}

// The spikes of a sorted train with t_start <= t < t_stop.
std::span<const double> in_window(std::span<const double> times, double t_start, double t_stop) {
    const auto first = std::lower_bound(times.begin(), times.end(), t_start);
    const auto last = std::lower_bound(first, times.end(), t_stop);
    return {first, last};
}

// Sums over the lag-1 pairs (x_k, y_k) = (ISI_k, ISI_k+1) of one train, centred on that train's
// own pair means (two passes: the means first, so no large-number cancellation).
struct pair_sums {
    std::uint64_t n = 0;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
};

// Sums of the first and second members of the pairs of one train.
void pair_means(std::span<const double> t, double& sx, double& sy) {
    for (std::size_t k = 0; k + 2 < t.size(); ++k) {
        sx += t[k + 1] - t[k];
        sy += t[k + 2] - t[k + 1];
    }
}

// Centred on the given pair means, or on the train's own when `own` is set.
pair_sums lag1_sums(std::span<const double> t, bool own, double mx, double my) {
    pair_sums s;
    if (t.size() < 3) return s;
    s.n = t.size() - 2;
    if (own) {
        mx = my = 0.0;
        pair_means(t, mx, my);
        mx /= static_cast<double>(s.n);
        my /= static_cast<double>(s.n);
    }
    for (std::size_t k = 0; k + 2 < t.size(); ++k) {
        const double dx = (t[k + 1] - t[k]) - mx, dy = (t[k + 2] - t[k + 1]) - my;
        s.sxy += dx * dy;
        s.sxx += dx * dx;
        s.syy += dy * dy;
    }
    return s;
}

// Fills everything from the windowed trains.
template <typename Trains>
isi_stats compute(const Trains& windowed, std::size_t n_trains, double duration_ms,
                  serial_centring centring = serial_centring::per_train) {
    isi_stats r;
    double sum_isi = 0.0;
    for (const auto& t : windowed) {
        r.n_spikes += t.size();
        if (t.size() >= 2) {
            r.n_isi += t.size() - 1;
            sum_isi += t.back() - t.front();  // the ISIs of a train telescope
        }
    }
    r.rate_Hz = static_cast<double>(r.n_spikes) * ms_per_s /
                (static_cast<double>(n_trains) * duration_ms);
    r.mean_isi_ms = r.n_isi > 0 ? sum_isi / static_cast<double>(r.n_isi) : nan;

    r.cv = nan;
    if (r.n_isi >= 2) {
        double ss = 0.0;
        for (const auto& t : windowed)
            for (std::size_t k = 0; k + 1 < t.size(); ++k) {
                const double d = (t[k + 1] - t[k]) - r.mean_isi_ms;
                ss += d * d;
            }
        r.cv = std::sqrt(ss / static_cast<double>(r.n_isi - 1)) / r.mean_isi_ms;
    }

    const bool own = centring == serial_centring::per_train;
    double mx = 0.0, my = 0.0;
    std::uint64_t pairs = 0;
    if (!own) {
        for (const auto& t : windowed) {
            pair_means(t, mx, my);
            pairs += t.size() >= 3 ? t.size() - 2 : 0;
        }
        if (pairs > 0) {
            mx /= static_cast<double>(pairs);
            my /= static_cast<double>(pairs);
        }
    }
    pair_sums tot;
    for (const auto& t : windowed) {
        const auto s = lag1_sums(t, own, mx, my);
        tot.n += s.n;
        tot.sxy += s.sxy;
        tot.sxx += s.sxx;
        tot.syy += s.syy;
    }
    // Regular trains have no serial correlation to speak of; their rounding errors gave one near
    // +-1 with a small stderr.
    const double least_spread = tot.n > 0 ? double(tot.n) * std::pow(min_relative_isi_spread * r.mean_isi_ms, 2) : 0.0;
    const bool defined = tot.n >= 2 && tot.sxx > least_spread && tot.syy > least_spread;
    r.serial_corr_1 = defined ? tot.sxy / std::sqrt(tot.sxx * tot.syy) : nan;
    r.serial_corr_1_stderr = defined ? 1.0 / std::sqrt(static_cast<double>(tot.n)) : nan;  // none without a value
    return r;
}

std::vector<std::span<const double>> windowed_trains(const std::vector<std::vector<double>>& trains,
                                                     double t_start, double t_stop) {
    std::vector<std::span<const double>> w;
    w.reserve(trains.size());
    for (const auto& t : trains) w.push_back(in_window(t, t_start, t_stop));
    return w;
}

// Number of whole bins of width `bin` in [t_start, t_stop); the slack absorbs the round-off of the
// division when the duration is a multiple of the bin (1000 / 0.1).
std::size_t whole_bins(double t_start, double t_stop, double bin) {
    return static_cast<std::size_t>(std::floor((t_stop - t_start) / bin * (1.0 + 1e-12)));
}

}  // namespace

isi_stats isi_statistics(std::span<const double> times_ms, double t_start_ms, double t_stop_ms) {
    check_window("isi_statistics", t_start_ms, t_stop_ms);
    const std::span<const double> w[] = {in_window(times_ms, t_start_ms, t_stop_ms)};
    return compute(w, 1, t_stop_ms - t_start_ms);
}

isi_stats pooled_isi_statistics(const std::vector<std::vector<double>>& trains, double t_start_ms,
                                double t_stop_ms, serial_centring centring) {
    check_window("pooled_isi_statistics", t_start_ms, t_stop_ms);
    if (trains.empty()) throw config_error("pooled_isi_statistics: no spike trains given");
    return compute(windowed_trains(trains, t_start_ms, t_stop_ms), trains.size(),
                   t_stop_ms - t_start_ms, centring);
}

double fano_factor(const std::vector<std::vector<double>>& trains, double dt_ms, std::uint64_t first_step,
                   std::uint64_t last_step, std::uint64_t window_steps, bool with_start) {
    if (!(dt_ms > 0.0) || window_steps == 0 || last_step < first_step)
        throw config_error("fano_factor: dt_ms = " + format_number(dt_ms) + ", window_steps = " +
                           std::to_string(window_steps) + ", steps " + std::to_string(first_step) + " to " +
                           std::to_string(last_step) + ": dt > 0, a window of 1 step or more and a first step "
                           "up to the last are required");
    const std::size_t n_win = (last_step - first_step) / window_steps;
    if (n_win < 2 || trains.empty()) return nan;
    const auto edge = [&](std::size_t j) { return double(first_step + j * window_steps) * dt_ms; };
    std::vector<double> counts(n_win);
    double ss = 0.0, total = 0.0;
    for (const auto& t : trains) {
        std::fill(counts.begin(), counts.end(), 0.0);
        const auto first = with_start ? std::lower_bound(t.begin(), t.end(), edge(0))
                                      : std::upper_bound(t.begin(), t.end(), edge(0));
        for (auto it = first; it != t.end() && *it <= edge(n_win); ++it) {
            // The division's guess, then the exact edges decide.
            const double windows = (*it / dt_ms - double(first_step)) / double(window_steps);
            std::size_t j = std::min<std::size_t>(n_win - 1, std::size_t(std::max(0.0, std::ceil(windows) - 1.0)));
            while (j > 0 && *it <= edge(j)) --j;
            while (j + 1 < n_win && *it > edge(j + 1)) ++j;
            counts[j] += 1.0;
        }
        double m = 0.0;
        for (double c : counts) m += c;
        total += m;
        m /= static_cast<double>(n_win);
        for (double c : counts) ss += (c - m) * (c - m);
    }
    const double mean = total / static_cast<double>(n_win * trains.size());
    if (mean == 0.0) return nan;
    const double var = ss / static_cast<double>((n_win - 1) * trains.size());
    return var / mean;
}

std::vector<double> population_rate(const std::vector<std::vector<double>>& trains, double bin_ms,
                                    double t_start_ms, double t_stop_ms) {
    check_window("population_rate", t_start_ms, t_stop_ms);
    if (!(bin_ms > 0.0 && std::isfinite(bin_ms)))
        throw config_error("population_rate: bin_ms = " + format_number(bin_ms) + " must be > 0");
    if (trains.empty()) throw config_error("population_rate: no spike trains given");
    const std::size_t n_bins = whole_bins(t_start_ms, t_stop_ms, bin_ms);
    std::vector<double> rate(n_bins, 0.0);
    for (const auto& t : trains)
        for (double s : in_window(t, t_start_ms, t_stop_ms)) {
            const auto j = static_cast<std::size_t>(std::floor((s - t_start_ms) / bin_ms));
            if (j < n_bins) rate[j] += 1.0;
        }
    const double per_count = ms_per_s / (static_cast<double>(trains.size()) * bin_ms);
    for (double& r : rate) r *= per_count;
    return rate;
}

}  // namespace ifsim::analysis
