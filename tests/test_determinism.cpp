// Same seed, same config: the same bits, whatever OMP_NUM_THREADS and block size.
#include <omp.h>

#include "support/backend_param.hpp"
#include "support/simulate.hpp"

namespace ifsim::test {
namespace {

class determinism : public backend_test {
protected:
    // Every model, every input kind at once, per-neuron parameters, interpolated spike times.
    run_spec busy_spec() const {
        run_spec s;
        s.simulation.dt_ms = 0.1;
        s.simulation.duration_ms = 300.0;
        s.simulation.real = real();
        s.simulation.timing = spike_timing::interpolated;
        for (const auto m : all_models) {
            population_spec p;
            p.name = std::string(model_name(m));
            p.size = 997;  // not a multiple of any thread count
            p.model = m;
            p.params["C_m"] = {distribution::kind::uniform, 150.0, 250.0, {}};
            p.input.I_e = {distribution::kind::linspace, 0.0, 400.0, {}};
            p.input.sigma_V = distribution::constant(3.0);
            p.input.sigma_I = distribution::constant(20.0);
            p.input.poisson_rate_Hz = 5.0;
            p.input.poisson_count = 100;
            p.input.poisson_weight_mV = 0.2;
            s.populations.push_back(p);
        }
        return s;
    }

    // All spikes of all populations plus the final V of each, as one comparable record.
    struct outcome {
        std::vector<std::vector<double>> trains;
        std::vector<std::vector<double>> V;
        bool operator==(const outcome&) const = default;
    };

    outcome run(int threads, std::uint32_t block) const {
        omp_set_num_threads(threads);
        const run_spec s = busy_spec();
        auto engine = make_backend(backend_name(), s);
        block_output out;
        out.spikes.resize(s.populations.size());
        outcome o;
        o.trains.resize(s.populations.size());
        for (std::uint64_t step = 0; step < 3000; step += block) {
            out.clear();
            engine->advance(step, block, out);
            for (std::size_t p = 0; p < s.populations.size(); ++p)
                for (std::size_t k = 0; k < out.spikes[p].size(); ++k)
                    o.trains[p].push_back(double(out.spikes[p].step[k]) * 1e6 + double(out.spikes[p].neuron[k]) +
                                          out.spikes[p].offset[k]);
        }
        for (std::size_t p = 0; p < s.populations.size(); ++p) o.V.push_back(engine->state(p, state_variable::V_m));
        return o;
    }
};

TEST_P(determinism, independent_of_threads_and_block_size) {
    const int saved = omp_get_max_threads();
    const outcome one = run(1, 500);
    const outcome two = run(2, 500);
    const outcome three = run(3, 250);
    const outcome odd_block = run(2, 1000);
    omp_set_num_threads(saved);
    std::size_t spikes = 0;
    for (const auto& t : one.trains) spikes += t.size();
    EXPECT_GT(spikes, 1000u);  // the comparison is not vacuous
    EXPECT_TRUE(one == two);
    EXPECT_TRUE(one == three);
    EXPECT_TRUE(one == odd_block);
}

TEST_P(determinism, a_different_seed_gives_different_spikes) {
    run_spec a = busy_spec(), b = busy_spec();
    b.simulation.seed = a.simulation.seed + 1;
    auto ra = simulate(backend_name(), a), rb = simulate(backend_name(), b);
    EXPECT_NE(ra.trains, rb.trains);
}

IFSIM_INSTANTIATE_BACKEND_TESTS(determinism);

}  // namespace
}  // namespace ifsim::test
