// Connectivity and per-synapse values drawn on the device for build_network (network.hpp's
// synapse_source): the same row samplers (connectivity.hpp) and the same synapse_value
// (synapses.hpp) as the host, on the same Philox words, so the network is the same bit for bit;
// only faster. Rules whose rows are independent run here: fixed_indegree, fixed_outdegree,
// pairwise_bernoulli and fixed_total with multapses. The rest (fixed_total without multapses draws
// in sequence; all_to_all and one_to_one draw nothing), and anything that would not fit in device
// memory, fall back to the host.
//
// Rows made in draw order (fixed degrees, fixed_total) become 64-bit keys source << 32 | target,
// radix-sorted (CUB) into the CSR's order: by source, targets ascending, as the host's assembly.
// pairwise_bernoulli rows come out sorted: a counting pass, a scan, a filling pass.
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "launch.cuh"
#include "synapse_draws.cuh"
#include "ifsim/connectivity.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/network.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim {
namespace {

using cuda::device_buffer;

constexpr unsigned max_blocks = 65535;
// The largest fixed in- or out-degree without multapses drawn here (plausible).
constexpr std::uint64_t max_distinct_degree = 4096;

std::size_t free_memory() {
    std::size_t free = 0, total = 0;
    IFSIM_CUDA_CHECK(cudaMemGetInfo(&free, &total), "reading the free device memory");
    return free;
}

// Most of the free memory a build may take; the rest stays for the CUDA context's own needs.
bool fits(double bytes) { return bytes <= 0.8 * double(free_memory()); }

// What `on_device` returns, or, where an allocation fails after all (fits() sees neither
// fragmentation nor other processes), what `on_host` does; a failed cudaMalloc leaves the device
// usable (cuda_check.cuh clears its error).
template <class Device, class Host>
auto on_device_or_host(Device&& on_device, Host&& on_host) {
    try {
        return on_device();
    } catch (const cuda_error& e) {
        if (e.error_name() != "cudaErrorMemoryAllocation") throw;
        return on_host();
    }
}

class device_synapse_source final : public synapse_source {
public:
    csr connect(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets, bool same_population,
                std::uint64_t seed, std::uint32_t projection_index) const override {
        const philox_key key = make_key(seed, connectivity_stream(projection_index));
        const auto on_host = [&] {
            return synapse_source::connect(r, num_sources, num_targets, same_population, seed, projection_index);
        };
        return on_device_or_host([&] { return connect_on_device(r, num_sources, num_targets, same_population, key, on_host); },
                                 on_host);
    }

    void draw(const synapse_distribution& d, philox_key key, std::span<double> out) const override {
        const std::uint64_t n = out.size();
        if (n == 0) return;
        if (d.type == synapse_distribution::kind::constant || !fits(8.0 * double(n))) {
            synapse_source::draw(d, key, out);
            return;
        }
        on_device_or_host(
            [&] {
                device_buffer<double> values(n, "the synapse values");
                IFSIM_LAUNCH(cuda::draw_values_kernel, cuda::grid_stride_shape(n, max_blocks), nullptr, d, key, n,
                             values.data());
                IFSIM_CUDA_CHECK(cudaMemcpy(out.data(), values.data(), n * sizeof(double), cudaMemcpyDeviceToHost),
                                 "copying the synapse values to the host");
            },
            [&] { synapse_source::draw(d, key, out); });
    }

private:
    // The synapses drawn on the device where the rule and the memory allow, else on_host().
    template <class Host>
    static csr connect_on_device(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets,
                                 bool same_population, philox_key key, const Host& on_host) {
        const bool no_self = same_population && !r.autapses;
        switch (r.kind) {
            case rule_kind::fixed_indegree:
            case rule_kind::fixed_outdegree: {
                const bool in = r.kind == rule_kind::fixed_indegree;
                const std::uint64_t rows = in ? num_targets : num_sources, pool = in ? num_sources : num_targets;
                // The host checks what the rule asks (and throws its errors) before anything is drawn.
                if (!plausible(r, num_sources, num_targets, same_population)) return on_host();
                const std::uint64_t n = rows * r.degree;
                if (!sorted_fits(n, num_sources)) return on_host();
                device_buffer<std::uint64_t> keys(n, "the synapse keys");
                IFSIM_LAUNCH(cuda::fixed_degree_kernel, cuda::grid_stride_shape(rows, max_blocks), nullptr, key, rows, pool,
                             no_self, r.degree, r.multapses, in, keys.data());
                return sorted_csr(keys, n, num_sources, num_targets);
            }
            case rule_kind::fixed_total: {
                if (!r.multapses || !plausible(r, num_sources, num_targets, same_population)) return on_host();
                const std::uint64_t n = r.degree;
                if (!sorted_fits(n, num_sources)) return on_host();
                device_buffer<std::uint64_t> keys(n, "the synapse keys");
                IFSIM_LAUNCH(cuda::fixed_total_kernel, cuda::grid_stride_shape(n, max_blocks), nullptr, key, n, num_sources,
                             num_targets, no_self, keys.data());
                return sorted_csr(keys, n, num_sources, num_targets);
            }
            case rule_kind::pairwise_bernoulli: {
                // none, every pair, or invalid (the host says why)
                if (!(r.p > 0.0 && r.p < 1.0) || num_sources > (std::uint64_t{1} << 32) ||
                    num_targets > (std::uint64_t{1} << 32))
                    return on_host();
                const double expected = r.p * double(num_sources) * double(num_targets);
                if (!fits(8.0 * double(num_sources + 1) * 2 + 4.0 * 1.2 * expected)) return on_host();
                if (auto c = bernoulli_csr(key, num_sources, num_targets, no_self, math::log1p(-r.p))) return std::move(*c);
                return on_host();  // more synapses than the estimate, and no room for them
            }
            default: return on_host();
        }
    }

    // Sizes the fixed-degree and fixed_total kernels can index; the host validates the rest.
    static bool plausible(const connection_rule& r, std::uint64_t num_sources, std::uint64_t num_targets, bool same) {
        constexpr std::uint64_t max_population = std::uint64_t{1} << 32;
        if (num_sources == 0 || num_targets == 0 || num_sources > max_population || num_targets > max_population) return false;
        if (same && num_sources != num_targets) return false;
        const bool no_self = same && !r.autapses;
        if (r.kind == rule_kind::fixed_total) return r.degree < max_population * 16 && !(no_self && num_targets == 1);
        const std::uint64_t pool = r.kind == rule_kind::fixed_indegree ? num_sources : num_targets;
        const std::uint64_t rows = r.kind == rule_kind::fixed_indegree ? num_targets : num_sources;
        const std::uint64_t avail = no_self ? pool - 1 : pool;
        // Without multapses a thread scans its row's picks so far for each new one, K^2 / 2
        // compares; the host's hash set takes the large degrees.
        if (!r.multapses && r.degree > max_distinct_degree) return false;
        return (r.degree == 0 || (avail > 0 && rows <= max_degree_rule_synapses / r.degree)) &&
               (r.multapses || r.degree <= avail);
    }

    // The sort's peak: the keys, their alternate buffer and CUB's scratch (histograms and look-back
    // state, allowed a tenth of the keys); after it the keys, the targets and the rows. Where this
    // estimate falls short, the failed allocation sends the draw to the host (on_device_or_host).
    static bool sorted_fits(std::uint64_t n, std::uint64_t num_sources) {
        return fits(std::max(8.0 * 2.1 * double(n), 12.0 * double(n) + 8.0 * double(num_sources + 1)));
    }

    static csr sorted_csr(device_buffer<std::uint64_t>& keys, std::uint64_t n, std::uint64_t num_sources,
                          std::uint64_t num_targets) {
        csr c;
        c.num_sources = num_sources;
        c.num_targets = num_targets;
        c.row_offsets.assign(num_sources + 1, 0);
        if (n == 0) return c;
        const int end_bit = 32 + std::max(1, int(std::bit_width(num_sources - 1)));
        {
            // The double-buffer form sorts between the two buffers; the other form would give CUB's
            // scratch a third copy of the keys.
            device_buffer<std::uint64_t> alternate(n, "the synapse keys' sort buffer");
            cub::DoubleBuffer<std::uint64_t> buffers(keys.data(), alternate.data());
            std::size_t scratch_bytes = 0;
            IFSIM_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, scratch_bytes, buffers, n, 0, end_bit),
                             "sizing the synapse sort");
            device_buffer<unsigned char> scratch(scratch_bytes, "the synapse sort's scratch");
            IFSIM_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(scratch.data(), scratch_bytes, buffers, n, 0, end_bit),
                             "sorting the synapses");
            if (buffers.Current() != keys.data()) std::swap(keys, alternate);
        }
        device_buffer<std::uint32_t> targets(n, "the synapse targets");
        device_buffer<std::uint64_t> rows(num_sources + 1, "the synapse rows");
        IFSIM_LAUNCH(cuda::split_keys_kernel, cuda::grid_stride_shape(n, max_blocks), nullptr, keys.data(), n, num_sources,
                     targets.data(), rows.data());
        c.targets.resize(n);
        IFSIM_CUDA_CHECK(cudaMemcpy(c.targets.data(), targets.data(), n * sizeof(std::uint32_t), cudaMemcpyDeviceToHost),
                         "copying the synapse targets to the host");
        IFSIM_CUDA_CHECK(cudaMemcpy(c.row_offsets.data(), rows.data(), (num_sources + 1) * sizeof(std::uint64_t),
                                    cudaMemcpyDeviceToHost),
                         "copying the synapse rows to the host");
        return c;
    }

    // Nothing when the drawn synapses turn out not to fit (the caller's check used an estimate).
    static std::optional<csr> bernoulli_csr(philox_key key, std::uint64_t num_sources, std::uint64_t num_targets,
                                            bool no_self, double log1p_neg_p) {
        csr c;
        c.num_sources = num_sources;
        c.num_targets = num_targets;
        c.row_offsets.assign(num_sources + 1, 0);
        device_buffer<std::uint64_t> counts(num_sources + 1, "the synapse row lengths");
        device_buffer<std::uint64_t> offsets(num_sources + 1, "the synapse rows");
        IFSIM_LAUNCH(cuda::bernoulli_count_kernel, cuda::grid_stride_shape(num_sources + 1, max_blocks), nullptr, key,
                     num_sources, num_targets, no_self, log1p_neg_p, counts.data());
        std::size_t scratch_bytes = 0;
        IFSIM_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scratch_bytes, counts.data(), offsets.data(), num_sources + 1),
                         "sizing the row scan");
        device_buffer<unsigned char> scratch(scratch_bytes, "the row scan's scratch");
        IFSIM_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scratch.data(), scratch_bytes, counts.data(), offsets.data(),
                                                       num_sources + 1),
                         "scanning the row lengths");
        IFSIM_CUDA_CHECK(cudaMemcpy(c.row_offsets.data(), offsets.data(), (num_sources + 1) * sizeof(std::uint64_t),
                                    cudaMemcpyDeviceToHost),
                         "copying the synapse rows to the host");
        const std::uint64_t n = c.row_offsets[num_sources];
        if (n == 0) return c;
        if (!fits(4.0 * double(n))) return std::nullopt;
        c.targets.resize(n);
        device_buffer<std::uint32_t> targets(n, "the synapse targets");
        IFSIM_LAUNCH(cuda::bernoulli_fill_kernel, cuda::grid_stride_shape(num_sources, max_blocks), nullptr, key, num_sources,
                     num_targets, no_self, log1p_neg_p, offsets.data(), targets.data());
        IFSIM_CUDA_CHECK(cudaMemcpy(c.targets.data(), targets.data(), n * sizeof(std::uint32_t), cudaMemcpyDeviceToHost),
                         "copying the synapse targets to the host");
        return c;
    }
};

}  // namespace

std::unique_ptr<synapse_source> make_device_synapse_source() { return std::make_unique<device_synapse_source>(); }

}  // namespace ifsim
