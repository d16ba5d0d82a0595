// An emulated CUDA device: kernels/*.cu compiled by the host compiler run on it, the CUDA backend
// whole (its streams, events, copies, CUB sorts and scans, and kernels), so that the backend's
// CUDA instances of the tests run on machines without a GPU.
//
// The runtime calls the backend makes are defined in device.cpp; its kernels run on
// support/cuda_on_host.hpp's fibers; cub/ holds stand-ins for the three CUB algorithms it calls.
// The device is strict where a GPU is silent: every copy, memset and CUB range must lie in one
// allocation of the right kind, a sort's scratch must be as large as it asked for, and device and
// pinned memory start as garbage. Work queued on a stream runs only when the host waits for it
// (schedule::lazy, the default), at once (eager), or when the host waits for it after every other
// stream has run all it has queued (others_first): lazily, a host that reads a result before
// synchronising, a stream that reads another's output without waiting for its event, or a copy to
// pinned memory read before it is done (its destination is garbage until then) give wrong
// results; others_first, a stream that writes what another still has to read, without an event
// between them, does. Not caught: data races within a kernel, and out-of-bounds accesses inside
// kernels (plain pointers).
//
// Included before anything of kernels/ (tests/CMakeLists.txt compiles each .cu that way).
#pragma once

#include <cuda_runtime.h>
#include <curand_kernel.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../support/cuda_on_host.hpp"

// The runtime's C++ overloads for kernels, which cuda_runtime.h declares only for nvcc.
template <class... Params>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, void (*kernel)(Params...)) {
    return ::cudaFuncGetAttributes(attributes, reinterpret_cast<const void*>(kernel));
}
template <class... Params>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, void (*kernel)(Params...), int block_size,
                                                          std::size_t shared_bytes) {
    return ::cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, reinterpret_cast<const void*>(kernel), block_size,
                                                           shared_bytes);
}

namespace cuda_on_host {

// A use of the runtime that a GPU would reject, fault on, or leave undefined.
struct device_fault : std::logic_error {
    using std::logic_error::logic_error;
};

enum class schedule { lazy, eager, others_first };
// The schedule of queued work: at first CUDA_ON_HOST_SCHEDULE (eager, others_first or lazy), else
// lazy; scoped_schedule sets another while it lives.
schedule current_schedule();
void set_schedule(schedule s);

class scoped_schedule {
public:
    explicit scoped_schedule(schedule s) : previous_(current_schedule()) { set_schedule(s); }
    scoped_schedule(const scoped_schedule&) = delete;
    scoped_schedule& operator=(const scoped_schedule&) = delete;
    ~scoped_schedule() { set_schedule(previous_); }

private:
    schedule previous_;
};

// Queues `work` on `stream` (the legacy stream for nullptr); `what` names it (a kernel launch:
// the kernel as IFSIM_LAUNCH spells it, e.g. "cuda::bernoulli_fill_kernel").
void enqueue(cudaStream_t stream, std::string what, std::function<void()> work);
// How many pieces of work named `what` have been queued so far.
std::uint64_t queued(const std::string& what);

// Throws device_fault unless [p, p + bytes) lies in one device allocation.
void require_device(const void* p, std::size_t bytes, const std::string& what);

// Fills [p, p + bytes) with the bytes a GPU's fresh or overwritten memory might hold.
void scribble(void* p, std::size_t bytes);

// A kernel launch, as `<<<grid, block, 0, stream>>>`: the arguments are copied now, the grid runs
// when the stream gets to it. An empty or oversized shape is cudaErrorInvalidConfiguration.
bool launchable(unsigned grid, unsigned block);
void set_last_error(cudaError_t e);

template <class... Params, class... Args>
void launch(unsigned grid, unsigned block, cudaStream_t stream, const char* name, void (*kernel)(Params...),
            Args&&... args) {
    if (!launchable(grid, block)) {
        set_last_error(cudaErrorInvalidConfiguration);
        return;
    }
    enqueue(stream, name,
            [grid, block, kernel, params = std::tuple<std::remove_cvref_t<Params>...>(std::forward<Args>(args)...)] {
                run_grid(grid, block, [&] { std::apply(kernel, params); });
            });
}

}  // namespace cuda_on_host

#define IFSIM_CUDA_ON_HOST 1
