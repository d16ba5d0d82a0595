// The CUDA backend's kernels run on the host (support/cuda_on_host.hpp: each GPU thread a fiber,
// the lanes of a warp meeting at their ballots and shuffles), launched as kernels/cuda_backend.cu
// launches them: each step one update launch per group of populations with the same kernel
// instance, whose warps compact their spikes into the step's region of a pool; after each
// min-delay interval one delivery launch over the interval's spikes and one per generator
// projection over its listed spikes. Against the CPU backend, after every block and bit for bit:
// every spike (step, neuron, offset), V, w, I_noise, the synaptic state and the event count.
//
// This checks on machines without a GPU the kernels' own logic: the update groups' block ranges,
// the shared member table, the grid-stride loop, the channel loop and its ring slots, the warp
// compaction and the delivery. Planted faults it caught (2026-12-07): a wrong rank in the
// compaction; step regions that overlap, are rounded up to whole warps, or whose first start is
// never stored; threads reading a region start that another block stores in the same launch (in
// reverse order); a ring slot not cleared; the conductance left out of the update; the member
// table copied by one thread without the barrier; the overflow flag not set, or one neuron off.
// Some fail by crashing: garbage pool entries send the delivery out of bounds. The backend itself,
// bookkeeping and all, runs on the emulated device (tests/emulated/, test_emulated_device.cpp: the
// examples and the all-models network); here the kernels alone, where faults can be planted.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <curand_kernel.h>

#include "support/cuda_on_host.hpp"
// after the shim:
#include "../kernels/network.cuh"
#include "../kernels/neuron_update.cuh"
#include "ifsim/backend.hpp"
#include "ifsim/models.hpp"
#include "ifsim/network.hpp"
#include "ifsim/population_setup.hpp"
#include "support/network.hpp"

namespace ifsim {
namespace {

using cuda::delivery_source;
using cuda::device_projection;
using cuda::threads_per_block;

// The emulated device's blocks per grid-stride launch: a population of over 768 neurons strides.
constexpr unsigned max_blocks = 3;

// A population's device state, in host memory.
class host_population {
public:
    virtual ~host_population() = default;
    virtual std::uint64_t size() const = 0;
    virtual const void* kernel() const = 0;  // its update kernel instance: equal ones share a launch
    // Step `step`, the chunk's k-th, of `members` (this one first, all with its kernel): one launch.
    virtual void launch_group(const std::vector<host_population*>& members, std::uint64_t step, std::uint32_t k) = 0;
    virtual void begin_chunk() = 0;
    virtual delivery_source pool() const = 0;
    virtual std::int64_t* ring(std::size_t channel) = 0;
    // The chunk's spikes, each step's in neuron order (the GPU sorts them with CUB).
    virtual void drain(std::uint64_t first_step, std::uint32_t steps, spike_list& spikes) const = 0;
    virtual std::vector<double> state(state_variable v) const = 0;
    virtual std::vector<double> synaptic_state(std::size_t channel) const = 0;
    virtual unsigned long long first_overflow() const = 0;
};

template <class Model, class Real>
class typed_population final : public host_population {
public:
    using member_type = cuda::update_member<Model, Real>;
    using kernel_type = cuda::update_kernel_type<Model, Real>;

    typed_population(const population_spec& pop, const simulation_spec& sim, std::uint64_t first_id,
                     const std::vector<synapse_channel>& channels, std::uint32_t slots, std::uint32_t chunk)
        : d_(build_population<Model, Real>(pop, sim, first_id)), key_(make_key(sim.seed, 0)), slots_(slots),
          counts_(chunk), base_(chunk, poison), neuron_(d_.size * chunk, std::uint32_t(poison)),
          offset_(d_.size * chunk, std::numeric_limits<Real>::quiet_NaN()) {
        bool poisson = false;
        for (const auto& c : d_.coeffs) {
            any_noise_ = any_noise_ || needs_step_noise(c.input.flags);
            poisson = poisson || (c.input.flags & input_flag::poisson) != 0;
        }
        kernel_ = cuda::update_kernel_for<Model, Real>(!d_.I_ou.empty(), poisson, sim.timing == spike_timing::interpolated,
                                                      !channels.empty());
        // As cuda_population::allocate: a ring per channel with arrivals, a state per exp channel.
        rings_.reserve(channels.size());
        x_.reserve(channels.size());
        syn_.count = unsigned(channels.size());
        for (std::size_t c = 0; c < channels.size(); ++c) {
            const synapse_channel& ch = channels[c];
            const bool exp_kind = ch.kind != synapse_kind::delta;
            rings_.emplace_back(ch.has_ring ? std::size_t(slots) * d_.size : 0, 0);
            x_.emplace_back(exp_kind ? d_.size : 0, Real(0));
            syn_.channel[c] = {ch.kind,
                               derive_channel<Real>(ch.kind, ch.tau_syn_ms, ch.E_rev_mV, ch.poisson_weight, sim.dt_ms),
                               ch.format, ch.has_ring ? rings_.back().data() : nullptr,
                               exp_kind ? x_.back().data() : nullptr};
            syn_.has_current = syn_.has_current || exp_kind;
        }
        syn_.d_overflow = &overflow_;
    }

    std::uint64_t size() const override { return d_.size; }
    const void* kernel() const override { return reinterpret_cast<const void*>(kernel_); }

    void launch_group(const std::vector<host_population*>& members, std::uint64_t step, std::uint32_t k) override {
        std::vector<member_type> table;
        std::vector<std::uint64_t> sizes;
        cuda::group_step<Real> g{};
        g.step = step;
        g.slot = step % slots_;
        g.k = k;
        g.members = unsigned(members.size());
        for (std::size_t m = 0; m < members.size(); ++m) {
            auto& p = dynamic_cast<typed_population&>(*members[m]);
            table.push_back(p.member());
            sizes.push_back(p.size());
            g.I_step[m] = p.d_.steps.at(step);
        }
        const std::vector<unsigned> first = cuda::group_blocks(sizes, threads_per_block, max_blocks);
        std::copy(first.begin(), first.end(), g.first_block);
        cuda_on_host::run_grid(first.back(), threads_per_block, [&] { kernel_(table.data(), g); });
    }

    void begin_chunk() override { std::fill(counts_.begin(), counts_.end(), 0u); }
    delivery_source pool() const override { return {neuron_.data(), base_.data(), counts_.data(), 0, 0}; }
    std::int64_t* ring(std::size_t channel) override { return rings_.at(channel).data(); }

    // As spike_pipeline: each step's region sorted by neuron (CUB's segmented sort, by the
    // regions' starts and ends) into a slot that the drain then reads from its start, counts[k]
    // spikes for step k, which holds only if the regions lie back to back from 0.
    void drain(std::uint64_t first_step, std::uint32_t steps, spike_list& spikes) const override {
        std::vector<std::pair<std::uint32_t, Real>> sorted(neuron_.size());
        std::uint64_t end = 0;
        for (std::uint32_t k = 0; k < steps; ++k) {
            EXPECT_EQ(base_[k], end) << "region of step " << first_step + k << " does not follow the last";
            if (base_[k] + counts_[k] > sorted.size()) {
                ADD_FAILURE() << "region of step " << first_step + k << " outside the pool";
                return;
            }
            for (std::uint64_t e = base_[k]; e < base_[k] + counts_[k]; ++e) sorted[e] = {neuron_[e], offset_[e]};
            std::sort(sorted.begin() + std::ptrdiff_t(base_[k]), sorted.begin() + std::ptrdiff_t(base_[k] + counts_[k]));
            end += counts_[k];
        }
        std::uint64_t i = 0;
        for (std::uint32_t k = 0; k < steps; ++k)
            for (const std::uint64_t step_end = i + counts_[k]; i < step_end; ++i) {
                spikes.step.push_back(first_step + k);
                spikes.neuron.push_back(sorted[i].first);
                spikes.offset.push_back(double(sorted[i].second));
            }
    }

    std::vector<double> state(state_variable v) const override {
        return in_double(v == state_variable::V_m ? d_.V : v == state_variable::w ? d_.w : d_.I_ou);
    }
    std::vector<double> synaptic_state(std::size_t channel) const override { return in_double(x_.at(channel)); }
    unsigned long long first_overflow() const override { return overflow_; }

private:
    // Zeros for a state the population lacks, as both backends give.
    std::vector<double> in_double(const std::vector<Real>& a) const {
        return a.empty() ? std::vector<double>(d_.size, 0.0) : std::vector<double>(a.begin(), a.end());
    }

    // As cuda_population::member, with host pointers.
    member_type member() {
        return {{d_.coeffs.data(), d_.coeffs.size() > 1 ? 1u : 0u, d_.I_e.data(), d_.I_e.size() > 1 ? 1u : 0u,
                 d_.V.data(), d_.w.empty() ? nullptr : d_.w.data(), d_.I_ou.empty() ? nullptr : d_.I_ou.data(),
                 d_.ref.data(), d_.size, d_.first_id, key_, any_noise_},
                {counts_.data(), base_.data(), neuron_.data(), offset_.data(), neuron_.size()},
                syn_};
    }

    population_data<Model, Real> d_;
    philox_key key_;
    std::uint32_t slots_;
    bool any_noise_ = false;
    kernel_type kernel_;
    std::vector<std::vector<std::int64_t>> rings_;
    std::vector<std::vector<Real>> x_;
    cuda::channel_set<Real> syn_{};
    unsigned long long overflow_ = ~0ull;
    // The spike pool (compaction.cuh): a chunk's counts and region starts, room for every neuron
    // in every step. Device memory is not cleared: all but the counts start as garbage.
    static constexpr std::uint64_t poison = ~0ull;
    std::vector<std::uint32_t> counts_;
    std::vector<std::uint64_t> base_;
    std::vector<std::uint32_t> neuron_;
    std::vector<Real> offset_;
};

std::unique_ptr<host_population> make_population(const run_spec& spec, std::size_t p, std::uint64_t first_id,
                                                 const network& net, std::uint32_t chunk) {
    const std::uint32_t slots = net.max_delay_steps + 1;
    return with_model(spec.populations[p].model, [&]<class Model>() -> std::unique_ptr<host_population> {
        if (spec.simulation.real == precision::single)
            return std::make_unique<typed_population<Model, float>>(spec.populations[p], spec.simulation, first_id,
                                                                    net.channels[p], slots, chunk);
        return std::make_unique<typed_population<Model, double>>(spec.populations[p], spec.simulation, first_id,
                                                                 net.channels[p], slots, chunk);
    });
}

// The first difference between two runs' spikes of one block, or "".
std::string first_difference(const spike_list& cpu, const spike_list& gpu) {
    const auto at = [](const spike_list& s, std::size_t e) {
        if (e >= s.size()) return std::string("none");
        char offset[32];
        std::snprintf(offset, sizeof offset, "%.17g", s.offset[e]);
        return "step " + std::to_string(s.step[e]) + " neuron " + std::to_string(s.neuron[e]) + " offset " + offset;
    };
    for (std::size_t e = 0; e < std::max(cpu.size(), gpu.size()); ++e)
        if (e >= cpu.size() || e >= gpu.size() || cpu.step[e] != gpu.step[e] || cpu.neuron[e] != gpu.neuron[e] ||
            cpu.offset[e] != gpu.offset[e])
            return "spike " + std::to_string(e) + ": CPU " + at(cpu, e) + ", kernels " + at(gpu, e);
    return "";
}

// A run's kernels on the host, launched as cuda_backend launches them: the update groups and the
// delivery tables as make_groups and upload_projections build them, each chunk's steps one
// min-delay interval at a time with the interval's delivery after it.
class kernel_run {
public:
    kernel_run(const run_spec& spec, std::uint32_t longest_chunk) : net_(build_network(spec)) {
        std::uint64_t first_id = 0;
        for (std::size_t p = 0; p < spec.populations.size(); ++p) {
            pops_.push_back(make_population(spec, p, first_id, net_, longest_chunk));
            first_id += spec.populations[p].size;
        }
        std::vector<const void*> kernels;
        for (const auto& p : pops_) kernels.push_back(p->kernel());
        for (const auto& members : cuda::group_by_key(kernels)) {
            groups_.emplace_back();
            for (const std::size_t p : members) groups_.back().push_back(pops_[p].get());
        }
        for (std::size_t p = 0; p < pops_.size(); ++p) {  // the populations' projections grouped by source
            const auto first = unsigned(grouped_.size());
            for (const auto& b : net_.projections)
                if (!b.conn.targets.empty() && !b.from_generator && b.source == p) grouped_.push_back(view(b));
            if (grouped_.size() == first) continue;
            sources_.push_back(pops_[p]->pool());
            sources_.back().first_projection = first;
            sources_.back().num_projections = unsigned(grouped_.size()) - first;
        }
    }

    const network& net() const { return net_; }
    host_population& population(std::size_t p) { return *pops_.at(p); }
    unsigned long long events() const { return events_; }

    // Steps [first, first + steps) as one chunk.
    void advance(std::uint64_t first, std::uint32_t steps) {
        const std::uint32_t interval = net_.empty() ? steps : net_.min_delay_steps;
        for (auto& p : pops_) p->begin_chunk();
        for (std::uint32_t k0 = 0; k0 < steps; k0 += interval) {
            const std::uint32_t k1 = std::min(steps, k0 + interval);
            for (std::uint32_t k = k0; k < k1; ++k)
                for (const auto& g : groups_) g.front()->launch_group(g, first + k, k);
            deliver(first, k0, k1);
        }
    }

private:
    device_projection view(const built_projection& b) {
        return {b.conn.row_offsets.data(),
                b.conn.targets.data(),
                b.weight.empty() ? nullptr : b.weight.data(),
                b.delay8.empty() ? nullptr : b.delay8.data(),
                b.delay16.empty() ? nullptr : b.delay16.data(),
                b.constant_weight,
                b.constant_delay,
                pops_[b.target]->ring(b.channel),
                net_.max_delay_steps + 1u,
                pops_[b.target]->size(),
                &events_};
    }

    // As cuda_backend::deliver: the populations' spikes of steps [k0, k1) of the chunk in one
    // launch, each generator projection's listed spikes in one launch.
    void deliver(std::uint64_t first, std::uint32_t k0, std::uint32_t k1) {
        if (!sources_.empty())
            cuda_on_host::run_grid(max_blocks, threads_per_block, [&] {
                cuda::deliver_interval_kernel(sources_.data(), unsigned(sources_.size()), grouped_.data(), k0, k1 - k0,
                                              first);
            });
        for (const auto& b : net_.projections) {
            if (b.conn.targets.empty() || !b.from_generator) continue;
            const generator_spikes& gen = net_.generators[b.source];
            const auto [lo, hi] = gen.between(first + k0, first + k1);
            if (lo == hi) continue;
            const device_projection v = view(b);
            const cuda::launch_shape shape = cuda::grid_stride_shape((hi - lo) * 32, max_blocks);
            cuda_on_host::run_grid(shape.grid, shape.block, [&] {
                cuda::deliver_listed_kernel(v, gen.step.data() + lo, gen.neuron.data() + lo, std::uint64_t(hi - lo));
            });
        }
    }

    network net_;
    std::vector<std::unique_ptr<host_population>> pops_;
    std::vector<std::vector<host_population*>> groups_;
    std::vector<device_projection> grouped_;
    std::vector<delivery_source> sources_;
    unsigned long long events_ = 0;
};

// Runs `spec` through the host-run kernels (their threads and blocks in `order`) and the CPU
// backend in blocks of the given lengths (the last repeated; a block is one chunk), comparing
// after every block; returns the spikes of each population.
std::vector<std::uint64_t> expect_kernels_equal_cpu(const run_spec& spec, const std::vector<std::uint32_t>& blocks,
                                                    cuda_on_host::order order) {
    const cuda_on_host::scoped_order in_order(order);
    kernel_run kernels(spec, *std::max_element(blocks.begin(), blocks.end()));
    auto cpu = make_cpu_backend(spec);
    const auto total = std::uint64_t(std::llround(spec.simulation.duration_ms / spec.simulation.dt_ms));
    std::vector<std::uint64_t> spikes(spec.populations.size(), 0);
    block_output out;
    for (std::uint64_t first = 0, b = 0; first < total; first += blocks[b], b = std::min(b + 1, blocks.size() - 1)) {
        const auto steps = std::uint32_t(std::min<std::uint64_t>(blocks[b], total - first));
        kernels.advance(first, steps);
        out.clear();
        cpu->advance(first, steps, out);
        const std::string block = "block from step " + std::to_string(first);
        for (std::size_t p = 0; p < spec.populations.size(); ++p) {
            const std::string where = "population '" + spec.populations[p].name + "', " + block;
            host_population& pop = kernels.population(p);
            spike_list mine;
            pop.drain(first, steps, mine);
            const std::string diff = first_difference(out.spikes[p], mine);
            EXPECT_EQ(diff, "") << where;
            spikes[p] += mine.size();
            for (const state_variable v : {state_variable::V_m, state_variable::w, state_variable::I_noise})
                EXPECT_TRUE(pop.state(v) == cpu->state(p, v)) << where << ", variable " << int(v);
            for (std::size_t c = 0; c < kernels.net().channels[p].size(); ++c)
                EXPECT_TRUE(pop.synaptic_state(c) == cpu->synaptic_state(p, c)) << where << ", channel " << c;
            EXPECT_EQ(pop.first_overflow(), ~0ull) << where;
            if (!diff.empty()) return spikes;  // the rest would only repeat it
        }
        if (!kernels.net().empty()) {
            EXPECT_EQ(kernels.events(), cpu->network().events) << block;
        }
    }
    return spikes;
}

using cuda_on_host::order;

// The cases of a test take turns at running their grids forward and in reverse.
order turn(std::size_t i) { return i % 2 == 0 ? order::forward : order::reverse; }

// The networks of Network.CudaEqualsCpu (every synapse kind, heterogeneous delays, Poisson input
// jumping V or into channels), 50 ms, in float and double; here and below, the cases take turns
// at running the grids forward and in reverse.
TEST(KernelsOnHost, SmallNetworksEqualCpu) {
    std::size_t i = 0;
    for (const precision real : {precision::single, precision::double_}) {
        for (const bool into_channels : {false, true}) {
            SCOPED_TRACE(std::string(real == precision::single ? "float" : "double") +
                         (into_channels ? ", Poisson input into channels" : ", Poisson input jumps V"));
            const run_spec spec = test::every_synapse_kind_network(50.0, real, into_channels);
            const std::vector<std::uint64_t> spikes = expect_kernels_equal_cpu(spec, {125}, turn(i++));
            EXPECT_GT(spikes[0], 300u);
            EXPECT_GT(spikes[1], 50u);
        }
    }
}


// The populations of Network.CudaGroupsEqualCpu in their five update groups (test::grouped_network;
// its 400,000-neuron population here 3,000, which still strides: the emulated device gives a
// population at most three blocks), 200 steps in blocks of 8 and 192.
TEST(KernelsOnHost, GroupsEqualCpu) {
    for (const precision real : {precision::single, precision::double_}) {
        SCOPED_TRACE(real == precision::single ? "float" : "double");
        run_spec spec = test::grouped_network(20.0, 3000);
        spec.simulation.real = real;
        const std::vector<std::uint64_t> spikes =
            expect_kernels_equal_cpu(spec, {8, 192}, real == precision::single ? order::forward : order::reverse);
        EXPECT_GT(std::accumulate(spikes.begin(), spikes.end(), std::uint64_t(0)), 1000u);
    }
}

// A ring slot outside its fixed-point format (impossible by construction: the format holds every
// synapse onto a neuron at once) is reported as the lowest such neuron of the population, whichever
// thread and block gets there first.
TEST(KernelsOnHost, OverflowNamesTheLowestNeuron) {
    for (const order o : {order::forward, order::reverse}) {
        const cuda_on_host::scoped_order in_order(o);
        const run_spec spec = test::small_network(2.0);
        kernel_run kernels(spec, 10);
        kernels.advance(0, 10);
        host_population& E = kernels.population(0);
        ASSERT_EQ(E.first_overflow(), ~0ull);
        const fixed_point_format& format = kernels.net().channels[0][0].format;
        const std::uint64_t slots = kernels.net().max_delay_steps + 1, step = 10;
        for (const std::uint64_t neuron : {700, 300, 301})  // in different blocks: 768 threads stride
            E.ring(0)[(step % slots) * E.size() + neuron] = (format.max_units + 1) * (neuron == 301 ? -1 : 1);
        kernels.advance(step, 10);
        EXPECT_EQ(E.first_overflow(), 300u);
        EXPECT_EQ(kernels.population(1).first_overflow(), ~0ull);
    }
}

// The emulation itself: what a GPU leaves undefined, or would order otherwise, fails here rather
// than passing by luck.
TEST(KernelsOnHost, EmulatorCatchesWhatAGpuLeavesUndefined) {
    std::vector<std::uint32_t> counts(1, 0), neuron(64);
    std::vector<std::uint64_t> base(1, 0);
    std::vector<float> offset(64);
    const cuda::spike_sink<float> sink{counts.data(), base.data(), neuron.data(), offset.data(), 64};
    // Every lane: each spike at its rank, lowest lane first within a warp.
    cuda_on_host::run_grid(1, 64, [&] { cuda::append_spike(sink, 0, 0, threadIdx.x % 3 == 0, threadIdx.x, 0.5f); });
    ASSERT_EQ(counts[0], 22u);
    std::vector<std::uint32_t> got(neuron.begin(), neuron.begin() + 22);
    std::sort(got.begin(), got.end());
    for (std::uint32_t r = 0; r < 22; ++r) EXPECT_EQ(got[r], 3 * r);
    // Half a warp in the compaction, whose ballot names all 32 lanes, the other half at a barrier.
    EXPECT_THROW(cuda_on_host::run_grid(1, 64, [&] {
                     if (threadIdx.x % 2 == 0) cuda::append_spike(sink, 0, 0, true, threadIdx.x, 0.5f);
                     else __syncthreads();
                 }),
                 cuda_on_host::kernel_fault);
    // A barrier half the block skips.
    EXPECT_THROW(cuda_on_host::run_grid(1, 64, [&] {
                     if (threadIdx.x < 32) __syncthreads();
                 }),
                 cuda_on_host::kernel_fault);
    // Shuffles from outside the mask, by lanes outside their own mask.
    EXPECT_THROW(cuda_on_host::run_grid(1, 32, [&] { (void)__shfl_sync(0xffffu, 1u, 20); }), cuda_on_host::kernel_fault);
    EXPECT_THROW(cuda_on_host::run_grid(0, 32, [] {}), cuda_on_host::kernel_fault);
    // Legal: lanes that finished take no part in a later ballot; half a warp's ballot, then the
    // whole warp's.
    unsigned ballots[2] = {};
    cuda_on_host::run_grid(1, 32, [&] {
        if (threadIdx.x >= 16) return;
        const unsigned half = __ballot_sync(0xffffu, threadIdx.x % 2 == 0);
        const unsigned all = __ballot_sync(~0u, true);
        if (threadIdx.x == 0) ballots[0] = half, ballots[1] = all;
    });
    EXPECT_EQ(ballots[0], 0x5555u);
    EXPECT_EQ(ballots[1], 0xffffu);
    // An exception inside a kernel reaches the caller.
    std::vector<int> none;
    EXPECT_THROW(cuda_on_host::run_grid(1, 32, [&] { (void)none.at(threadIdx.x); }), std::out_of_range);
    // Reverse order: the last block first, the last thread of a block first.
    std::vector<unsigned> seen;
    {
        const cuda_on_host::scoped_order in_order(order::reverse);
        cuda_on_host::run_grid(2, 32, [&] { seen.push_back(blockIdx.x * 32 + threadIdx.x); });
    }
    ASSERT_EQ(seen.size(), 64u);
    EXPECT_EQ(seen.front(), 63u);
    EXPECT_EQ(seen.back(), 0u);
}

}  // namespace
}  // namespace ifsim
