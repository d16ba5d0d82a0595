// The CPU backend: its populations (cpu_population.hpp) advance together one min-delay interval at
// a time in one team of OpenMP threads, then the interval's spikes are delivered
// (cpu_delivery.hpp). Results do not depend on OMP_NUM_THREADS.
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cpu_delivery.hpp"
#include "cpu_population.hpp"
#include "ifsim/backend.hpp"
#include "ifsim/build_info.hpp"
#include "ifsim/memory_traffic.hpp"
#include "ifsim/network.hpp"

namespace ifsim {
namespace {

using cpu::delivery_batch, cpu::make_runner, cpu::population_runner;

class cpu_backend final : public backend {
public:
    explicit cpu_backend(const run_spec& spec) {
        use_run_threads(spec.simulation);
        net_ = build_network(spec);
        // Arrivals lie at most max_delay steps ahead of the step being read.
        const std::uint32_t slots = net_.max_delay_steps + 1;
        std::uint64_t first_id = 0;
        for (std::size_t p = 0; p < spec.populations.size(); ++p) {
            const auto& pop = spec.populations[p];
            populations_.push_back(spec.simulation.real == precision::single
                                       ? make_runner<float>(pop, spec.simulation, first_id, net_.channels[p], slots)
                                       : make_runner<double>(pop, spec.simulation, first_id, net_.channels[p], slots));
            first_id += pop.size;
        }
        num_neurons_ = first_id;
        num_records_ = spec.states.size();
        for (std::size_t r = 0; r < spec.states.size(); ++r) {
            const auto& rec = spec.states[r];
            populations_[recorded_population(spec, rec)]->samplers.push_back(
                {r, parse_state_variable(rec.variable), recorded_channel(net_, spec, rec), rec.neurons,
                 rec.interval_steps(spec.simulation.dt_ms)});
        }
    }

    std::string name() const override { return "cpu"; }
    std::string device() const override {
        const unsigned threads = run_threads();
        return std::to_string(threads) + (threads == 1 ? " thread, " : " threads, ") + build::host_isa;
    }

    // Populations advance together one min-delay interval at a time: a spike of the interval
    // arrives at least min_delay steps after it was emitted, so after the interval's end, and the
    // populations are independent within it. Then the interval's spikes are delivered.
    void advance(std::uint64_t first_step, std::uint32_t num_steps, block_output& out) override {
        out.spikes.resize(populations_.size());
        if (out.samples.size() < num_records_) out.samples.resize(num_records_);
        if (out.sample_rows.size() < num_records_) out.sample_rows.resize(num_records_, 0);
        const std::uint32_t interval = net_.empty() ? num_steps : net_.min_delay_steps;
        for (std::uint32_t done = 0; done < num_steps;) {
            const std::uint32_t n = std::min(interval, num_steps - done);
            before_.resize(populations_.size());
            const int threads = update_threads();
            for (std::size_t p = 0; p < populations_.size(); ++p) {
                before_[p] = out.spikes[p].size();
                populations_[p]->start(threads, first_step + done, n, out);
            }
            // One team for every population of the interval: a fork and join per interval, not
            // per population (the microcircuit has 8, and intervals of one step). What a thread
            // throws (a spike list that cannot grow: std::bad_alloc) is thrown after the team.
            parallel_errors failure;
#pragma omp parallel num_threads(threads)
            {
                try {
                    for (const auto& population : populations_) population->update(first_step + done, n, failure);
                } catch (...) {
                    failure.keep(std::current_exception());
                }
            }
            failure.rethrow();
            for (std::size_t p = 0; p < populations_.size(); ++p)
                populations_[p]->finish(first_step + done, n, out.spikes[p]);
            batches_.clear();
            for (const auto& proj : net_.projections) {
                delivery_batch b{&proj, populations_[proj.target]->ring(proj.channel), nullptr, nullptr, nullptr, 0};
                if (proj.from_generator) {
                    const generator_spikes& g = net_.generators[proj.source];
                    const auto [lo, hi] = g.between(first_step + done, first_step + done + n);
                    b.step = g.step.data() + lo;
                    b.neuron32 = g.neuron.data() + lo;
                    b.num = hi - lo;
                } else {
                    const spike_list& s = out.spikes[proj.source];
                    const std::size_t from = before_[proj.source];
                    b.step = s.step.data() + from;
                    b.neuron64 = s.neuron.data() + from;
                    b.num = s.size() - from;
                }
                if (b.num > 0) batches_.push_back(b);
            }
            events_ += cpu::deliver(batches_);
            done += n;
        }
        for (const auto& population : populations_) population->check(first_step + num_steps);
    }

    std::vector<double> state(std::size_t population, state_variable v) const override {
        return populations_.at(population)->state(v);
    }
    std::vector<double> synaptic_state(std::size_t population, std::size_t channel) const override {
        return populations_.at(population)->synaptic_state(channel);
    }

    network_stats network() const override {
        return {net_.synapses, net_.bytes_per_synapse(), net_.build_seconds, events_, net_.projection_synapses};
    }

    double least_bytes_per_step() const override {
        double bytes = 0;
        for (const auto& population : populations_) bytes += population->least_bytes_per_step;
        return bytes;
    }

    double copy_bandwidth() const override { return host_copy_bandwidth(host_copy_bytes); }

private:
    // Below this many neurons per thread a team costs more than it saves.
    static constexpr std::uint64_t min_neurons_per_thread = 1024;

    int update_threads() const {
        const std::uint64_t useful = std::max<std::uint64_t>(1, num_neurons_ / min_neurons_per_thread);
        return int(std::min<std::uint64_t>(std::uint64_t(omp_get_max_threads()), useful));
    }

    ifsim::network net_;
    std::uint64_t num_neurons_ = 0;  // in all populations
    std::size_t num_records_ = 0;    // state records
    std::uint64_t events_ = 0;  // synaptic events delivered
    // Per interval, kept to spare an allocation each (intervals can be one step long): where each
    // population's spikes of the interval start, and the interval's delivery batches.
    std::vector<std::size_t> before_;
    std::vector<delivery_batch> batches_;
    std::vector<std::unique_ptr<population_runner>> populations_;
};

}  // namespace

std::unique_ptr<backend> make_cpu_backend(const run_spec& spec) { return std::make_unique<cpu_backend>(spec); }

unsigned use_run_threads(const simulation_spec& sim) {
    if (sim.threads > 0)
        omp_set_num_threads(int(sim.threads));
    else if (omp_get_max_threads() > int(max_threads))  // OMP_NUM_THREADS=100000 crashed OpenMP
        omp_set_num_threads(int(max_threads));
    return run_threads();
}

unsigned run_threads() { return unsigned(std::min(omp_get_max_threads(), omp_get_thread_limit())); }

unsigned cpus_available() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return unsigned(CPU_COUNT(&set));
}

void block_output::clear() {
    for (auto& s : spikes) s.clear();
    for (auto& s : samples) s.clear();
    for (auto& r : sample_rows) r = 0;
}

state_variable parse_state_variable(const std::string& name) {
    if (name == "V_m") return state_variable::V_m;
    if (name == "w") return state_variable::w;
    if (name == "I_noise") return state_variable::I_noise;
    if (name == "I_syn") return state_variable::I_syn;
    if (name == "g_syn") return state_variable::g_syn;
    throw config_error("unknown state variable '" + name + "' (allowed: V_m, w, I_noise, I_syn, g_syn)");
}

}  // namespace ifsim
