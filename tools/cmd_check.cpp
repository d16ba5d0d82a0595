// `ifsim check`: validates a config as `run` would, without running it, and prints what it would
// run: steps, populations, projections with their synapse counts, records, and the memory the
// build needs against what the machine has. For batch jobs: check on the login node, then submit.
// --build also builds the network (every synapse file row, fixed-point formats, delays in steps),
// so that nothing a run checks before its first step is left out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/memory.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/network.hpp"
#include "ifsim/population_setup.hpp"
#include "ifsim/simulation.hpp"

namespace ifsim::cli {

// Host memory per spike of a block while blocks are in flight (measured: 70 to 170 B).
constexpr double spike_bytes_in_flight = 170.0;

namespace {

std::string format(const char* pattern, double v) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, v);
    return text;
}

// The device memory a run needs at the least, beside device 0's free memory where a GPU is usable
// (on a login node without one the need alone, to pick a GPU by).
void print_device_memory(const device_memory_need& need, const cuda_status& device) {
    const auto [bytes, largest] = sum_parts(need.parts);
    if (!largest) return;
    std::string here;
    if (device.usable && !device.devices.empty()) {
        const cuda_device& d = device.devices.front();
        const bool too_little = bytes > cuda_usable_memory_fraction * double(d.free_memory);
        here = "; " + d.name + " has " + format_bytes(double(d.free_memory)) + " free" +
               (too_little ? ": too little, --backend cuda refuses it and auto runs it on the CPU" : "");
    }
    std::printf("  cuda         device memory at least %s (state, rings, synapses as expected; largest: %s, %s)%s\n",
                format_bytes(bytes).c_str(), largest->name.c_str(), format_bytes(double(largest->bytes)).c_str(),
                here.c_str());
}

// "fixed_indegree 1000", "pairwise_bernoulli 0.1", "from_file /data/syn.csv", "all_to_all".
std::string rule_text(const connection_rule& r) {
    const std::string name(rule_names[std::size_t(r.kind)]);
    switch (r.kind) {
        case rule_kind::pairwise_bernoulli: return name + " " + format("%g", r.p);
        case rule_kind::fixed_indegree:
        case rule_kind::fixed_outdegree:
        case rule_kind::fixed_total: return name + " " + std::to_string(r.degree);
        case rule_kind::from_file: return name + " " + r.file;
        case rule_kind::all_to_all:
        case rule_kind::one_to_one: return name;
    }
    return name;
}

// What feeds the synaptic channel a state record of I_syn or g_syn samples: every projection onto
// its population of the same kind, tau_syn and E_rev, and the population's Poisson input where it
// does, summed in one state (NEST keeps I_syn_ex and I_syn_in apart; here the sign does not).
std::string channel_feeders(const run_spec& spec, const state_record& r) {
    const population_spec& pop = *std::find_if(spec.populations.begin(), spec.populations.end(),
                                               [&](const population_spec& p) { return p.name == r.population; });
    std::vector<synapse_channel> channels = channels_onto(spec, pop);
    std::size_t recorded = 0;
    if (r.projection == state_record::poisson_input_channel) {
        while (recorded < channels.size() && !channels[recorded].takes_poisson) ++recorded;
    } else {
        recorded = channel_for(channels, spec.projections[r.projection]);
    }
    std::vector<std::string> feeders;  // "projection 0", ..., "input.poisson"
    for (std::size_t k = 0; k < spec.projections.size(); ++k)
        if (spec.projections[k].target == pop.name && channel_for(channels, spec.projections[k]) == recorded)
            feeders.push_back("projection " + std::to_string(k));
    if (recorded < channels.size() && channels[recorded].takes_poisson) feeders.push_back("input.poisson");
    std::string text;  // "projection 0, projection 3 and input.poisson"
    for (std::size_t i = 0; i < feeders.size(); ++i)
        text += (i == 0 ? "" : i + 1 == feeders.size() ? " and " : ", ") + feeders[i];
    return feeders.size() == 1 ? " (the channel of " + text + " alone)" : " (the channel that " + text + " feed, summed)";
}

// `built`: the synapse counts are the built network's, exact; else pairwise_bernoulli's are expected.
// `file_delay_steps`: the longest delay the synapse files list (the rings' length).
void print_plan(const run_spec& spec, const std::vector<double>& synapses, bool built, double file_delay_steps) {
    const auto& sim = spec.simulation;
    std::printf("%s: valid\n", spec.source_path.c_str());
    // What the run simulates: whole steps (a duration off the grid is warned about as it is read).
    std::printf("  simulation   dt %g ms, %g ms = %llu steps, seed %llu, %s, %s spike timing\n", sim.dt_ms,
                double(total_steps(sim)) * sim.dt_ms, (unsigned long long)total_steps(sim), (unsigned long long)sim.seed,
                std::string(precision_name(sim.real)).c_str(), sim.timing == spike_timing::grid ? "grid" : "interpolated");

    std::uint64_t neurons = 0;
    for (const auto& p : spec.populations) neurons += p.size;
    std::printf("  populations  %zu, %llu neurons\n", spec.populations.size(), (unsigned long long)neurons);
    for (const auto& p : spec.populations)
        std::printf("    %-12s %-5s %llu\n", p.name.c_str(), std::string(model_name(p.model)).c_str(),
                    (unsigned long long)p.size);

    for (const auto& g : spec.generators) {
        const double spikes = expected_generator_spikes(g, sim);
        const char* unused = sends_spikes(spec, g) ? "" : " (no projection leaves it: never sent)";
        if (g.type == generator_spec::kind::poisson)
            std::printf("  generator    %-12s %llu neurons, Poisson %g Hz during [%g, %g) ms, about %s spikes%s\n",
                        g.name.c_str(), (unsigned long long)g.size, g.rate_Hz, g.start_ms, g.stop_ms,
                        format("%.0f", spikes).c_str(), unused);
        else {
            const double late = generator_spikes_after_the_run(g, sim);
            const std::string after = late > 0 ? " (" + format("%.0f", late) + " after the run's end: never sent)" : "";
            std::printf("  generator    %-12s %llu neurons, %s listed spikes%s%s\n", g.name.c_str(),
                        (unsigned long long)g.size, format("%.0f", spikes).c_str(), after.c_str(), unused);
        }
    }

    if (!spec.projections.empty()) {
        double total = 0;
        bool expected = false;
        for (std::size_t k = 0; k < synapses.size(); ++k) {
            total += synapses[k];
            expected = expected || (!built && spec.projections[k].rule.kind == rule_kind::pairwise_bernoulli);
        }
        std::printf("  projections  %zu, %s%s synapses\n", spec.projections.size(), expected ? "about " : "",
                    format("%.0f", total).c_str());
        for (std::size_t k = 0; k < spec.projections.size(); ++k) {
            const projection_spec& pr = spec.projections[k];
            const bool mean = !built && pr.rule.kind == rule_kind::pairwise_bernoulli;
            std::printf("    [%zu] %s%s -> %s  %s  %s  %s%s synapses\n", k, pr.name.empty() ? "" : (pr.name + ": ").c_str(),
                        pr.source.c_str(), pr.target.c_str(),
                        rule_text(pr.rule).c_str(), std::string(synapse_names[std::size_t(pr.synapse)]).c_str(),
                        mean ? "about " : "", format("%.0f", synapses[k]).c_str());
        }
    }

    const auto window_text = [&](const record_window& w) {
        if (w.whole_run()) return std::string();
        const bool to_end = !(w.stop_ms < sim.duration_ms);  // a stop past the run is its end
        return " from " + format("%.10g", w.start_ms) + " ms" +
               (to_end ? std::string(" to the end") : " to " + format("%.10g", w.stop_ms) + " ms");
    };
    for (std::size_t k = 0; k < spec.spikes.populations.size(); ++k) {
        const neuron_subset& n = spec.spikes.neurons[k];
        const std::string which = n.all()              ? ""
                                  : n.listed.empty() ? " (neurons " + std::to_string(n.first) + " to " + std::to_string(n.end - 1) + ")"
                                                     : " (" + std::to_string(n.listed.size()) + " listed neuron" +
                                                           (n.listed.size() == 1 ? ")" : "s)");
        std::printf("  records      spikes of %s%s%s\n", spec.spikes.populations[k].c_str(), which.c_str(),
                    window_text(spec.spikes.windows[k]).c_str());
    }
    for (const auto& r : spec.states) {
        const double samples = recorded_values(r, sim);
        const std::string channel = r.samples_a_channel() ? channel_feeders(spec, r) : "";
        std::printf("  records      %s.h5: %s of %s%s, %zu neurons every %g ms%s, %s values (%s)\n", r.name.c_str(),
                    r.variable.c_str(), r.population.c_str(), channel.c_str(), r.neurons.size(), r.interval_ms,
                    window_text(r.window).c_str(), format("%.3g", samples).c_str(), format_bytes(report_bytes_on_disk(r.neurons.size(), r.samples_in(total_steps(sim), sim.dt_ms))).c_str());
    }

    if (const double bytes = recorded_state_bytes(spec); bytes > 0.0)
        std::printf("  disk         %s for the state records in all, the spikes besides (a run stops before it starts "
                    "where its folder's file system has less free)\n",
                    format_bytes(bytes).c_str());

    // Known from the config alone, whether or not this build has the CUDA library: a job checked
    // on a login node then runs on a GPU node.
    if (const std::string why = cuda_cannot_run(spec); !why.empty())
        std::printf("  cuda         not on the CUDA backend: %s (--backend auto runs it on the CPU)\n", why.c_str());
    else
        print_device_memory(least_device_memory(spec), probe_cuda());

    const memory_estimate m = estimate_memory(spec, synapses, file_delay_steps);
    const std::uint64_t available = available_memory();
    const std::string here = available == 0                  ? "available memory unknown"
                             : fits_in_memory(m, available) ? format_bytes(double(available)) + " available"
                                                            : format_bytes(double(available)) +
                                                                  " available: too little, a run here stops before it starts. " +
                                                                  m.advice;
    std::printf("  memory       at least %s for the run (largest: %s, %s); %s\n", format_bytes(m.bytes).c_str(),
                m.largest_part.c_str(), format_bytes(m.largest).c_str(), here.c_str());
    // Not in the estimate, as the rates are not known before the run: the spikes of the blocks in
    // flight (the backend's lists, the block being written, its sorted copy), 70-170 B each
    // measured (1e6 noisy LIF at 22 Hz: 170 B a spike of a block).
    const double block_s = double(default_block_steps) * sim.dt_ms * 1e-3;
    std::printf("  memory       besides, up to %g B per spike of a block of %u steps: at 10 Hz for all neurons, %s\n",
                spike_bytes_in_flight, default_block_steps, format_bytes(spike_bytes_in_flight * double(neurons) * 10.0 * block_s).c_str());
}

// What warn_about_inputs reads of a network: its synapse count per projection (an expected count
// above 0 is not none).
network_stats counted(const std::vector<double>& synapses) {
    network_stats stats;
    for (const double n : synapses) stats.projection_synapses.push_back(std::uint64_t(std::ceil(n)));
    return stats;
}

}  // namespace

int check(const config_args& args, bool build) {
    return reporting_errors("check", [&] {
        const run_spec spec = load_config(args.config, args.all_overrides());
        double file_delay_steps = 1.0;
        const std::vector<double> counts = naming_the_config(spec, [&] { return synapse_counts(spec, &file_delay_steps); });
        if (!build) {
            warn_about_inputs(spec, counted(counts));
            print_plan(spec, counts, false, file_delay_steps);
            return exit_ok;
        }
        // What a run sets up from the config, before "valid" is said: the memory first (a
        // population of 2^32 with a linspace of I_e ran out of memory drawing it), each neuron's
        // parameters and other drawn values (a run draws them as its backend sets up, after the
        // network), and the network.
        use_run_threads(spec.simulation);
        naming_the_config(spec, [&] {
            require_memory(estimate_memory(spec), available_memory());
            std::uint64_t first_id = 0;
            for (const population_spec& p : spec.populations) {
                check_drawn_values(p, spec.simulation, first_id);
                first_id += p.size;
            }
            return 0;
        });
        const network net = naming_the_config(spec, [&] { return build_network(spec); });
        const std::vector<double> built(net.projection_synapses.begin(), net.projection_synapses.end());
        warn_about_inputs(spec, counted(built));
        print_plan(spec, built, true, file_delay_steps);
        if (net.synapses > 0)
            std::printf("  built        %llu synapses, %.3g B each, in %.3g s\n", (unsigned long long)net.synapses,
                        net.bytes_per_synapse(), net.build_seconds);
        else
            std::printf("  built        no synapses, in %.3g s\n", net.build_seconds);
        return exit_ok;
    });
}

}  // namespace ifsim::cli
