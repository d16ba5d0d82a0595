// The CUDA backend: every population's state on device 0, advanced a block of steps per call.
//
// A block runs as chunks of steps (spike_pipeline.cuh): for each chunk, one update kernel per
// step and group of populations (update_group.cuh; plus a gather kernel at each sampled step) is
// queued on the compute stream, one min-delay interval at a time with the network's delivery
// kernel after each, with the step currents computed on the host as the CPU backend does and
// passed as arguments; the chunk's spikes are sorted on the device and drained to the host on a
// copy stream while the next chunks compute. At the end of the block the sampled rows and the
// NaN flag are copied and the host synchronises once: the same spike_list, in the same order, and
// the same samples as the CPU backend.
//
// Spike pool policy: each population has a pool of P = max(n, min(max(8 n, 2^20), its share of a
// quarter of the free memory left after the state, 2^31 - 1)) entries (at least a step's worth),
// and chunks of at most P / n steps, which cannot overflow it (a neuron spikes at most once per step).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "finite_check.cuh"
#include "launch.cuh"
#include "network.cuh"
#include "neuron_update.cuh"
#include "recording.cuh"
#include "spike_pipeline.cuh"
#include "stream_event.cuh"
#include "ifsim/backend.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/network.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim {
namespace {

using cuda::device_buffer;
using cuda::pinned_buffer;

constexpr unsigned long long no_bad_neuron = std::numeric_limits<unsigned long long>::max();
constexpr std::uint64_t max_pool_entries = cuda::spike_pipeline<float>::max_capacity;
static_assert(cuda_max_population <= max_pool_entries, "a population's spikes of one step fit one pool");

std::string mib(std::size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", double(bytes) / (1024.0 * 1024.0));
    return buf;
}

std::size_t free_device_memory() {
    std::size_t free_bytes = 0, total_bytes = 0;
    IFSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes), "reading the free device memory");
    return free_bytes;
}

// What to change where `largest` is the largest part of a run that does not fit.
std::string memory_advice(const memory_part& largest, precision real, std::uint32_t ring_slots) {
    if (largest.name.ends_with("synaptic ring buffer")) return rings_advice(ring_slots);
    if (largest.name.ends_with("sample buffer") || largest.name.ends_with("recorded neuron list")) return records_advice;
    if (largest.name.ends_with(" synapses")) return connections_advice;
    return std::string(populations_advice) + (real == precision::double_ ? ", or use single precision" : "");
}

// Throws device_memory_exhausted, needed vs free and the largest part named, unless `parts` fit.
void check_fits(const std::vector<memory_part>& parts, const std::string& what, const std::string& device,
                precision real, std::uint32_t ring_slots) {
    std::size_t free_bytes = 0, total_bytes = 0;
    IFSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes), "reading the free device memory");
    const parts_sum sum = sum_parts(parts);
    const auto needed = std::size_t(sum.bytes);
    const memory_part* largest = sum.largest;
    if (double(needed) <= cuda_usable_memory_fraction * double(free_bytes)) return;
    throw device_memory_exhausted(what + " needs " + mib(needed) + " MiB of device memory, but " + device + " has " +
                                      mib(free_bytes) + " MiB free of " + mib(total_bytes) +
                                      " MiB (5 % is kept as headroom); the largest part is " + largest->name + " (" +
                                      mib(largest->bytes) + " MiB)",
                                  memory_advice(*largest, real, ring_slots));
}

// Populations stepped by one update launch (update_group.cuh).
class update_group {
public:
    virtual ~update_group() = default;
    // The members' tables to the device, again whenever their spike counters move (queued).
    virtual void upload() = 0;
    // Queues step `step`, the chunk's k-th, of every member.
    virtual void launch_step(std::uint64_t step, std::uint32_t k) = 0;
};

// The launch context every population shares.
struct device_context {
    cudaStream_t stream = nullptr;       // kernels, sorts, counts
    cudaStream_t copy_stream = nullptr;  // sorted spikes to the host
    std::string name;     // the GPU's name
    unsigned max_blocks;  // grid-stride kernels: enough resident blocks to fill every multiprocessor
    unsigned multiprocessors;
};

// A state record as the population sees it; its rows of a chunk live on the device until drained.
struct sampler {
    std::size_t record;                  // index into block_output::samples
    state_variable variable;
    std::size_t channel = 0;             // I_syn, g_syn: index into the population's channels
    std::vector<std::uint64_t> neurons;  // within the population
    std::uint64_t interval_steps;
    device_buffer<std::uint64_t> d_neurons;
    device_buffer<float> d_rows;         // rows x neurons, row-major
    std::uint64_t rows = 0;              // rows written in the current chunk
    pinned_buffer<float> h_rows;

    // Most rows a run of `num_steps` consecutive steps can sample.
    std::uint64_t max_rows(std::uint32_t num_steps) const { return (num_steps + interval_steps - 1) / interval_steps; }
};

class population_runner {
public:
    virtual ~population_runner() = default;
    virtual std::vector<memory_part> setup_memory() const = 0;
    virtual std::uint64_t size() const = 0;
    virtual std::size_t spike_entry_bytes() const = 0;  // device bytes per spike pool entry
    virtual void allocate(std::uint64_t pool_entries) = 0;
    virtual std::uint64_t max_chunk() const = 0;        // most steps a chunk may hold
    // What reserve_block(num_steps, chunk) would allocate.
    virtual std::vector<memory_part> block_memory(std::uint32_t num_steps, std::uint32_t chunk) const = 0;
    virtual void reserve_block(std::uint32_t num_steps, std::uint32_t chunk) = 0;
    virtual void begin_block() = 0;
    // Chunk j (`steps` steps from `first_step`) is queued in parts, none of which waits:
    // begin_chunk; for each step, launch_samples and then its group's update (update_group);
    // end_chunk.
    virtual void begin_chunk(std::uint32_t steps) = 0;
    virtual void launch_samples(std::uint64_t step) = 0;  // the state records due at `step`, before it
    virtual void end_chunk(std::uint64_t j, std::uint64_t first_step, std::uint32_t steps) = 0;
    // Waits for chunk j and appends its spikes.
    virtual void drain_chunk(std::uint64_t j, spike_list& spikes) = 0;
    // Queues the copies of the block's samples and NaN flag; after the stream has been
    // synchronised, append_samples adds the samples to `out`, and check_finite reports a
    // non-finite V or an overflowed synaptic input (once every population's samples are in, as
    // on the CPU).
    virtual void queue_block_end() = 0;
    virtual void append_samples(block_output& out) const = 0;
    virtual void check_finite(std::uint64_t last_step) const = 0;
    virtual std::vector<double> state(state_variable v) const = 0;
    virtual std::vector<double> synaptic_state(std::size_t c) const = 0;
    // The spike pool of the chunk being launched, for delivery (fixed between reserve_blocks).
    virtual cuda::delivery_source pool() const = 0;
    // Channel c's ring buffer (slots x size()).
    virtual std::int64_t* ring(std::size_t c) const = 0;
    // The update kernel instance: populations with the same one share a group.
    virtual const void* update_kernel() const = 0;
    // The group of `members` (this population first; all with its update kernel).
    virtual std::unique_ptr<update_group> make_group(const std::vector<population_runner*>& members) const = 0;
    std::vector<sampler> samplers;
    double least_bytes_per_step = 0;  // memory_traffic.hpp
};

template <class Model, class Real>
class cuda_update_group;

template <class Model, class Real>
class cuda_population final : public population_runner {
    using coeffs_type = typename Model::template coeffs<Real>;
    using pipeline_type = cuda::spike_pipeline<Real>;

public:
    using kernel_type = cuda::update_kernel_type<Model, Real>;

    cuda_population(population_data<Model, Real> data, philox_key key, bool interpolate, std::string name,
                    const device_context& ctx, std::vector<synapse_channel> channels, std::uint32_t slots,
                    double dt_ms)
        : h_(std::move(data)), name_(std::move(name)), of_(" of population '" + name_ + "'"), ctx_(ctx), key_(key),
          n_(h_.size), has_w_(!h_.w.empty()), has_ou_(!h_.I_ou.empty()), per_neuron_coeffs_(h_.coeffs.size() > 1),
          per_neuron_bias_(h_.I_e.size() > 1), channels_(std::move(channels)), slots_(slots), dt_ms_(dt_ms) {
        least_bytes_per_step = ifsim::least_bytes_per_step(h_, channels_);
        if (channels_.size() > cuda::max_device_channels)  // cuda_cannot_run refused it before the build
            throw runtime_failure("population '" + name_ + "' has more synaptic channels than the CUDA backend holds");
        bool any_poisson = false;
        for (const auto& c : h_.coeffs) {
            any_noise_ = any_noise_ || needs_step_noise(c.input.flags);
            any_poisson = any_poisson || (c.input.flags & input_flag::poisson) != 0;
        }
        update_ = cuda::update_kernel_for<Model, Real>(has_ou_, any_poisson, interpolate, !channels_.empty());
    }

    std::vector<memory_part> setup_memory() const override {
        const std::size_t state_arrays = 2 + (has_w_ ? 1 : 0) + (has_ou_ ? 1 : 0);
        std::vector<memory_part> parts{
            {"population '" + name_ + "' parameters",
             h_.coeffs.size() * sizeof(coeffs_type) + h_.I_e.size() * sizeof(Real)},
            {"population '" + name_ + "' state", state_arrays * n_ * sizeof(Real)}};
        for (const auto& s : samplers)
            parts.push_back({"population '" + name_ + "' recorded neuron list", s.neurons.size() * sizeof(std::uint64_t)});
        for (const auto& c : channels_)  // a channel only Poisson input feeds has no ring
            parts.push_back({"population '" + name_ + (c.has_ring ? "' synaptic ring buffer" : "' synaptic state"),
                             n_ * channel_bytes_per_neuron(c, slots_, sizeof(Real))});
        return parts;
    }
    std::uint64_t size() const override { return n_; }
    std::size_t spike_entry_bytes() const override { return pipeline_type::device_bytes_per_entry; }

    void allocate(std::uint64_t pool_entries) override {
        d_coeffs_ = device_buffer<coeffs_type>(h_.coeffs, "the parameters" + of_);
        d_I_e_ = device_buffer<Real>(h_.I_e, "I_e" + of_);
        d_V_ = device_buffer<Real>(h_.V, "V" + of_);
        d_w_ = device_buffer<Real>(h_.w, "w" + of_);
        d_I_ou_ = device_buffer<Real>(h_.I_ou, "I_noise" + of_);
        d_ref_ = device_buffer<Real>(h_.ref, "the refractory state" + of_);
        spikes_ = std::make_unique<pipeline_type>(n_, pool_entries, of_);
        d_first_bad_ = device_buffer<unsigned long long>(1, "the NaN flag" + of_);
        h_first_bad_.reserve(1, "the NaN flag" + of_);
        for (auto& s : samplers) s.d_neurons = device_buffer<std::uint64_t>(s.neurons, "the recorded neurons" + of_);
        syn_ = {};
        syn_.count = unsigned(channels_.size());
        for (std::size_t c = 0; c < channels_.size(); ++c) {
            const synapse_channel& ch = channels_[c];
            const bool exp_kind = ch.kind != synapse_kind::delta;
            d_rings_.emplace_back(ch.has_ring ? std::size_t(slots_) * n_ : 0, "the synaptic ring buffer" + of_);
            if (ch.has_ring)
                IFSIM_CUDA_CHECK(cudaMemset(d_rings_.back().data(), 0, d_rings_.back().size() * sizeof(std::int64_t)),
                                 "clearing the synaptic ring buffer" + of_);
            d_channel_x_.emplace_back(exp_kind ? n_ : 0, "the synaptic state" + of_);
            if (exp_kind)
                IFSIM_CUDA_CHECK(cudaMemset(d_channel_x_.back().data(), 0, n_ * sizeof(Real)), "clearing the synaptic state" + of_);
            syn_.channel[c] = {ch.kind,
                               derive_channel<Real>(ch.kind, ch.tau_syn_ms, ch.E_rev_mV, ch.poisson_weight, dt_ms_),
                               ch.format,
                               ch.has_ring ? d_rings_.back().data() : nullptr,
                               exp_kind ? d_channel_x_.back().data() : nullptr};
            syn_.has_current = syn_.has_current || exp_kind;
        }
        d_overflow_ = device_buffer<unsigned long long>(1, "the synaptic overflow flag" + of_);
        h_overflow_.reserve(1, "the synaptic overflow flag" + of_);
        IFSIM_CUDA_CHECK(cudaMemset(d_overflow_.data(), 0xff, sizeof(unsigned long long)), "clearing the overflow flag");
        syn_.d_overflow = d_overflow_.data();
        // The device holds the state from now on; keep only what the host still needs (the step
        // current schedule).
        h_.coeffs = {};
        h_.I_e = {};
        h_.V = {};
        h_.w = {};
        h_.I_ou = {};
        h_.ref = {};
    }

    std::uint64_t max_chunk() const override { return spikes_->max_chunk(); }

    std::vector<memory_part> block_memory(std::uint32_t num_steps, std::uint32_t chunk) const override {
        std::vector<memory_part> parts{{"population '" + name_ + "' spike counters", pipeline_type::reserve_bytes(chunk)}};
        for (const auto& s : samplers)
            parts.push_back({"state record " + std::to_string(s.record) + " sample buffer",
                             s.max_rows(num_steps) * s.neurons.size() * sizeof(float)});
        return parts;
    }

    void reserve_block(std::uint32_t num_steps, std::uint32_t chunk) override {
        spikes_->reserve(chunk);
        for (auto& s : samplers) {
            const std::size_t floats = s.max_rows(num_steps) * s.neurons.size();
            if (floats <= s.d_rows.size()) continue;
            s.d_rows = device_buffer<float>(floats, "the samples of state record " + std::to_string(s.record));
            s.h_rows.reserve(floats, "the samples of state record " + std::to_string(s.record));
        }
    }

    void begin_block() override {
        for (auto& s : samplers) s.rows = 0;
    }

    void begin_chunk(std::uint32_t steps) override { spikes_->begin_chunk(steps, ctx_.stream); }

    void launch_samples(std::uint64_t step) override {
        for (auto& s : samplers) {
            if (step % s.interval_steps != 0) continue;
            const Real* src = is_synaptic(s.variable) ? d_channel_x_[s.channel].data() : neuron_variable(s.variable).data();
            const std::uint64_t m = s.neurons.size();
            IFSIM_LAUNCH((cuda::gather_kernel<Real>), cuda::grid_stride_shape(m, ctx_.max_blocks), ctx_.stream, src,
                         static_cast<const std::uint64_t*>(s.d_neurons.data()), m, s.d_rows.data() + s.rows * m);
            ++s.rows;
        }
    }

    // What the update kernel reads of this population (its spike sink moves with reserve_block).
    cuda::update_member<Model, Real> member() const {
        return {{d_coeffs_.data(), per_neuron_coeffs_ ? 1u : 0u, d_I_e_.data(), per_neuron_bias_ ? 1u : 0u, d_V_.data(),
                 d_w_.data(), d_I_ou_.data(), d_ref_.data(), n_, h_.first_id, key_, any_noise_},
                spikes_->sink(),
                syn_};
    }
    Real step_current(std::uint64_t step) const { return h_.steps.at(step); }
    kernel_type kernel() const { return update_; }
    std::uint32_t slots() const { return slots_; }

    void end_chunk(std::uint64_t j, std::uint64_t first_step, std::uint32_t steps) override {
        spikes_->end_chunk(j, first_step, steps, ctx_.stream);
    }

    void drain_chunk(std::uint64_t j, spike_list& spikes) override { spikes_->drain(j, ctx_.copy_stream, spikes); }

    void queue_block_end() override {
        for (auto& s : samplers) {
            if (s.rows == 0) continue;
            IFSIM_CUDA_CHECK(cudaMemcpyAsync(s.h_rows.data(), s.d_rows.data(), s.rows * s.neurons.size() * sizeof(float),
                                             cudaMemcpyDeviceToHost, ctx_.stream),
                             "copying the samples of state record " + std::to_string(s.record));
        }
        IFSIM_CUDA_CHECK(cudaMemsetAsync(d_first_bad_.data(), 0xff, sizeof(unsigned long long), ctx_.stream),
                         "clearing the NaN flag");
        IFSIM_LAUNCH((cuda::find_non_finite_kernel<Real>), cuda::grid_stride_shape(n_, ctx_.max_blocks), ctx_.stream,
                     static_cast<const Real*>(d_V_.data()), n_, d_first_bad_.data());
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(h_first_bad_.data(), d_first_bad_.data(), sizeof(unsigned long long),
                                         cudaMemcpyDeviceToHost, ctx_.stream),
                         "copying the NaN flag" + of_);
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(h_overflow_.data(), d_overflow_.data(), sizeof(unsigned long long),
                                         cudaMemcpyDeviceToHost, ctx_.stream),
                         "copying the synaptic overflow flag" + of_);
    }

    void append_samples(block_output& out) const override {
        for (const auto& s : samplers) {
            const std::size_t floats = s.rows * s.neurons.size();
            auto& dst = out.samples[s.record];
            dst.insert(dst.end(), s.h_rows.data(), s.h_rows.data() + floats);
            out.sample_rows[s.record] += s.rows;
        }
    }

    void check_finite(std::uint64_t last_step) const override {
        if (h_first_bad_[0] != no_bad_neuron)
            throw numerical_error("membrane potential is not finite", h_.first_id + h_first_bad_[0], last_step);
        if (h_overflow_[0] != no_bad_neuron)
            throw numerical_error("synaptic input overflowed its fixed-point range", h_.first_id + h_overflow_[0], last_step);
    }

    cuda::delivery_source pool() const override {
        const cuda::spike_sink<Real> sink = spikes_->sink();
        return {sink.d_neuron, sink.d_base, sink.d_counts, 0, 0};
    }
    std::int64_t* ring(std::size_t c) const override { return d_rings_.at(c).data(); }
    const void* update_kernel() const override { return reinterpret_cast<const void*>(update_); }

    std::unique_ptr<update_group> make_group(const std::vector<population_runner*>& members) const override {
        std::vector<const cuda_population*> typed;
        for (const population_runner* m : members) {
            const auto* t = dynamic_cast<const cuda_population*>(m);
            if (t == nullptr || t->update_ != update_)
                throw runtime_failure("internal error: population '" + name_ + "' grouped with another update kernel");
            typed.push_back(t);
        }
        return std::make_unique<cuda_update_group<Model, Real>>(std::move(typed), ctx_);
    }

    std::vector<double> state(state_variable v) const override { return to_host(neuron_variable(v)); }
    std::vector<double> synaptic_state(std::size_t c) const override { return to_host(d_channel_x_.at(c)); }

private:
    // One value per neuron of a state array, in double; zeros for an empty one (a state the
    // population lacks).
    std::vector<double> to_host(const device_buffer<Real>& src) const {
        if (src.empty()) return std::vector<double>(n_, 0.0);
        std::vector<Real> host(n_);
        IFSIM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream), "waiting for the stream");
        IFSIM_CUDA_CHECK(cudaMemcpy(host.data(), src.data(), n_ * sizeof(Real), cudaMemcpyDeviceToHost),
                         "copying the state" + of_ + " to the host");
        return std::vector<double>(host.begin(), host.end());
    }

    // A neuron's state variable (empty where the population lacks it: w, I_noise).
    const device_buffer<Real>& neuron_variable(state_variable v) const {
        switch (v) {
            case state_variable::V_m: return d_V_;
            case state_variable::w: return d_w_;
            case state_variable::I_noise: return d_I_ou_;
            default: throw std::invalid_argument("state: I_syn and g_syn are a synaptic channel's; record them");
        }
    }

    population_data<Model, Real> h_;  // host copy: only first_id and the step schedule kept after allocate()
    std::string name_, of_;
    const device_context& ctx_;
    philox_key key_;
    std::uint64_t n_;
    bool has_w_, has_ou_, per_neuron_coeffs_, per_neuron_bias_;
    bool any_noise_ = false;
    kernel_type update_ = nullptr;

    device_buffer<coeffs_type> d_coeffs_;  // one entry, or one per neuron
    device_buffer<Real> d_I_e_;            // bias current [pA]: one entry, or one per neuron
    device_buffer<Real> d_V_;              // membrane potential [mV]
    device_buffer<Real> d_w_;              // adaptation current [pA]; empty without adaptation
    device_buffer<Real> d_I_ou_;           // OU input current [pA]; empty without OU input
    device_buffer<Real> d_ref_;            // refractory time left [steps]
    std::unique_ptr<pipeline_type> spikes_;
    device_buffer<unsigned long long> d_first_bad_;  // lowest index with non-finite V, or all ones
    pinned_buffer<unsigned long long> h_first_bad_;

    std::vector<synapse_channel> channels_;              // network.hpp: this population's input channels
    std::uint32_t slots_;                                // ring-buffer slots (steps)
    double dt_ms_ = 0.0;
    std::vector<device_buffer<std::int64_t>> d_rings_;   // per channel: slots x n fixed-point sums
    std::vector<device_buffer<Real>> d_channel_x_;       // per channel: exp state; empty for delta
    cuda::channel_set<Real> syn_{};                      // what the update kernel gets
    device_buffer<unsigned long long> d_overflow_;       // lowest neuron whose slot left its range
    pinned_buffer<unsigned long long> h_overflow_;
};

// Typed: one update launch per step for all its members.
template <class Model, class Real>
class cuda_update_group final : public update_group {
public:
    using member_type = cuda_population<Model, Real>;

    cuda_update_group(std::vector<const member_type*> members, const device_context& ctx)
        : members_(std::move(members)), ctx_(ctx), kernel_(members_.front()->kernel()),
          slots_(members_.front()->slots()) {
        std::vector<std::uint64_t> sizes;
        for (const member_type* m : members_) sizes.push_back(m->size());
        // One wave: a population's blocks at most as many as can be resident at once with this
        // kernel's registers (a float LIF 6 per multiprocessor, a double AdEx 2), so that none
        // waits for a second wave with its share of the grid-stride loop.
        int resident = 0;
        IFSIM_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel_, int(cuda::threads_per_block), 0),
                         "reading the update kernel's occupancy");
        const unsigned max_blocks = ctx_.multiprocessors * unsigned(std::max(resident, 1));
        first_block_ = cuda::group_blocks(sizes, cuda::threads_per_block, std::min(max_blocks, ctx_.max_blocks));
        h_members_.resize(members_.size());
        d_members_ = device_buffer<cuda::update_member<Model, Real>>(members_.size(), "the update group table");
    }

    void upload() override {
        for (std::size_t m = 0; m < members_.size(); ++m) h_members_[m] = members_[m]->member();
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(d_members_.data(), h_members_.data(),
                                         h_members_.size() * sizeof(cuda::update_member<Model, Real>),
                                         cudaMemcpyHostToDevice, ctx_.stream),
                         "copying the update group table to the device");
    }

    void launch_step(std::uint64_t step, std::uint32_t k) override {
        cuda::group_step<Real> g{};
        g.step = step;
        g.slot = step % slots_;
        g.k = k;
        g.members = unsigned(members_.size());
        std::copy(first_block_.begin(), first_block_.end(), g.first_block);
        for (std::size_t m = 0; m < members_.size(); ++m) g.I_step[m] = members_[m]->step_current(step);
        cuda::launch("update_kernel", kernel_, cuda::launch_shape{first_block_.back(), cuda::threads_per_block},
                     ctx_.stream, __FILE__, __LINE__,
                     static_cast<const cuda::update_member<Model, Real>*>(d_members_.data()), g);
    }

private:
    std::vector<const member_type*> members_;
    const device_context& ctx_;
    typename member_type::kernel_type kernel_;
    std::uint32_t slots_;
    std::vector<unsigned> first_block_;  // member m's first block; the grid size last
    std::vector<cuda::update_member<Model, Real>> h_members_;  // outlives its copy
    device_buffer<cuda::update_member<Model, Real>> d_members_;
};

template <class Real>
std::unique_ptr<population_runner> make_runner(const population_spec& pop, const simulation_spec& sim,
                                               std::uint64_t first_id, const device_context& ctx,
                                               const std::vector<synapse_channel>& channels, std::uint32_t slots) {
    const philox_key key = make_key(sim.seed, 0);
    const bool interpolate = sim.timing == spike_timing::interpolated;
    return with_model(pop.model, [&]<class Model>() -> std::unique_ptr<population_runner> {
        return std::make_unique<cuda_population<Model, Real>>(build_population<Model, Real>(pop, sim, first_id), key,
                                                              interpolate, pop.name, ctx, channels, slots, sim.dt_ms);
    });
}

class cuda_backend final : public backend {
public:
    cuda_backend(const run_spec& spec, std::uint32_t block_steps)
        : num_records_(spec.states.size()), real_(spec.simulation.real) {
        cudaDeviceProp prop{};
        IFSIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0), "reading the properties of device 0");
        ctx_.name = prop.name;
        ctx_.stream = stream_.get();
        ctx_.copy_stream = copy_stream_.get();
        // 2048 resident threads per multiprocessor on every supported architecture.
        ctx_.multiprocessors = unsigned(prop.multiProcessorCount);
        ctx_.max_blocks = ctx_.multiprocessors * (2048u / cuda::threads_per_block);

        // The network's random parts are drawn on the device (the same synapses as the CPU's),
        // assembled on the host and uploaded below; IFSIM_SYNAPSE_DRAWS=host draws them on the host
        // instead, to tell a fault of the device draws from one of the run (docs/cuda.md).
        if (const std::string why = cuda_cannot_run(spec); !why.empty())  // before the network is drawn
            throw config_error(why);  // known from the config: bad input for this backend
        // What is sure to be needed, before minutes of drawing: a network far too large for the
        // device is refused now, not after its build.
        const device_memory_need least = least_device_memory(spec);
        check_fits(least.parts, "the run (its state, rings and synapses as expected, before the network is drawn)",
                   ctx_.name, spec.simulation.real, least.ring_slots);
        use_run_threads(spec.simulation);  // the host's part of the build
        const std::string_view draws = std::getenv("IFSIM_SYNAPSE_DRAWS") ? std::getenv("IFSIM_SYNAPSE_DRAWS") : "";
        if (!draws.empty() && draws != "host" && draws != "device")  // a misspelt one would be ignored unseen
            throw config_error("IFSIM_SYNAPSE_DRAWS='" + std::string(draws) +
                               "' in the environment: 'host' draws the network on the host, 'device' (or unset) on "
                               "the device");
        net_ = draws == "host" ? build_network(spec) : build_network(spec, *make_device_synapse_source());
        const std::uint32_t slots = net_.max_delay_steps + 1;
        std::uint64_t first_id = 0;
        for (std::size_t p = 0; p < spec.populations.size(); ++p) {
            const auto& pop = spec.populations[p];
            populations_.push_back(spec.simulation.real == precision::single
                                       ? make_runner<float>(pop, spec.simulation, first_id, ctx_, net_.channels[p], slots)
                                       : make_runner<double>(pop, spec.simulation, first_id, ctx_, net_.channels[p], slots));
            first_id += pop.size;
        }
        for (std::size_t r = 0; r < spec.states.size(); ++r) {
            const auto& rec = spec.states[r];
            const std::size_t p = recorded_population(spec, rec);
            sampler s;
            s.record = r;
            s.variable = parse_state_variable(rec.variable);
            s.channel = recorded_channel(net_, spec, rec);
            s.neurons = rec.neurons;
            s.interval_steps = rec.interval_steps(spec.simulation.dt_ms);
            populations_[p]->samplers.push_back(std::move(s));
        }

        // Memory: state, parameters, synapses and generator spikes first, then the spike pools
        // sized from what is left.
        std::vector<memory_part> parts;
        for (const auto& p : populations_)
            for (auto& part : p->setup_memory()) parts.push_back(std::move(part));
        for (std::size_t k = 0; k < net_.projections.size(); ++k) {
            const built_projection& b = net_.projections[k];
            if (b.conn.targets.empty()) continue;  // not uploaded (upload_projections)
            parts.push_back({"projection " + std::to_string(k) + " synapses",
                             b.conn.row_offsets.size() * sizeof(std::uint64_t) +
                                 b.conn.targets.size() * sizeof(std::uint32_t) + b.weight.size() * sizeof(std::int32_t) +
                                 b.delay8.size() * sizeof(std::uint8_t) + b.delay16.size() * sizeof(std::uint16_t)});
        }
        for (std::size_t g = 0; g < net_.generators.size(); ++g)
            parts.push_back({"generator " + std::to_string(g) + " spikes",
                             net_.generators[g].step.size() * (sizeof(std::uint64_t) + sizeof(std::uint32_t))});
        std::size_t fixed = 0;
        for (const auto& part : parts) fixed += part.bytes;
        const double left = cuda_usable_memory_fraction * double(free_device_memory()) - double(fixed);
        const double pool_share = left > 0 ? left / 4.0 / double(std::max<std::size_t>(1, populations_.size())) : 0.0;
        std::vector<std::uint64_t> pools;
        for (std::size_t p = 0; p < populations_.size(); ++p) {
            const std::uint64_t n = std::max<std::uint64_t>(populations_[p]->size(), 1);
            const std::uint64_t budget = std::uint64_t(pool_share / double(populations_[p]->spike_entry_bytes()));
            const std::uint64_t wanted = std::max<std::uint64_t>(8 * n, std::uint64_t(1) << 20);
            pools.push_back(std::max(n, std::min({wanted, budget, max_pool_entries})));
            parts.push_back({"population '" + spec.populations[p].name + "' spike buffers",
                             pools.back() * populations_[p]->spike_entry_bytes()});
        }
        check_fits(parts, "the run", ctx_.name, spec.simulation.real, slots);
        for (std::size_t p = 0; p < populations_.size(); ++p) populations_[p]->allocate(pools[p]);
        make_groups();
        upload_projections(slots);
        // The caller's blocks (or the whole run, where shorter) are reserved now: where they do not
        // fit, the run fails before it starts, and --backend auto runs on the CPU.
        if (const std::uint64_t first_block = std::min<std::uint64_t>(block_steps, total_steps(spec.simulation)))
            reserve_blocks(std::uint32_t(first_block), chunk_steps(std::uint32_t(first_block)));
        // The synapses live on the device from now on: the host's copy goes (3 GB for the
        // microcircuit), its statistics stay.
        bytes_per_synapse_ = net_.bytes_per_synapse();
        for (auto& b : net_.projections) {
            b.conn = {};
            b.weight = {};
            b.delay8 = {};
            b.delay16 = {};
        }
        // The setup's memsets and pageable copies ran on the legacy stream, which the
        // non-blocking compute and copy streams do not wait for.
        IFSIM_CUDA_CHECK(cudaDeviceSynchronize(), "finishing the setup");
    }

    std::string name() const override { return "cuda"; }
    std::string device() const override { return ctx_.name; }

    void advance(std::uint64_t first_step, std::uint32_t num_steps, block_output& out) override {
        out.spikes.resize(populations_.size());
        if (out.samples.size() < num_records_) out.samples.resize(num_records_);
        if (out.sample_rows.size() < num_records_) out.sample_rows.resize(num_records_, 0);
        if (num_steps == 0) return;
        const std::uint32_t c = chunk_steps(num_steps);
        reserve_blocks(num_steps, c);
        // Within a chunk, the populations advance one min-delay interval at a time and the
        // interval's spikes are delivered after it, before any of them can be due; the host
        // still waits only per chunk.
        const std::uint32_t interval = net_.empty() ? c : net_.min_delay_steps;
        const std::uint64_t chunks = (std::uint64_t(num_steps) + c - 1) / c;
        const auto launch = [&](std::uint64_t j) {
            const std::uint64_t first = first_step + j * c;
            const auto steps = std::uint32_t(std::min<std::uint64_t>(c, first_step + num_steps - first));
            for (auto& p : populations_) p->begin_chunk(steps);
            for (std::uint32_t k0 = 0; k0 < steps; k0 += interval) {
                const std::uint32_t k1 = std::min(steps, k0 + interval);
                for (std::uint32_t k = k0; k < k1; ++k) {
                    for (auto& p : populations_) p->launch_samples(first + k);
                    for (auto& g : groups_) g->launch_step(first + k, k);
                }
                deliver(first, k0, k1);
            }
            for (auto& p : populations_) p->end_chunk(j, first, steps);
        };
        for (auto& p : populations_) p->begin_block();
        // Two chunks in flight: chunk j + 2 reuses chunk j's sorted slot (spike_pipeline.cuh).
        for (std::uint64_t j = 0; j < std::min<std::uint64_t>(2, chunks); ++j) launch(j);
        for (std::uint64_t j = 0; j < chunks; ++j) {
            for (std::size_t p = 0; p < populations_.size(); ++p) populations_[p]->drain_chunk(j, out.spikes[p]);
            if (j + 2 < chunks) launch(j + 2);
        }
        for (auto& p : populations_) p->queue_block_end();
        IFSIM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream), "finishing a block of steps");
        for (const auto& p : populations_) p->append_samples(out);
        for (const auto& p : populations_) p->check_finite(first_step + num_steps);
    }

    std::vector<double> state(std::size_t population, state_variable v) const override {
        return populations_.at(population)->state(v);
    }
    std::vector<double> synaptic_state(std::size_t population, std::size_t channel) const override {
        return populations_.at(population)->synaptic_state(channel);
    }

    network_stats network() const override {
        network_stats s{net_.synapses, bytes_per_synapse_, net_.build_seconds, 0, net_.projection_synapses};
        if (!d_events_.empty()) {
            IFSIM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream), "waiting for the stream");
            unsigned long long events = 0;
            IFSIM_CUDA_CHECK(cudaMemcpy(&events, d_events_.data(), sizeof events, cudaMemcpyDeviceToHost),
                             "copying the synaptic event count");
            s.events = events;
        }
        return s;
    }

    double least_bytes_per_step() const override {
        double bytes = 0;
        for (const auto& p : populations_) bytes += p->least_bytes_per_step;
        return bytes;
    }

    // Measured in the memory the network leaves free (device_copy_bandwidth).
    double copy_bandwidth() const override { return device_copy_bandwidth().bytes_per_s; }

private:
    // The chunks of a block of `num_steps`: short enough for every pool, and at least four per
    // block so that draining overlaps computing.
    std::uint32_t chunk_steps(std::uint32_t num_steps) const {
        std::uint64_t chunk = (std::uint64_t(num_steps) + 3) / 4;
        for (const auto& p : populations_) chunk = std::min(chunk, p->max_chunk());
        return std::uint32_t(std::max<std::uint64_t>(chunk, 1));
    }

    // Buffers (samples, sorted spikes) for blocks of `num_steps` in chunks of `c`, where those
    // reserved are smaller; checked against the free memory first.
    void reserve_blocks(std::uint32_t num_steps, std::uint32_t c) {
        if (num_steps <= reserved_steps_ && c <= reserved_chunk_) return;
        std::vector<memory_part> parts;
        for (const auto& p : populations_)
            for (auto& part : p->block_memory(num_steps, c)) parts.push_back(std::move(part));
        check_fits(parts, "a block of " + std::to_string(num_steps) + " steps", ctx_.name, real_,
                   net_.max_delay_steps + 1);
        for (auto& p : populations_) p->reserve_block(std::max(num_steps, reserved_steps_), std::max(c, reserved_chunk_));
        reserved_steps_ = std::max(num_steps, reserved_steps_);
        reserved_chunk_ = std::max(c, reserved_chunk_);
        // The pools' counters moved.
        for (auto& g : groups_) g->upload();
        upload_delivery_sources();
    }

    // One update group per kernel instance (at most max_group_members populations each).
    void make_groups() {
        std::vector<const void*> kernels;
        for (const auto& p : populations_) kernels.push_back(p->update_kernel());
        for (const auto& members : cuda::group_by_key(kernels)) {
            std::vector<population_runner*> group;
            for (const std::size_t p : members) group.push_back(populations_[p].get());
            groups_.push_back(group.front()->make_group(group));
        }
    }

    // The projections' synapses to the device, pointing at their target channels' rings.
    void upload_projections(std::uint32_t slots) {
        if (net_.empty()) return;
        d_events_ = device_buffer<unsigned long long>(1, "the synaptic event counter");
        IFSIM_CUDA_CHECK(cudaMemset(d_events_.data(), 0, sizeof(unsigned long long)), "clearing the event counter");
        for (std::size_t k = 0; k < net_.projections.size(); ++k) {
            const built_projection& b = net_.projections[k];
            if (b.conn.targets.empty()) continue;  // nothing to deliver
            const std::string of = " of projection " + std::to_string(k);
            device_synapses d;
            d.rows = device_buffer<std::uint64_t>(b.conn.row_offsets, "the synapse rows" + of);
            d.targets = device_buffer<std::uint32_t>(b.conn.targets, "the synapse targets" + of);
            d.weights = device_buffer<std::int32_t>(b.weight, "the synapse weights" + of);
            d.delays8 = device_buffer<std::uint8_t>(b.delay8, "the synapse delays" + of);
            d.delays16 = device_buffer<std::uint16_t>(b.delay16, "the synapse delays" + of);
            d.view = {d.rows.data(),
                      d.targets.data(),
                      b.weight.empty() ? nullptr : d.weights.data(),
                      b.delay8.empty() ? nullptr : d.delays8.data(),
                      b.delay16.empty() ? nullptr : d.delays16.data(),
                      b.constant_weight,
                      b.constant_delay,
                      populations_[b.target]->ring(b.channel),
                      slots,
                      populations_[b.target]->size(),
                      d_events_.data()};
            d.source = b.source;
            d.from_generator = b.from_generator;
            synapses_.push_back(std::move(d));
        }
        // The populations' projections grouped by source, for one delivery launch per interval.
        std::vector<cuda::device_projection> grouped;
        for (std::size_t p = 0; p < populations_.size(); ++p) {
            const auto first = unsigned(grouped.size());
            for (const auto& d : synapses_)
                if (!d.from_generator && d.source == p) grouped.push_back(d.view);
            if (grouped.size() == first) continue;
            delivery_populations_.push_back(p);
            h_delivery_sources_.push_back({nullptr, nullptr, nullptr, first, unsigned(grouped.size()) - first});
        }
        d_projections_ = device_buffer<cuda::device_projection>(grouped, "the projection table");
        d_delivery_sources_ = device_buffer<cuda::delivery_source>(h_delivery_sources_.size(), "the delivery table");
        for (const auto& d : synapses_)
            if (d.from_generator) generator_projections_.push_back({d.source, d.view});
        for (std::size_t g = 0; g < net_.generators.size(); ++g) {
            const std::string of = " of generator " + std::to_string(g);
            generators_.push_back({device_buffer<std::uint64_t>(net_.generators[g].step, "the spike steps" + of),
                                   device_buffer<std::uint32_t>(net_.generators[g].neuron, "the spike neurons" + of)});
        }
    }

    // Queues the delivery of steps [k0, k1) of the chunk from `first`: the populations' spikes in
    // one launch, each generator's listed spikes in one launch per projection.
    void deliver(std::uint64_t first, std::uint32_t k0, std::uint32_t k1) {
        if (!h_delivery_sources_.empty())
            IFSIM_LAUNCH(cuda::deliver_interval_kernel, (cuda::launch_shape{ctx_.max_blocks, cuda::threads_per_block}),
                         ctx_.stream, static_cast<const cuda::delivery_source*>(d_delivery_sources_.data()),
                         unsigned(h_delivery_sources_.size()),
                         static_cast<const cuda::device_projection*>(d_projections_.data()), k0, k1 - k0, first);
        for (const auto& g : generator_projections_) {
            const auto [lo, hi] = net_.generators[g.generator].between(first + k0, first + k1);
            if (lo == hi) continue;
            const generator_buffers& b = generators_[g.generator];
            IFSIM_LAUNCH(cuda::deliver_listed_kernel, cuda::grid_stride_shape((hi - lo) * 32, ctx_.max_blocks),
                         ctx_.stream, g.view, b.step.data() + lo, b.neuron.data() + lo, std::uint64_t(hi - lo));
        }
    }

    // The populations' spike pools with their projections, for deliver_interval_kernel; again
    // whenever the pools' counters are reallocated. Queued on the compute stream, from a host
    // copy that outlives the copy.
    void upload_delivery_sources() {
        if (h_delivery_sources_.empty()) return;
        for (std::size_t s = 0; s < h_delivery_sources_.size(); ++s) {
            const cuda::delivery_source pool = populations_[delivery_populations_[s]]->pool();
            h_delivery_sources_[s].neuron = pool.neuron;
            h_delivery_sources_[s].base = pool.base;
            h_delivery_sources_[s].counts = pool.counts;
        }
        IFSIM_CUDA_CHECK(cudaMemcpyAsync(d_delivery_sources_.data(), h_delivery_sources_.data(),
                                         h_delivery_sources_.size() * sizeof(cuda::delivery_source),
                                         cudaMemcpyHostToDevice, ctx_.stream),
                         "copying the delivery table to the device");
    }

    struct device_synapses {
        device_buffer<std::uint64_t> rows;
        device_buffer<std::uint32_t> targets;
        device_buffer<std::int32_t> weights;
        device_buffer<std::uint8_t> delays8;
        device_buffer<std::uint16_t> delays16;
        cuda::device_projection view{};
        std::size_t source = 0;  // a population, or a generator when from_generator
        bool from_generator = false;
    };
    // A generator's spikes on the device (network.hpp's generator_spikes).
    struct generator_buffers {
        device_buffer<std::uint64_t> step;
        device_buffer<std::uint32_t> neuron;
    };
    struct generator_projection {
        std::size_t generator;
        cuda::device_projection view;
    };

    // Device 0 current before the streams exist: a stream belongs to the device current when it is
    // created, and on a multi-GPU node another may be (query_cuda visits them all).
    struct device_zero {
        device_zero() { IFSIM_CUDA_CHECK(cudaSetDevice(0), "selecting device 0"); }
    } device_;
    cuda::stream_owner stream_, copy_stream_;  // first streams: destroyed last, after every buffer used on them
    device_context ctx_;
    std::size_t num_records_;
    precision real_;
    std::uint32_t reserved_steps_ = 0, reserved_chunk_ = 0;
    ifsim::network net_;  // after the setup without its synapses (on the device)
    double bytes_per_synapse_ = 0.0;
    std::vector<std::unique_ptr<population_runner>> populations_;
    std::vector<std::unique_ptr<update_group>> groups_;  // after populations_ (they point at them)
    std::vector<device_synapses> synapses_;            // per projection with synapses, after populations_ (rings)
    std::vector<generator_buffers> generators_;        // per generator
    device_buffer<unsigned long long> d_events_;       // synaptic events delivered
    // deliver_interval_kernel's tables: the populations' projections grouped by source, and per
    // source population with projections its pool and group (host copy, its population, device).
    device_buffer<cuda::device_projection> d_projections_;
    std::vector<cuda::delivery_source> h_delivery_sources_;
    std::vector<std::size_t> delivery_populations_;
    device_buffer<cuda::delivery_source> d_delivery_sources_;
    std::vector<generator_projection> generator_projections_;  // a generator's projections: one launch each
};

}  // namespace

std::unique_ptr<backend> make_cuda_backend(const run_spec& spec, std::uint32_t block_steps) {
    const cuda_status status = query_cuda();
    if (!status.usable) throw runtime_failure("no usable CUDA device: " + status.reason);
    return std::make_unique<cuda_backend>(spec, block_steps);
}

}  // namespace ifsim
