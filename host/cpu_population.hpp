// The CPU backend's populations: structure-of-arrays state, the shared per-neuron update in vector
// lanes over chunks of neurons, OpenMP threads over the chunks, synaptic input taken from ring
// buffers, state samples and spikes gathered in neuron order. Every neuron's arithmetic is
// independent of the others, so results do not depend on OMP_NUM_THREADS. Flags and indices
// reduced over a vector loop are ints: gcc vectorises an int reduction, not a bool or a 64-bit one.
// Included by cpu_backend.cpp only.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "cpu_delivery.hpp"
#include "cpu_philox.hpp"
#include "ifsim/backend.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/network.hpp"
#include "ifsim/neuron_update.hpp"
#include "ifsim/parallel_errors.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/synapses.hpp"

namespace ifsim::cpu {

// Calls f.template operator()<B>() with B = b: a run-time flag as a compile-time one.
template <class F>
void with_flag(bool b, F&& f) {
    if (b) f.template operator()<true>();
    else f.template operator()<false>();
}

// A state record as the population sees it.
struct sampler {
    std::size_t record;                   // index into block_output::samples
    state_variable variable;
    std::size_t channel;                  // I_syn, g_syn: index into the population's channels
    std::vector<std::uint64_t> neurons;  // within the population; column j of a row is neurons[j]
    std::uint64_t interval_steps;
    // (neuron, column) by neuron: the columns a chunk of neurons fills.
    std::vector<std::pair<std::uint64_t, std::size_t>> columns;
    // The current interval's rows, reserved by start(): the first, and the step it samples.
    float* rows = nullptr;
    std::uint64_t first_row_step = 0;

    sampler(std::size_t record, state_variable variable, std::size_t channel, std::vector<std::uint64_t> neurons,
            std::uint64_t interval_steps)
        : record(record), variable(variable), channel(channel), neurons(std::move(neurons)), interval_steps(interval_steps) {
        for (std::size_t j = 0; j < this->neurons.size(); ++j) columns.emplace_back(this->neurons[j], j);
        std::sort(columns.begin(), columns.end());
    }
};

// A population's synaptic input: per channel (network.hpp) a ring buffer of fixed-point arrivals,
// one slot of n neurons per step (slot = step % slots), and the state of exp channels.
template <class Real>
struct channel_state {
    synapse_kind kind;
    channel_coeffs<Real> coeffs;
    fixed_point_format format;
    std::vector<std::int64_t> ring;  // slots x n [quanta]
    std::vector<Real> x;             // exp_current: I [pA]; exp_conductance: g [nS]; empty for delta
};

class population_runner {
public:
    virtual ~population_runner() = default;
    // One interval in three parts, so that a single team of threads updates every population:
    // start on one thread before the team (the interval's sample rows appended to `out`), update
    // on each of its `threads` threads (what a chunk throws kept in `failure`), finish on one
    // thread after it (the interval's spikes appended to `spikes`, in step and neuron order).
    virtual void start(int threads, std::uint64_t first_step, std::uint32_t num_steps, block_output& out) = 0;
    virtual void update(std::uint64_t first_step, std::uint32_t num_steps, parallel_errors& failure) = 0;
    virtual void finish(std::uint64_t first_step, std::uint32_t num_steps, spike_list& spikes) = 0;
    // After a block ending at `step`: throws numerical_error for the lowest neuron whose V is not
    // finite, else for the lowest whose synaptic input overflowed in the run (as the GPU does).
    virtual void check(std::uint64_t step) const = 0;
    virtual std::vector<double> state(state_variable v) const = 0;
    virtual std::vector<double> synaptic_state(std::size_t c) const = 0;  // zeros for a delta channel
    // The ring buffer of `channel` (cpu_delivery.hpp).
    virtual ring_view ring(std::size_t channel) = 0;
    std::vector<sampler> samplers;
    double least_bytes_per_step = 0;  // memory_traffic.hpp
};

template <class Model, class Real>
class cpu_population final : public population_runner {
public:
    cpu_population(population_data<Model, Real> data, philox_key key, bool interpolate,
                   const std::vector<synapse_channel>& channels, std::uint32_t ring_slots, double dt_ms)
        : d_(std::move(data)), key_(key), interpolate_(interpolate), slots_(ring_slots) {
        least_bytes_per_step = ifsim::least_bytes_per_step(d_, channels);
        for (const auto& c : d_.coeffs) {
            any_noise_ = any_noise_ || needs_step_noise(c.input.flags);
            any_bridge_ = any_bridge_ || (c.input.flags & input_flag::bridge);
            any_poisson_ = any_poisson_ || (c.input.flags & input_flag::poisson);
            poisson_gated_ = !(c.input.flags & input_flag::poisson_channel);  // the population's input: one kind
        }
        // One Poisson mean for the whole population (the rate and count are per population; only
        // dt enters): its CDF once, rather than accumulated every neuron-step.
        const double mean = d_.coeffs.empty() ? 0.0 : double(d_.coeffs[0].input.poisson_mean);
        bool one_mean = any_poisson_ && mean > 0.0 && mean < poisson_inversion_max_mean;
        for (const auto& c : d_.coeffs) one_mean = one_mean && double(c.input.poisson_mean) == mean;
        if (one_mean) poisson_table_ = std::make_unique<poisson_cdf>(make_poisson_cdf(mean));
        if (d_.coeffs.size() > 1) keep_coeffs_by_field();
        for (const auto& c : channels) {
            const bool exp_kind = c.kind != synapse_kind::delta;
            channels_.push_back({c.kind,
                                 derive_channel<Real>(c.kind, c.tau_syn_ms, c.E_rev_mV, c.poisson_weight, dt_ms),
                                 c.format,
                                 std::vector<std::int64_t>(c.has_ring ? std::size_t(slots_) * d_.size : 0, 0),
                                 exp_kind ? std::vector<Real>(d_.size, Real(0)) : std::vector<Real>{}});
            has_current_ = has_current_ || exp_kind;
            has_conductance_ = has_conductance_ || c.kind == synapse_kind::exp_conductance;
        }
    }

    ring_view ring(std::size_t channel) override { return {channels_[channel].ring.data(), slots_, d_.size}; }

    void start(int threads, std::uint64_t first_step, std::uint32_t num_steps, block_output& out) override {
        thread_spikes_.resize(std::size_t(threads));
        for (auto& t : thread_spikes_) t.clear();
        for (auto& r : samplers) {
            // The multiples of the interval in [first_step, first_step + num_steps).
            r.first_row_step = (first_step + r.interval_steps - 1) / r.interval_steps * r.interval_steps;
            const std::uint64_t end = first_step + num_steps;
            const std::uint64_t rows = r.first_row_step < end ? (end - 1 - r.first_row_step) / r.interval_steps + 1 : 0;
            std::vector<float>& dst = out.samples[r.record];
            dst.resize(dst.size() + rows * r.neurons.size());
            r.rows = dst.data() + dst.size() - rows * r.neurons.size();
            out.sample_rows[r.record] += rows;
        }
    }

    // Static schedule in runs of ceil(chunks / threads): OpenMP deals them out in thread order,
    // so thread t takes the t-th contiguous run of chunks (merge relies on it), the same in every
    // step (same loop, trip count and team). So it updates its own neurons step after step with
    // no barrier (nowait), and then the next population's. It samples the recorded neurons among
    // them too, before it updates them, so that no thread waits for a sample either.
    void update(std::uint64_t first_step, std::uint32_t num_steps, parallel_errors& failure) override {
        spike_list& mine = thread_spikes_[std::size_t(omp_get_thread_num())];
        const std::int64_t num_chunks = std::int64_t((d_.size + chunk - 1) / chunk);
        const std::int64_t threads = omp_get_num_threads();
        const std::int64_t run = std::max<std::int64_t>(1, (num_chunks + threads - 1) / threads);
        for (std::uint64_t step = first_step; step < first_step + num_steps; ++step) {
            const Real I_step = d_.steps.at(step);
#pragma omp for schedule(static, run) nowait
            for (std::int64_t k = 0; k < num_chunks; ++k) {
                try {
                    if (!samplers.empty()) sample_chunk(std::uint64_t(k) * chunk, step);
                    update_chunk(std::uint64_t(k) * chunk, step, I_step, mine);
                } catch (...) {
                    failure.keep(std::current_exception());
                }
            }
        }
    }

    void finish(std::uint64_t first_step, std::uint32_t num_steps, spike_list& spikes) override {
        merge(first_step, num_steps, spikes);
    }

    void check(std::uint64_t step) const override {
        for (std::uint64_t i = 0; i < d_.size; ++i)
            if (!std::isfinite(d_.V[i]))
                throw numerical_error("membrane potential is not finite", d_.first_id + i, step);
        if (first_overflow_ != no_overflow)
            throw numerical_error("synaptic input overflowed its fixed-point range", d_.first_id + first_overflow_,
                                  step);
    }

    std::vector<double> state(state_variable v) const override { return in_double(neuron_variable(v)); }
    std::vector<double> synaptic_state(std::size_t c) const override { return in_double(channels_.at(c).x); }

private:
    // Neurons per chunk: the noise of a chunk is drawn in one vectorised loop, then the neurons are
    // updated one by one with it.
    static constexpr std::uint64_t chunk = 512;
    // The noise of `count` consecutive neurons: their Philox blocks (cpu_philox.hpp), then the
    // normals and uniforms of draw_step_noise from them, in a loop written over plain arrays and
    // flattened (everything inlined) so that gcc vectorises log and sincos across neurons.
    static_assert(chunk % philox_lanes == 0);
    [[gnu::flatten]] static void draw_chunk(philox_key key, std::uint64_t first_id, std::int64_t count,
                                            std::uint64_t step, Real* xi, Real* xi_ou, Real* u_bridge) {
        alignas(64) std::uint32_t x[chunk], y[chunk], z[chunk];
        draw_words(key, first_id, count, step, std::uint32_t(rng_purpose::neuron), x, y, z);
#pragma omp simd
        for (std::int64_t j = 0; j < count; ++j) {
            const step_noise<Real> noise = step_noise_from<Real>(philox_block{x[j], y[j], z[j], 0});
            xi[j] = noise.xi;
            xi_ou[j] = noise.xi_ou;
            u_bridge[j] = noise.u_bridge;
        }
    }

    // One chunk: noise and Poisson counts first, then the update of every neuron in vector lanes
    // (update_neuron is straight-line code), then the spikes collected in neuron order.
    void update_chunk(std::uint64_t first, std::uint64_t step, Real I_step, spike_list& mine) {
        const std::uint64_t last = std::min(first + chunk, d_.size);
        const std::int64_t count = std::int64_t(last - first);
        Real xi[chunk], xi_ou[chunk], u_bridge[chunk], n_input[chunk] = {}, offset[chunk];
        // Without current synapses I_syn is -0, the exact identity of +: I_bias + I_syn is then
        // I_bias to the bit (as on the GPU, which skips the add), and the update loop has no select.
        Real I_syn[chunk], V_syn[chunk] = {}, G_syn[chunk] = {};
        std::fill_n(I_syn, count, has_current_ ? Real(0) : -Real(0));
        if (any_noise_) {
            draw_chunk(key_, d_.first_id + first, count, step, xi, xi_ou, u_bridge);
        } else {
            std::fill_n(xi, count, Real(0));
            std::fill_n(xi_ou, count, Real(0));
            std::fill_n(u_bridge, count, Real(1));
        }
        if (poisson_table_) {
            poisson_by_table(first, int(count), step, n_input);
        } else if (any_poisson_) {
            for (std::int64_t j = 0; j < count; ++j) {
                const std::uint64_t i = first + std::uint64_t(j);
                n_input[j] = poisson_input(coeffs(i).input, d_.ref[i], noise_source{key_, d_.first_id + i, step});
            }
        }
        if (!channels_.empty()) take_arrivals(first, count, step, n_input, I_syn, V_syn, G_syn);
        // Compile-time flags keep the vector loop free of branches and of work no neuron needs.
        with_flag(!d_.I_ou.empty(), [&]<bool Ou>() {
            with_flag(any_bridge_, [&]<bool Bridge>() {
                with_flag(!real_fields_.empty(), [&]<bool OwnCoeffs>() {
                    with_flag(has_conductance_, [&]<bool Conductance>() {
                        update_lanes<Ou, Bridge, OwnCoeffs, Conductance>(first, count, I_step, xi, xi_ou, u_bridge,
                                                                         n_input, I_syn, V_syn, G_syn, offset);
                    });
                });
            });
        });
        collect_spikes(first, count, step, offset, mine);
    }

    // Whether a free neuron with refractory state `ref` [steps] at the start of a step integrates
    // other than the whole step: its refractory period ends inside it, or its last spike left part
    // of the previous step to it (ref < 0).
    static bool partial_step(Real ref) { return ref != Real(0) && ref < Real(1); }

    // body(j) for each j < count where pred(j), in order, for a pred that is rarely true: a vector
    // test of each group of 64 spares most groups the scalar pass.
    template <class Pred, class Body>
    static void for_each_rare(std::int64_t count, Pred pred, Body body) {
        constexpr int group = 64;
        for (int g = 0; g < int(count); g += group) {
            const int end = std::min(g + group, int(count));
            int any = 0;
            for (int j = g; j < end; ++j) any |= int(pred(j));
            if (!any) continue;
            for (int j = g; j < end; ++j)
                if (pred(j)) body(j);
        }
    }

    // The chunk's spikes (offset >= 0), in neuron order.
    static void collect_spikes(std::uint64_t first, std::int64_t count, std::uint64_t step, const Real* offset,
                               spike_list& mine) {
        for_each_rare(count, [&](int j) { return offset[j] >= Real(0); }, [&](int j) {
            mine.step.push_back(step);
            mine.neuron.push_back(first + std::uint64_t(j));
            mine.offset.push_back(double(offset[j]));
        });
    }

    // The Poisson input of a chunk of a population with one Poisson mean (poisson_table_, and then
    // the input is on for every neuron), equal to poisson_input's: the uniforms and the first
    // terms of the CDF search in vector loops; only the neurons whose refractory period ends inside
    // the step and the rare longer searches go one by one through poisson_input.
    void poisson_by_table(std::uint64_t first, int count, std::uint64_t step, Real* n_input) const {
        constexpr std::uint32_t head = 16;  // P(count >= 16) < 0.05 for every mean the table serves
        double u[chunk];
        std::uint32_t k[chunk];
        draw_search_uniforms(key_, d_.first_id + first, count, step, u);
        const poisson_cdf& table = *poisson_table_;
        // Into V: none while refractory. Into a synaptic channel: a whole step's, refractory or not,
        // as if every neuron were free (a copy, not a select in the loop, which kept it from
        // vector lanes: 3.4 times slower).
        Real ref[chunk];
        if (poisson_gated_) std::copy_n(d_.ref.data() + first, count, ref);
        else std::fill_n(ref, count, Real(0));
        // A step that integrates other than all of it (poisson_input scales the mean), or a search
        // past the head.
        const auto scalar = [](Real r, std::uint32_t n) {
            return partial_step(r) || (r == Real(0) && n == head);
        };
        int odd = 0;
        for (int j = 0; j < count; ++j) {
            k[j] = search_cdf_head<head>(u[j], table);
            n_input[j] = ref[j] >= Real(1) ? Real(0) : Real(k[j]);
            odd |= int(scalar(ref[j], k[j]));
        }
        if (!odd) return;
        for (int j = 0; j < count; ++j) {
            if (!scalar(ref[j], k[j])) continue;
            const std::uint64_t i = first + std::uint64_t(j);
            n_input[j] = poisson_input(coeffs(i).input, ref[j], noise_source{key_, d_.first_id + i, step}, &table);
        }
    }

    [[gnu::flatten]] static void draw_search_uniforms(philox_key key, std::uint64_t first_id, int count,
                                                      std::uint64_t step, double* u) {
        alignas(64) std::uint32_t x[chunk], y[chunk], z[chunk];
        draw_words(key, first_id, count, step, std::uint32_t(rng_purpose::poisson), x, y, z);
#pragma omp simd
        for (int j = 0; j < count; ++j) u[j] = poisson_search_uniform(philox_block{x[j], y[j], z[j], 0});
    }

    using coeffs_type = typename population_data<Model, Real>::coeffs_type;

    // Neuron i's coefficients.
    coeffs_type coeffs(std::uint64_t i) const { return real_fields_.empty() ? d_.coeffs[0] : coeffs_by_field(i); }

    // Per-neuron coefficients are kept field by field (each_field's order), so that the vector
    // update loads each field of 16 neurons at once; as an array of structs it gathered them lane
    // by lane, three times slower than a population whose neurons share one set. d_.coeffs keeps
    // neuron 0's.
    void keep_coeffs_by_field() {
        d_.coeffs[0].each_field([&](auto& field, const char*) {
            if constexpr (is_flags<decltype(field)>) flag_fields_.emplace_back(d_.size);
            else real_fields_.emplace_back(d_.size);
        });
        for (std::size_t i = 0; i < d_.size; ++i)
            zip_fields(d_.coeffs[i], real_fields_, flag_fields_, [i](const auto& field, auto& array) { array[i] = field; });
        d_.coeffs.resize(1);
        d_.coeffs.shrink_to_fit();
    }
    coeffs_type coeffs_by_field(std::size_t i) const {
        coeffs_type c;
        zip_fields(c, real_fields_, flag_fields_, [i](auto& field, const auto& array) { field = array[i]; });
        return c;
    }
    template <class Field>
    static constexpr bool is_flags = std::is_same_v<std::remove_cvref_t<Field>, unsigned>;
    // f(field, its array) for each field of c in each_field's order: the flags' arrays in `flags`,
    // the others' in `reals`.
    template <class Reals, class Flags, class F>
    static void zip_fields(auto& c, Reals& reals, Flags& flags, F&& f) {
        std::size_t r = 0, u = 0;
        c.each_field([&](auto& field, const char*) {
            if constexpr (is_flags<decltype(field)>) f(field, flags[u++]);
            else f(field, reals[r++]);
        });
    }

    // The synaptic input of neurons [first, first + count) in `step`: this step's current from the
    // exp channels' state (in channel order), the delta channels' voltage jump; then each channel's
    // slot is taken (zeroed) and the exp states step on, with the step's Poisson input counts
    // n_input where they feed one (synapses.hpp).
    void take_arrivals(std::uint64_t first, std::int64_t count, std::uint64_t step, const Real* n_input, Real* I_syn,
                       Real* V_syn, Real* G_syn) {
        const Real* V = d_.V.data() + first;
        alignas(64) std::int64_t nothing[chunk];  // the slots of a channel without a ring: take_channel keeps them 0
        for (auto& ch : channels_) {
            if (ch.ring.empty()) std::fill_n(nothing, count, std::int64_t{0});
            std::int64_t* slot = ch.ring.empty() ? nothing : ch.ring.data() + (step % slots_) * d_.size + first;
            Real* x = ch.x.empty() ? nullptr : ch.x.data() + first;
            using enum synapse_kind;
            const int n = int(count);  // <= chunk
            const int bad = ch.kind == delta ? take_lanes<delta>(ch, slot, x, V, n_input, n, I_syn, V_syn, G_syn)
                            : ch.kind == exp_current
                                ? take_lanes<exp_current>(ch, slot, x, V, n_input, n, I_syn, V_syn, G_syn)
                                : take_lanes<exp_conductance>(ch, slot, x, V, n_input, n, I_syn, V_syn, G_syn);
            if (bad < n) note_overflow(first + std::uint64_t(bad));
        }
    }

    // take_channel for `count` neurons, with the kind fixed at compile time so that the loop is
    // straight-line vector code. The overflow check only remembers where: the first neuron whose
    // slot was out of range, or count.
    template <synapse_kind Kind>
    static int take_lanes(const channel_state<Real>& ch, std::int64_t* slot, Real* x, const Real* V,
                          const Real* n_input, int count, Real* I_syn, Real* V_syn, Real* G_syn) {
        int bad = count;
#pragma GCC ivdep
        for (int j = 0; j < count; ++j) {
            Real state = Kind == synapse_kind::delta ? Real(0) : x[j];
            const bool ok =
                take_channel(Kind, ch.coeffs, ch.format, slot[j], state, V[j], n_input[j], I_syn[j], V_syn[j], G_syn[j]);
            if constexpr (Kind != synapse_kind::delta) x[j] = state;
            bad = std::min(bad, ok ? count : j);
        }
        return bad;
    }

    // Called by the update's threads; reported by check() after the block, not thrown here: an
    // exception must not leave a parallel region.
    void note_overflow(std::uint64_t neuron) {
        std::atomic_ref<std::uint64_t> first(first_overflow_);
        for (std::uint64_t seen = first.load(); neuron < seen && !first.compare_exchange_weak(seen, neuron);) {
        }
    }

    // The chunk's update in vector lanes, as if every neuron integrated a whole step and spiked on
    // the grid: no partial-step propagator, no crossing time, and the bridge's exp left to
    // settle_bridges. The few neurons for which that is not so are redone one by one from their
    // start state by the full update_neuron: those whose refractory period ends inside the step,
    // and, with interpolated timing, those that spiked. The result is the full update's, bit for
    // bit, for every neuron.
    // OwnCoeffs: every neuron has its own coefficients; else all share one set, which the loop
    // then holds in registers rather than gathering it lane by lane. Conductance: some channel is
    // an exp_conductance one; else G_syn is the constant 0, and the conductance's exp goes.
    template <bool Ou, bool Bridge, bool OwnCoeffs, bool Conductance>
    [[gnu::flatten]] void update_lanes(std::uint64_t first, std::int64_t count, Real I_step, const Real* xi,
                                       const Real* xi_ou, const Real* u_bridge, const Real* n_input,
                                       const Real* I_syn, const Real* V_syn, const Real* G_syn, Real* offset) {
        const coeffs_type shared = d_.coeffs[0];
        const auto coeffs_of = [&](std::size_t i) { return OwnCoeffs ? coeffs_by_field(i) : shared; };
        Real* V = d_.V.data() + first;
        Real* w = Model::adaptive ? d_.w.data() + first : nullptr;
        Real* I_ou = Ou ? d_.I_ou.data() + first : nullptr;
        Real* ref = d_.ref.data() + first;
        // Each neuron's input current of the step, I_e + I_step + I_syn, in a loop of its own: a
        // bias that is one for all or one per neuron is then no stride the vector loop must gather.
        Real bias[chunk];
        if (d_.I_e.size() > 1) {
            const Real* I_e = d_.I_e.data() + first;
            for (std::int64_t j = 0; j < count; ++j) bias[j] = I_e[j] + I_step + I_syn[j];
        } else {
            const Real I_e = d_.I_e[0];
            for (std::int64_t j = 0; j < count; ++j) bias[j] = I_e + I_step + I_syn[j];
        }
        // The start state, kept only where some neuron may be redone below.
        int any_partial = 0;
        for (std::int64_t j = 0; j < count; ++j) any_partial |= int(partial_step(ref[j]));
        const bool redo = interpolate_ || any_partial;
        Real V0[chunk], w0[Model::adaptive ? chunk : 1], I_ou0[Ou ? chunk : 1], ref0[chunk];
        if (redo) {
            std::copy_n(V, count, V0);
            if constexpr (Model::adaptive) std::copy_n(w, count, w0);
            if constexpr (Ou) std::copy_n(I_ou, count, I_ou0);
            std::copy_n(ref, count, ref0);
        }
        Real bridge_x[Bridge ? chunk : 1], bridge_offset[Bridge ? chunk : 1];  // the bridges left undecided
// ivdep, not omp simd: OpenMP would privatise the per-lane structs into arrays and block it.
#pragma GCC ivdep
        for (std::int64_t j = 0; j < count; ++j) {
            const std::size_t i = std::size_t(first) + std::size_t(j);
            neuron_state<Real> s{V[j], Real(0), Real(0), ref[j]};
            if constexpr (Model::adaptive) s.w = w[j];
            if constexpr (Ou) s.I_ou = I_ou[j];
            const stepped<Real> r = update_neuron<Model, Real, Bridge, false, Bridge>(
                coeffs_of(i), s, bias[j], false, {xi[j], xi_ou[j], u_bridge[j]}, n_input[j], V_syn[j],
                Conductance ? G_syn[j] : Real(0));
            offset[j] = r.offset;
            V[j] = r.state.V;
            if constexpr (Model::adaptive) w[j] = r.state.w;
            if constexpr (Ou) I_ou[j] = r.state.I_ou;
            ref[j] = r.state.ref;
            if constexpr (Bridge) bridge_x[j] = r.bridge_x, bridge_offset[j] = r.bridge_offset;
        }
        if constexpr (Bridge) settle_bridges(first, count, u_bridge, bridge_x, bridge_offset, offset);
        if (!redo) return;
        const bool interpolate = interpolate_;
        const auto redone = [&](int j) { return partial_step(ref0[j]) || (interpolate && offset[j] >= Real(0)); };
        for_each_rare(count, redone, [&](int j) {
            const neuron_state<Real> s{V0[j], Model::adaptive ? w0[j] : Real(0), Ou ? I_ou0[j] : Real(0), ref0[j]};
            const stepped<Real> r =
                update_neuron<Model, Real, Bridge>(coeffs_of(std::size_t(first) + std::size_t(j)), s, bias[j],
                                                   interpolate, {xi[j], xi_ou[j], u_bridge[j]}, n_input[j], V_syn[j],
                                                   G_syn[j]);
            offset[j] = r.offset;
            store(first + std::uint64_t(j), r.state);
        });
    }

    // The bridge crossings update_lanes left undecided. Most neurons are far enough below
    // threshold that bridge_may_fire rules a crossing out without the exp; the rest go through
    // settle_bridge one by one.
    void settle_bridges(std::uint64_t first, std::int64_t count, const Real* u, const Real* x,
                        const Real* bridge_offset, Real* offset) {
        for_each_rare(count, [&](int j) { return bridge_may_fire(u[j], x[j]); }, [&](int j) {
            const std::uint64_t i = first + std::uint64_t(j);
            const stepped<Real> r =
                settle_bridge<Model>(coeffs(i), {load(i), offset[j], x[j], bridge_offset[j]}, u[j]);
            offset[j] = r.offset;
            store(i, r.state);
        });
    }

    // Neuron i's state in the arrays (w and I_ou 0 where the population has none), and back. The
    // vector loop of update_lanes spells these out over plain pointers, which gcc vectorises.
    neuron_state<Real> load(std::uint64_t i) const {
        return {d_.V[i], Model::adaptive ? d_.w[i] : Real(0), d_.I_ou.empty() ? Real(0) : d_.I_ou[i], d_.ref[i]};
    }
    void store(std::uint64_t i, const neuron_state<Real>& s) {
        d_.V[i] = s.V;
        if constexpr (Model::adaptive) d_.w[i] = s.w;
        if (!d_.I_ou.empty()) d_.I_ou[i] = s.I_ou;
        d_.ref[i] = s.ref;
    }

    // One value per neuron of a state array, in double; zeros for an empty one (a state the
    // population lacks).
    std::vector<double> in_double(const std::vector<Real>& src) const {
        if (src.empty()) return std::vector<double>(d_.size, 0.0);
        return std::vector<double>(src.begin(), src.end());
    }

    // A neuron's state variable (empty where the population lacks it: w, I_noise).
    const std::vector<Real>& neuron_variable(state_variable v) const {
        switch (v) {
            case state_variable::V_m: return d_.V;
            case state_variable::w: return d_.w;
            case state_variable::I_noise: return d_.I_ou;
            default: throw std::invalid_argument("state: I_syn and g_syn are a synaptic channel's; record them");
        }
    }

    // The recorded neurons of the chunk at `first`, as they are at the start of `step`, into
    // their row, which start() reserved.
    void sample_chunk(std::uint64_t first, std::uint64_t step) const {
        const std::uint64_t last = first + chunk;
        for (const auto& r : samplers) {
            if (step % r.interval_steps != 0) continue;
            const std::vector<Real>& src = is_synaptic(r.variable) ? channels_[r.channel].x : neuron_variable(r.variable);
            float* row = r.rows + (step - r.first_row_step) / r.interval_steps * r.neurons.size();
            auto it = std::lower_bound(r.columns.begin(), r.columns.end(), std::pair<std::uint64_t, std::size_t>{first, 0});
            for (; it != r.columns.end() && it->first < last; ++it)
                row[it->second] = src.empty() ? 0.0f : float(src[it->first]);
        }
    }

    // Thread t owns the t-th contiguous range of neurons (update), so taking each step's spikes
    // thread by thread puts them in neuron order.
    void merge(std::uint64_t first_step, std::uint32_t num_steps, spike_list& spikes) const {
        std::vector<std::size_t> cursor(thread_spikes_.size(), 0);
        for (std::uint64_t step = first_step; step < first_step + num_steps; ++step) {
            for (std::size_t t = 0; t < thread_spikes_.size(); ++t) {
                const spike_list& src = thread_spikes_[t];
                std::size_t& k = cursor[t];
                for (; k < src.size() && src.step[k] == step; ++k) {
                    spikes.step.push_back(step);
                    spikes.neuron.push_back(src.neuron[k]);
                    spikes.offset.push_back(src.offset[k]);
                }
            }
        }
    }

    population_data<Model, Real> d_;
    philox_key key_;
    bool interpolate_;
    bool any_noise_ = false;    // some neuron uses its step's noise block: draw it for the chunk
    bool any_bridge_ = false;   // some neuron checks the Brownian bridge: its exp is needed
    bool any_poisson_ = false;  // some neuron has Poisson input
    bool poisson_gated_ = true;  // it jumps V (none while refractory), not a synaptic channel
    std::unique_ptr<poisson_cdf> poisson_table_;  // every neuron's full-step Poisson CDF, if one
    std::vector<spike_list> thread_spikes_;
    std::uint32_t slots_;                      // ring-buffer slots (steps)
    std::vector<channel_state<Real>> channels_;
    bool has_current_ = false;                 // some channel is an exp channel
    bool has_conductance_ = false;             // some channel is an exp_conductance channel
    static constexpr std::uint64_t no_overflow = ~std::uint64_t(0);
    // Per-neuron coefficients (keep_coeffs_by_field): each Real field and each flags field, an
    // array over the neurons; empty when the neurons share one set (d_.coeffs[0]).
    std::vector<std::vector<Real>> real_fields_;
    std::vector<std::vector<unsigned>> flag_fields_;
    alignas(64) std::uint64_t first_overflow_ = no_overflow;  // the lowest neuron whose arrivals overflowed
};

template <class Real>
std::unique_ptr<population_runner> make_runner(const population_spec& pop, const simulation_spec& sim,
                                               std::uint64_t first_id, const std::vector<synapse_channel>& channels,
                                               std::uint32_t ring_slots) {
    const philox_key key = make_key(sim.seed, 0);
    const bool interpolate = sim.timing == spike_timing::interpolated;
    return with_model(pop.model, [&]<class Model>() -> std::unique_ptr<population_runner> {
        return std::make_unique<cpu_population<Model, Real>>(build_population<Model, Real>(pop, sim, first_id),
                                                             key, interpolate, channels, ring_slots, sim.dt_ms);
    });
}

}  // namespace ifsim::cpu
