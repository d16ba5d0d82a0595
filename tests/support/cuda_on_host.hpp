// Just enough of CUDA to run kernels/ kernels on the host. __global__ and __device__ vanish,
// __shared__ becomes static (blocks run one after another), and the built-in indices are globals
// that run_grid sets. Each thread of a block is a fiber (ucontext) that runs until it finishes or
// reaches a barrier or warp collective (__syncthreads, __ballot_sync, __shfl_sync); when every
// thread waits, the warps' collectives are answered, then the block's barrier. Atomics are plain
// operations: one OS thread runs all fibers, and switches only at those points.
//
// What a GPU would leave undefined fails loudly (kernel_fault): a lane named in a collective's
// mask that has left the kernel or waits elsewhere, lanes of one collective with different masks,
// a barrier some threads never reach. Include it after <curand_kernel.h> (whose host_defines.h
// would define __shared__ again) and before the kernel headers.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#ifndef __global__
#define __global__
#endif
#ifndef __device__
#define __device__
#endif
#ifdef __shared__
#undef __shared__
#endif
#define __shared__ static
#define __launch_bounds__(...)

namespace cuda_on_host {

struct thread_index {
    unsigned x;
};

// Undefined behaviour on a GPU, caught here.
struct kernel_fault : std::logic_error {
    using std::logic_error::logic_error;
};

namespace detail {

enum class state { running, at_barrier, at_ballot, at_shuffle, done };

struct fiber {
    ucontext_t context;
    state now = state::running;
    unsigned mask = 0;          // the collective's member lanes
    std::uint64_t value = 0;    // what the lane contributes
    unsigned source_lane = 0;   // __shfl_sync: whose value it reads
    std::uint64_t result = 0;
};

// One block's threads, run to completion by run_block.
struct block_run {
    static constexpr std::size_t stack_bytes = std::size_t(256) << 10;
    ucontext_t scheduler;
    std::vector<fiber> fibers;
    std::vector<std::unique_ptr<char[]>> stacks;  // kept across blocks; untouched pages stay virtual
    unsigned current = 0;
    void (*invoke)(void*) = nullptr;
    void* kernel = nullptr;
};

inline block_run& active() {
    static block_run run;
    return run;
}

}  // namespace detail
}  // namespace cuda_on_host

// The built-in indices, as macros: CUDA's headers declare their own for host compilers.
namespace cuda_on_host {
inline thread_index block_idx, block_dim, thread_idx, grid_dim;
}  // namespace cuda_on_host
#define blockIdx ::cuda_on_host::block_idx
#define blockDim ::cuda_on_host::block_dim
#define threadIdx ::cuda_on_host::thread_idx
#define gridDim ::cuda_on_host::grid_dim

namespace cuda_on_host::detail {

// The running thread waits in `s` until the scheduler answers; returns the answer.
inline std::uint64_t wait(state s, unsigned mask = 0, std::uint64_t value = 0, unsigned source_lane = 0) {
    block_run& run = active();
    fiber& f = run.fibers[run.current];
    f.now = s;
    f.mask = mask;
    f.value = value;
    f.source_lane = source_lane;
    swapcontext(&f.context, &run.scheduler);
    return f.result;
}

inline void fiber_entry() {
    block_run& run = active();
    run.invoke(run.kernel);
    run.fibers[run.current].now = state::done;
}  // returns to the scheduler through uc_link

inline const char* name_of(state s) {
    switch (s) {
        case state::running: return "running";
        case state::at_barrier: return "at __syncthreads";
        case state::at_ballot: return "at __ballot_sync";
        case state::at_shuffle: return "at __shfl_sync";
        case state::done: return "finished";
    }
    return "?";
}

// Answers every warp whose mask's lanes all wait at the same collective; true if any was answered.
inline bool answer_collectives(std::vector<fiber>& fibers) {
    bool answered = false;
    for (unsigned first = 0; first < fibers.size(); first += 32) {
        const unsigned lanes = std::min<unsigned>(32, unsigned(fibers.size()) - first);
        for (unsigned l = 0; l < lanes; ++l) {
            const fiber& f = fibers[first + l];
            if (f.now != state::at_ballot && f.now != state::at_shuffle) continue;
            // Lane l waits in a collective: every lane of its mask must wait in the same one.
            const auto where = "warp " + std::to_string(first / 32) + ": lane " + std::to_string(l) + " " + name_of(f.now);
            for (unsigned m = 0; m < 32; ++m) {
                if (!(f.mask >> m & 1u)) continue;
                if (m >= lanes) throw kernel_fault(where + " names lane " + std::to_string(m) + ", which the block lacks");
                const fiber& g = fibers[first + m];
                if (g.now != f.now) throw kernel_fault(where + ", lane " + std::to_string(m) + " " + name_of(g.now));
                if (g.mask != f.mask) throw kernel_fault(where + " with another mask than lane " + std::to_string(m));
            }
            std::uint64_t ballot = 0;
            for (unsigned m = 0; m < lanes; ++m)
                if ((f.mask >> m & 1u) && fibers[first + m].value != 0) ballot |= 1u << m;
            for (unsigned m = 0; m < lanes; ++m) {
                fiber& g = fibers[first + m];
                if (!(f.mask >> m & 1u)) continue;
                if (g.now == state::at_shuffle && !(f.mask >> g.source_lane & 1u))
                    throw kernel_fault(where + " reads lane " + std::to_string(g.source_lane) + ", outside the mask");
                g.result = g.now == state::at_ballot ? ballot : fibers[first + g.source_lane].value;
                g.now = state::running;
            }
            answered = true;
        }
    }
    return answered;
}

// Runs block blockIdx.x of the kernel, fiber by fiber, to its end.
inline void run_block(unsigned threads) {
    block_run& run = active();
    run.fibers.assign(threads, fiber{});
    while (run.stacks.size() < threads) run.stacks.emplace_back(new char[block_run::stack_bytes]);
    for (unsigned t = 0; t < threads; ++t) {
        fiber& f = run.fibers[t];
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = run.stacks[t].get();
        f.context.uc_stack.ss_size = block_run::stack_bytes;
        f.context.uc_link = &run.scheduler;
        makecontext(&f.context, fiber_entry, 0);
    }
    for (;;) {
        for (unsigned t = 0; t < threads; ++t) {
            if (run.fibers[t].now != state::running) continue;
            run.current = t;
            threadIdx.x = t;
            swapcontext(&run.scheduler, &run.fibers[t].context);
        }
        if (answer_collectives(run.fibers)) continue;
        unsigned done = 0, at_barrier = 0;
        for (const fiber& f : run.fibers) {
            done += f.now == state::done;
            at_barrier += f.now == state::at_barrier;
        }
        if (done == threads) return;
        if (done + at_barrier < threads)  // some wait in a collective that cannot be answered
            throw kernel_fault("block " + std::to_string(blockIdx.x) + ": threads wait at collectives never completed");
        if (done > 0)
            throw kernel_fault("block " + std::to_string(blockIdx.x) + ": " + std::to_string(done) +
                               " threads finished while others wait at __syncthreads");
        for (fiber& f : run.fibers) f.now = state::running;
    }
}

}  // namespace cuda_on_host::detail

inline void __syncthreads() { cuda_on_host::detail::wait(cuda_on_host::detail::state::at_barrier); }

inline unsigned __ballot_sync(unsigned mask, bool predicate) {
    return unsigned(cuda_on_host::detail::wait(cuda_on_host::detail::state::at_ballot, mask, predicate ? 1 : 0));
}

template <class T>
T __shfl_sync(unsigned mask, T value, int source_lane) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
    std::uint64_t word = 0;
    std::memcpy(&word, &value, sizeof(T));
    word = cuda_on_host::detail::wait(cuda_on_host::detail::state::at_shuffle, mask, word, unsigned(source_lane) & 31u);
    std::memcpy(&value, &word, sizeof(T));
    return value;
}

inline int __popc(unsigned x) { return std::popcount(x); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(unsigned(x)) + 1; }

inline unsigned atomicAdd(unsigned* p, unsigned v) {
    const unsigned old = *p;
    *p += v;
    return old;
}

inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p;
    *p += v;
    return old;
}

inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p;
    if (v < old) *p = v;
    return old;
}

namespace cuda_on_host {

// Every thread of a grid of `blocks` x `threads`, block after block.
template <class Kernel>
void run_grid(unsigned blocks, unsigned threads, Kernel&& kernel) {
    detail::block_run& run = detail::active();
    run.kernel = const_cast<void*>(static_cast<const void*>(&kernel));
    run.invoke = [](void* k) { (*static_cast<std::remove_reference_t<Kernel>*>(k))(); };
    gridDim.x = blocks;
    blockDim.x = threads;
    for (blockIdx.x = 0; blockIdx.x < blocks; ++blockIdx.x) detail::run_block(threads);
}

}  // namespace cuda_on_host
