// Per-neuron values from distributions (realize.hpp).
#include "ifsim/realize.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "ifsim/errors.hpp"
#include "ifsim/random.hpp"

namespace ifsim {

namespace {

void check_array(const distribution& d, std::uint64_t n) {
    if (d.type == distribution::kind::array && d.values.size() != n)
        throw config_error("per-neuron array has " + std::to_string(d.values.size()) +
                           " values; the population has " + std::to_string(n) +
                           " neurons and needs exactly that many");
}

double value(const distribution& d, std::uint64_t n, std::uint64_t i, philox_key key,
             std::uint64_t first_id) {
    switch (d.type) {
        case distribution::kind::constant:
            return d.a;
        case distribution::kind::linspace:
            if (n <= 1) return d.a;
            // std::lerp is exact at both ends and monotonic
            return std::lerp(d.a, d.b, static_cast<double>(i) / static_cast<double>(n - 1));
        case distribution::kind::uniform: {
            const philox_block blk = draw(key, first_id + i, 0, rng_purpose::init);
            const double u = static_cast<double>(bits53(blk.x, blk.y)) * 0x1p-53;  // [0, 1), exact
            const double v = d.a + (d.b - d.a) * u;
            // rounding may land on b; keep the interval half open
            return (v < d.b || !(d.b > d.a)) ? v : std::nextafter(d.b, d.a);
        }
        case distribution::kind::normal: {
            const philox_block blk = draw(key, first_id + i, 0, rng_purpose::init);
            double n0, n1;
            box_muller<double>(blk.z, blk.w, n0, n1);
            return d.a + d.b * n0;
        }
        case distribution::kind::array:
            return d.values[i];
    }
    throw config_error("unknown distribution kind " + std::to_string(static_cast<int>(d.type)));
}

}  // namespace

std::vector<double> realize(const distribution& d, std::uint64_t n, std::uint64_t seed,
                            std::uint32_t stream, std::uint64_t first_id) {
    check_array(d, n);
    const philox_key key = make_key(seed, stream);
    std::vector<double> out(n);
    for (std::uint64_t i = 0; i < n; ++i) out[i] = value(d, n, i, key, first_id);
    return out;
}

double realize_one(const distribution& d, std::uint64_t n, std::uint64_t i, std::uint64_t seed,
                   std::uint32_t stream, std::uint64_t first_id) {
    check_array(d, n);
    if (i >= n)
        throw std::out_of_range("realize_one: neuron index " + std::to_string(i) +
                                " out of range for a population of " + std::to_string(n));
    return value(d, n, i, make_key(seed, stream), first_id);
}

}  // namespace ifsim
