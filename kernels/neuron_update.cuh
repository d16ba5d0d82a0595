// The neuron update kernel: one thread per neuron in a warp-uniform grid-stride loop, one launch
// per step for a group of populations (update_group.cuh). It loads the neuron's state, draws the
// step's noise through cuRAND's Philox (the same bits as ifsim's host Philox, random.hpp), calls
// the shared update_neuron, stores the state and hands a spike to the warp's compaction
// (compaction.cuh). No model arithmetic lives here.
#pragma once

#include <curand_kernel.h>

#include <cstdint>
#include <utility>

#include "compaction.cuh"
#include "launch_shape.cuh"
#include "network.cuh"
#include "update_group.cuh"
#include "ifsim/neuron_update.hpp"
#include "ifsim/random.hpp"

namespace ifsim::cuda {

// Block `block` of subsequence `id` through cuRAND's Philox4_32_10: curand_init at offset
// 4 * block, then curand4. random.hpp documents it equal to philox4x32_10(make_counter(id, block),
// key); tests/test_random.cpp checks that on the device (kernels/curand_probe.cu).
__device__ inline philox_block curand_block(philox_key key, std::uint64_t id, std::uint64_t block) {
    const unsigned long long seed = (unsigned long long)key.k0 | ((unsigned long long)key.k1 << 32);
    curandStatePhilox4_32_10_t st;
    curand_init(seed, id, 4 * block, &st);
    const uint4 w = curand4(&st);
    return philox_block{w.x, w.y, w.z, w.w};
}

// The step's noise of neuron `id`, converted by the same step_noise_from as on the CPU.
template <class Real>
__device__ step_noise<Real> device_step_noise(philox_key key, std::uint64_t id, std::uint64_t step) {
    const std::uint64_t block = step * rng_blocks_per_step + std::uint32_t(rng_purpose::neuron);
    return step_noise_from<Real>(curand_block(key, id, block));
}

// One population's arrays as the kernel sees them.
template <class Model, class Real>
struct population_view {
    const typename Model::template coeffs<Real>* d_coeffs;
    std::uint64_t coeff_stride;  // 1 when coefficients are per neuron, 0 when shared
    const Real* d_I_e;           // bias current [pA]
    std::uint64_t bias_stride;   // 1 per neuron, 0 shared
    Real* d_V;                   // membrane potential [mV]
    Real* d_w;                   // adaptation current [pA]; null without adaptation
    Real* d_I_ou;                // OU input current [pA]; null without OU input
    Real* d_ref;                 // refractory time left [steps]
    std::uint64_t n;             // neurons
    std::uint64_t first_id;      // global id of neuron 0: the RNG subsequence
    philox_key key;
    bool any_noise;              // some neuron uses its noise block: draw it for all, as the CPU does
};

// One population of a group as the kernel sees it: written to the device when the group's
// spike counters move, read by each block into shared memory once per launch.
template <class Model, class Real>
struct update_member {
    population_view<Model, Real> p;
    spike_sink<Real> sink;
    channel_set<Real> syn;
};

// Step g.step (the chunk's g.k-th) of every population of a group (update_group.cuh), each on its
// blocks. Ou: the populations have an OU current; Poisson: some neuron has Poisson input (without
// it, the sampler's loop and its double arithmetic are not compiled in, which leaves registers for
// more resident warps); Interpolate: spike times inside the step; Synapses: the populations have
// synaptic channels.
template <class Model, class Real, bool Ou, bool Poisson, bool Interpolate, bool Synapses>
__global__ void __launch_bounds__(threads_per_block)
    update_kernel(const update_member<Model, Real>* d_members, group_step<Real> g) {
    const block_part<Real> part = member_of_block(g, blockIdx.x);
    // The member, some hundred bytes, copied word by word into shared memory by the whole block.
    using member_type = update_member<Model, Real>;
    static_assert(sizeof(member_type) % sizeof(std::uint32_t) == 0, "copied as 32-bit words");
    alignas(member_type) __shared__ std::uint32_t member_words[sizeof(member_type) / sizeof(std::uint32_t)];
    const auto* from = reinterpret_cast<const std::uint32_t*>(d_members + part.member);
    for (unsigned w = threadIdx.x; w < sizeof(member_type) / sizeof(std::uint32_t); w += blockDim.x)
        member_words[w] = from[w];
    __syncthreads();
    const member_type& m = *reinterpret_cast<const member_type*>(member_words);
    const population_view<Model, Real>& p = m.p;
    const spike_sink<Real>& sink = m.sink;
    const channel_set<Real>& syn = m.syn;

    const std::uint64_t base = region_start(sink, g.k, blockIdx.x == part.first && threadIdx.x == 0);
    const std::uint64_t stride = std::uint64_t(part.blocks) * blockDim.x;
    // Rounded up to whole warps so that every lane of a warp runs the same iterations: the
    // compaction's ballot needs all 32.
    const std::uint64_t n_warps = (p.n + 31) / 32 * 32;
    const auto for_each_neuron = [&](auto coeffs_of) {
        for (std::uint64_t i = std::uint64_t(blockIdx.x - part.first) * blockDim.x + threadIdx.x; i < n_warps;
             i += stride) {
            Real offset = Real(-1);
            if (i < p.n) {
                const auto c = coeffs_of(i);  // unused fields are never loaded
                neuron_state<Real> s{p.d_V[i], Real(0), Real(0), p.d_ref[i]};
                if constexpr (Model::adaptive) s.w = p.d_w[i];
                if constexpr (Ou) s.I_ou = p.d_I_ou[i];
                const noise_source src{p.key, p.first_id + i, g.step};
                const step_noise<Real> z =
                    p.any_noise ? device_step_noise<Real>(p.key, src.id, g.step) : step_noise<Real>{};
                Real n_input = Real(0);
                if constexpr (Poisson) n_input = poisson_input(c.input, s.ref, src);
                const Real I_bias = p.d_I_e[i * p.bias_stride] + part.I_step;
                Real I = I_bias, V_syn = Real(0), G_syn = Real(0);
                if constexpr (Synapses) {  // the CPU's take_arrivals, channel by channel
                    Real I_syn = Real(0);
                    const std::uint64_t at = g.slot * p.n + i;  // not a 64-bit % per thread
                    for (unsigned ch = 0; ch < syn.count; ++ch) {
                        const device_channel<Real>& dc = syn.channel[ch];
                        // Slot and state in registers: a reference to either global memory or a
                        // local stand-in (a channel without a ring or a delta channel's state)
                        // cost a stack frame and generic loads in every instance (ptxas -v).
                        std::int64_t slot = dc.ring ? dc.ring[at] : 0;
                        Real x = dc.x ? dc.x[i] : Real(0);
                        if (!take_channel(dc.kind, dc.coeffs, dc.format, slot, x, s.V, n_input, I_syn, V_syn, G_syn))
                            atomicMin(syn.d_overflow, (unsigned long long)i);
                        if (dc.ring) dc.ring[at] = slot;  // taken: 0
                        if (dc.x) dc.x[i] = x;
                    }
                    if (syn.has_current) I = I_bias + I_syn;
                }
                const stepped<Real> r = update_neuron<Model>(c, s, I, Interpolate, z, n_input, V_syn, G_syn);
                p.d_V[i] = r.state.V;
                if constexpr (Model::adaptive) p.d_w[i] = r.state.w;
                if constexpr (Ou) p.d_I_ou[i] = r.state.I_ou;
                p.d_ref[i] = r.state.ref;
                offset = r.offset;
            }
            append_spike(sink, g.k, base, offset >= Real(0), std::uint32_t(i), offset);
        }
    };
    if (p.coeff_stride == 0) {
        // Shared parameters: into registers once, rather than reloaded for every neuron (the
        // compiler cannot hoist the loads past the state stores, which might alias them).
        const typename Model::template coeffs<Real> shared = p.d_coeffs[0];
        for_each_neuron([&](std::uint64_t) { return shared; });
    } else {
        for_each_neuron([&](std::uint64_t i) { return p.d_coeffs[i]; });
    }
}

template <class Model, class Real>
using update_kernel_type = void (*)(const update_member<Model, Real>*, group_step<Real>);

// The update kernel instance for a population's flags: the one the backend launches, and the one
// the tests run on the host (tests/test_kernels_on_host.cpp).
template <class Model, class Real>
update_kernel_type<Model, Real> update_kernel_for(bool ou, bool poisson, bool interpolate, bool synapses) {
    const unsigned index = (ou ? 8u : 0u) | (poisson ? 4u : 0u) | (interpolate ? 2u : 0u) | (synapses ? 1u : 0u);
    return []<unsigned... I>(std::integer_sequence<unsigned, I...>, unsigned i) {
        static const update_kernel_type<Model, Real> instances[] = {
            &update_kernel<Model, Real, (I & 8u) != 0, (I & 4u) != 0, (I & 2u) != 0, (I & 1u) != 0>...};
        return instances[i];
    }(std::make_integer_sequence<unsigned, 16>{}, index);
}

}  // namespace ifsim::cuda
