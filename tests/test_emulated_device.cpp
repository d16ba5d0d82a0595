// The CUDA backend on the emulated device (emulated/device.hpp), against the CPU backend after
// every block (as `ifsim compare` compares them): the examples and a network of all five models, their grids run forward and in
// reverse, under each schedule of the device's streams; and the emulated device itself, which
// must fail what a GPU leaves undefined rather than pass it by luck.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "device.hpp"
// after the device:
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include "ifsim/backend.hpp"
#include "ifsim/compare.hpp"
#include "ifsim/config.hpp"
#include "ifsim/cuda_info.hpp"
#include "ifsim/network.hpp"
#include "support/examples.hpp"
#include "support/network.hpp"
#include "support/simulate.hpp"

namespace ifsim {
namespace {

using cuda_on_host::order;
using cuda_on_host::schedule;

// The backend tests run under each schedule of the emulated streams.
class EmulatedBackend : public ::testing::TestWithParam<schedule> {
protected:
    cuda_on_host::scoped_schedule in_schedule_{GetParam()};
};

std::string schedule_name(const ::testing::TestParamInfo<schedule>& info) {
    switch (info.param) {
        case schedule::lazy: return "lazy";
        case schedule::eager: return "eager";
        case schedule::others_first: return "others_first";
    }
    return "?";
}

// Runs `spec` on both backends (the emulated device's grids in `o`) in blocks of `block` steps
// and compares them as `ifsim compare` does after every block (compare.hpp: spikes, samples, V,
// w, I_noise, every exp channel's state); returns each population's spikes on the CPU.
std::vector<std::uint64_t> expect_cuda_equals_cpu(const run_spec& spec, std::uint32_t block, order o) {
    const cuda_on_host::scoped_order in_order(o);
    const compared_backend cpu{"cpu", [&] { return make_cpu_backend(spec); }};
    const compared_backend cuda{"cuda", [&] { return make_cuda_backend(spec); }};
    const auto total = std::uint64_t(std::llround(spec.simulation.duration_ms / spec.simulation.dt_ms));
    EXPECT_EQ(first_difference(spec, cpu, cuda, total, block).value_or(""), "");
    std::vector<std::uint64_t> spikes;
    for (const spike_list& s : test::run_spikes("cpu", spec, block)) spikes.push_back(s.size());
    return spikes;
}

run_spec example(const std::string& name, std::vector<std::string> overrides) {
    return load_config(std::string(IFSIM_SOURCE_DIR) + "/examples/" + name + ".toml", std::move(overrides));
}

// The examples, small (support/examples.hpp), their state records included, in blocks of 137
// steps: chunks of 35, intervals that straddle them. They take turns at running forward and in
// reverse.
TEST_P(EmulatedBackend, ExamplesEqualCpu) {
    std::size_t i = 0;
    for (const test::small_example& e : test::small_examples()) {
        SCOPED_TRACE(e.name);
        const std::vector<std::uint64_t> spikes =
            expect_cuda_equals_cpu(example(e.name, e.overrides), 137, i++ % 2 == 0 ? order::forward : order::reverse);
        EXPECT_GT(std::accumulate(spikes.begin(), spikes.end(), std::uint64_t(0)), 100u);
    }
}

// The network of all five models, every synapse kind and both kinds of generator
// (tests/configs/good/mixed_models_network.toml), 100 ms in blocks of 333 steps, in float
// forward and in double in reverse.
TEST_P(EmulatedBackend, EveryModelInANetworkEqualsCpu) {
    for (const char* real : {"float", "double"}) {
        SCOPED_TRACE(real);
        const run_spec spec = load_config(std::string(IFSIM_SOURCE_DIR) + "/tests/configs/good/mixed_models_network.toml",
                                          {std::string("simulation.precision=") + real});
        const std::vector<std::uint64_t> spikes =
            expect_cuda_equals_cpu(spec, 333, std::string(real) == "float" ? order::forward : order::reverse);
        for (std::size_t p = 0; p < spikes.size(); ++p) EXPECT_GT(spikes[p], 300u) << spec.populations[p].name;
    }
}

INSTANTIATE_TEST_SUITE_P(schedules, EmulatedBackend,
                         ::testing::Values(schedule::lazy, schedule::eager, schedule::others_first), schedule_name);

// The rules the device draws (synapse_draws.cu) are drawn there, not by the host fallback, and
// equal the host's: a fault that sends a draw to the fallback (a wrong row total, say) would
// otherwise pass unseen, the network still right here and wrong on a GPU.
TEST(EmulatedDevice, DeviceDrawsRunOnTheDevice) {
    const std::unique_ptr<synapse_source> device = make_device_synapse_source();
    const synapse_source host;
    struct rule_case {
        connection_rule rule;
        const char* last_kernel;  // the draw's last launch
    };
    const rule_case cases[] = {
        {{.kind = rule_kind::fixed_indegree, .degree = 50, .multapses = false, .file = {}}, "cuda::split_keys_kernel"},
        {{.kind = rule_kind::fixed_outdegree, .degree = 30, .file = {}}, "cuda::split_keys_kernel"},
        {{.kind = rule_kind::fixed_total, .degree = 40000, .file = {}}, "cuda::split_keys_kernel"},
        {{.kind = rule_kind::pairwise_bernoulli, .p = 0.05, .file = {}}, "cuda::bernoulli_fill_kernel"}};
    for (const rule_case& c : cases) {
        const connection_rule& r = c.rule;
        const std::uint64_t before = cuda_on_host::queued(c.last_kernel);
        const csr drawn = device->connect(r, 700, 333, false, 99, 3), expected = host.connect(r, 700, 333, false, 99, 3);
        EXPECT_EQ(cuda_on_host::queued(c.last_kernel), before + 1) << "rule " << int(r.kind) << " was not drawn on the device";
        EXPECT_EQ(drawn.row_offsets, expected.row_offsets) << "rule " << int(r.kind);
        EXPECT_EQ(drawn.targets, expected.targets) << "rule " << int(r.kind);
        EXPECT_GT(drawn.targets.size(), 1000u);
    }
}

// A fresh device buffer of `n` T.
template <class T>
T* device_alloc(std::size_t n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
    return static_cast<T*>(p);
}

void add_one(int* x, int n) {
    const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) x[i] += 1;
}

// The runtime: work runs when the host waits for it, not before; copies follow the runtime's
// documented synchronisation; misuse is a fault, not a silent success.
TEST(EmulatedDevice, RuntimeRunsWorkOnlyWhenWaitedFor) {
    const cuda_on_host::scoped_schedule lazily(schedule::lazy);
    cudaStream_t s = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
    int* d = device_alloc<int>(64);
    int* pinned = nullptr;
    ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), 64 * sizeof(int)), cudaSuccess);
    std::vector<int> host(64, 7);

    // cudaMemcpy from pageable memory: the source is taken at the call, the copy runs later on the
    // legacy stream, which a non-blocking stream does not wait for.
    ASSERT_EQ(cudaMemcpy(d, host.data(), 64 * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
    host.assign(64, -1);
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);
    ASSERT_EQ(cudaMemcpyAsync(pinned, d, 64 * sizeof(int), cudaMemcpyDeviceToHost, s), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
    EXPECT_NE(pinned[0], 8) << "the kernel saw the legacy stream's copy without a synchronisation";
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

    // In order once synchronised; a copy into pinned memory is garbage until it runs.
    ASSERT_EQ(cudaMemcpy(d, std::vector<int>(64, 7).data(), 64 * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);
    ASSERT_EQ(cudaMemcpyAsync(pinned, d, 64 * sizeof(int), cudaMemcpyDeviceToHost, s), cudaSuccess);
    EXPECT_NE(pinned[5], 8) << "read before the stream was waited for";
    cudaEvent_t done = nullptr;
    ASSERT_EQ(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(done, s), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(done), cudaSuccess);
    EXPECT_EQ(pinned[5], 8);

    // Into pageable memory too, the copy is done only once waited for ("might be synchronous").
    std::vector<int> back(64, 0);
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);
    ASSERT_EQ(cudaMemcpyAsync(back.data(), d, 64 * sizeof(int), cudaMemcpyDeviceToHost, s), cudaSuccess);
    EXPECT_EQ(back[63], 0);
    ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
    EXPECT_EQ(back[63], 9);

    // A stream that waits on another's event runs that one as far as the event.
    cudaStream_t other = nullptr;
    ASSERT_EQ(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking), cudaSuccess);
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);
    ASSERT_EQ(cudaEventRecord(done, s), cudaSuccess);
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);  // after the event: not waited for
    ASSERT_EQ(cudaStreamWaitEvent(other, done, 0), cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(back.data(), d, 64 * sizeof(int), cudaMemcpyDeviceToHost, other), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(other), cudaSuccess);
    EXPECT_EQ(back[0], 10);
    ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);

    // Misuse: a copy past its allocation, a memset of host memory, a launch of no threads.
    EXPECT_THROW(cudaMemcpy(back.data(), d, 65 * sizeof(int), cudaMemcpyDeviceToHost), cuda_on_host::device_fault);
    EXPECT_THROW(cudaMemset(back.data(), 0, 4), cuda_on_host::device_fault);
    EXPECT_THROW(cudaMemcpy(d, back.data(), 4, cudaMemcpyDeviceToHost), cuda_on_host::device_fault);  // wrong kind
    cuda_on_host::launch(0, 64, s, "add_one", add_one, d, 64);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    // More than the device holds: an error to report, not a fault.
    void* huge = nullptr;
    std::size_t free_bytes = 0, total_bytes = 0;
    ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total_bytes), cudaSuccess);
    EXPECT_EQ(cudaMalloc(&huge, free_bytes + 1), cudaErrorMemoryAllocation);
    EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);

    // A kernel's fault surfaces where the host waits, and the queued work is dropped.
    cuda_on_host::launch(1, 32, s, "faulty", +[] { (void)__shfl_sync(0xffffu, 1u, 20); });
    cuda_on_host::launch(1, 64, s, "add_one", add_one, d, 64);
    EXPECT_THROW(cudaStreamSynchronize(s), cuda_on_host::kernel_fault);
    EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);

    // A destroyed stream's work still runs, and its events complete.
    cuda_on_host::launch(1, 64, other, "add_one", add_one, d, 64);
    ASSERT_EQ(cudaEventRecord(done, other), cudaSuccess);
    ASSERT_EQ(cudaStreamDestroy(other), cudaSuccess);
    ASSERT_EQ(cudaEventSynchronize(done), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(back.data(), d, 64 * sizeof(int), cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(back[0], 12);

    cudaEventDestroy(done);
    cudaStreamDestroy(s);
    cudaFreeHost(pinned);
    cudaFree(d);
}

// The CUB stand-ins keep CUB's contracts: the scratch a call asked for, segments within the
// items, sorts by the given bits only and stable, the double buffer's result in the other buffer.
TEST(EmulatedDevice, CubStandInsKeepCubsContracts) {
    const int n = 6;
    std::uint32_t* keys = device_alloc<std::uint32_t>(n);
    std::uint32_t* sorted = device_alloc<std::uint32_t>(n);
    float* values = device_alloc<float>(n);
    float* sorted_values = device_alloc<float>(n);
    std::uint64_t* begins = device_alloc<std::uint64_t>(2);
    std::uint64_t* ends = device_alloc<std::uint64_t>(2);
    const std::vector<std::uint32_t> h_keys{3, 1 | 16, 1, 2, 0, 2 | 32};
    const std::vector<float> h_values{0, 1, 2, 3, 4, 5};
    const std::vector<std::uint64_t> h_begins{0, 3}, h_ends{3, 6};
    cudaMemcpy(keys, h_keys.data(), n * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(values, h_values.data(), n * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(begins, h_begins.data(), 16, cudaMemcpyHostToDevice);
    cudaMemcpy(ends, h_ends.data(), 16, cudaMemcpyHostToDevice);
    const auto sort = [&](void* temp, std::size_t& bytes, int segments, std::uint64_t* b, std::uint64_t* e) {
        return cub::DeviceSegmentedRadixSort::SortPairs(temp, bytes, keys, sorted, values, sorted_values, n, segments,
                                                        b, e, 0, 4);
    };
    std::size_t bytes = 0;
    ASSERT_EQ(sort(nullptr, bytes, 2, begins, ends), cudaSuccess);
    ASSERT_GT(bytes, 0u);
    unsigned char* scratch = device_alloc<unsigned char>(bytes);
    ASSERT_EQ(sort(scratch, bytes, 2, begins, ends), cudaSuccess);
    std::vector<std::uint32_t> out(n);
    std::vector<float> out_values(n);
    cudaMemcpy(out.data(), sorted, n * 4, cudaMemcpyDeviceToHost);
    cudaMemcpy(out_values.data(), sorted_values, n * 4, cudaMemcpyDeviceToHost);
    // Bits [0, 4): 1 | 16 ranks as 1, before 1 itself is stable; 2 | 32 as 2, after 2.
    EXPECT_EQ(out, (std::vector<std::uint32_t>{1 | 16, 1, 3, 0, 2, 2 | 32}));
    EXPECT_EQ(out_values, (std::vector<float>{1, 2, 0, 4, 3, 5}));
    // Sized for one segment, run with two.
    std::size_t small = 0;
    ASSERT_EQ(sort(nullptr, small, 1, begins, ends), cudaSuccess);
    EXPECT_THROW(sort(scratch, small, 2, begins, ends), cuda_on_host::device_fault);
    // A segment past the items fails when the sort runs (at the call, when eager).
    const std::vector<std::uint64_t> past{7, 7};
    cudaMemcpy(ends, past.data(), 16, cudaMemcpyHostToDevice);
    EXPECT_THROW(
        {
            sort(scratch, bytes, 2, begins, ends);
            cudaDeviceSynchronize();
        },
        cuda_on_host::device_fault);

    // The double-buffer sort: the result where Current() then points, the other buffer garbage;
    // of two calls, one leaves it in the other buffer.
    std::uint64_t* a = device_alloc<std::uint64_t>(n);
    std::uint64_t* b = device_alloc<std::uint64_t>(n);
    const std::vector<std::uint64_t> h{5, 3, 9, 1, 3, 0};
    std::size_t sort_bytes = 0;
    cub::DoubleBuffer<std::uint64_t> sizing(a, b);
    ASSERT_EQ(cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes, sizing, n, 0, 4), cudaSuccess);
    unsigned char* sort_scratch = device_alloc<unsigned char>(sort_bytes);
    std::vector<std::uint64_t> got(n), other(n);
    bool flipped[2] = {};
    for (bool& f : flipped) {
        cudaMemcpy(a, h.data(), n * 8, cudaMemcpyHostToDevice);
        cub::DoubleBuffer<std::uint64_t> buffers(a, b);
        ASSERT_EQ(cub::DeviceRadixSort::SortKeys(sort_scratch, sort_bytes, buffers, n, 0, 4), cudaSuccess);
        f = buffers.Current() != a;
        cudaMemcpy(got.data(), buffers.Current(), n * 8, cudaMemcpyDeviceToHost);
        cudaMemcpy(other.data(), buffers.Alternate(), n * 8, cudaMemcpyDeviceToHost);
        EXPECT_EQ(got, (std::vector<std::uint64_t>{0, 1, 3, 3, 5, 9}));
        EXPECT_NE(other, h);
    }
    EXPECT_NE(flipped[0], flipped[1]);

    // The scan, in place.
    std::size_t scan_bytes = 0;
    ASSERT_EQ(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, a, a, n), cudaSuccess);
    unsigned char* scan_scratch = device_alloc<unsigned char>(scan_bytes);
    cudaMemcpy(a, h.data(), n * 8, cudaMemcpyHostToDevice);
    ASSERT_EQ(cub::DeviceScan::ExclusiveSum(scan_scratch, scan_bytes, a, a, n), cudaSuccess);
    cudaMemcpy(got.data(), a, n * 8, cudaMemcpyDeviceToHost);
    EXPECT_EQ(got, (std::vector<std::uint64_t>{0, 5, 8, 17, 18, 21}));

    for (void* p : std::initializer_list<void*>{keys, sorted, values, sorted_values, begins, ends, scratch, a, b,
                                                sort_scratch, scan_scratch})
        cudaFree(p);
}

}  // namespace
}  // namespace ifsim
