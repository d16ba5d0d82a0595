// Just enough of CUDA to run kernels/ kernels on the host. __global__ and __device__ vanish,
// __shared__ becomes static (blocks run one after another), and the built-in indices are globals
// that run_grid sets. Each thread of a block is a fiber that runs until it finishes or
// reaches a barrier or warp collective (__syncthreads, __ballot_sync, __shfl_sync); when every
// thread waits, the collectives whose lanes have all arrived are answered, then the block's
// barrier. Atomics are plain operations: one OS thread runs all fibers, and switches only at
// those points.
//
// Caught (kernel_fault): collectives or a barrier that can never complete (a lane of the mask
// waits elsewhere for good, masks that disagree, a barrier part of the block skips), a calling
// lane outside its own mask, a shuffle from a lane outside the mask or gone, an empty launch. Not
// caught, as a fiber runs alone between those points: data races, plain adds where atomics are
// needed, reads of memory another block writes in the same launch. Running the grid in reverse
// order (scoped_order) exposes some of the last kind: a kernel whose results change with the
// order of its threads and blocks is wrong on a GPU. Include it after <curand_kernel.h> (whose
// host_defines.h would define __shared__ again) and before the kernel headers.
//
// Fibers switch by a few instructions on x86-64 (the callee-saved registers and the stack
// pointer); elsewhere, or where the compiler targets CET shadow stacks, by ucontext, whose every
// switch is a system call (about ten times slower). All fibers share the OS thread's C++
// exception state: a kernel must not reach a collective inside a catch block.
#pragma once

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <exception>
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

// The order blocks run in, and fibers within a block are resumed in.
enum class order { forward, reverse };

namespace detail {

enum class state { running, at_barrier, at_ballot, at_shuffle, done };

// Where a fiber or the scheduler resumes.
#if defined(__x86_64__) && !(defined(__CET__) && (__CET__ & 2))
#define CUDA_ON_HOST_OWN_SWITCH 1  // no shadow stack to keep in step
#else
#define CUDA_ON_HOST_OWN_SWITCH 0
#endif

#if CUDA_ON_HOST_OWN_SWITCH
struct context {
    void* sp = nullptr;  // its saved registers are on its stack
};
#else
struct context {
    ucontext_t uc;
};
#endif

struct fiber {
    detail::context context;
    state now = state::running;
    unsigned mask = 0;          // the collective's member lanes
    std::uint64_t value = 0;    // what the lane contributes
    unsigned source_lane = 0;   // __shfl_sync: whose value it reads
    std::uint64_t result = 0;
};

// A fiber's stack, with an inaccessible page below it: an overflow faults rather than
// overwriting the heap.
class fiber_stack {
public:
    static constexpr std::size_t bytes = std::size_t(256) << 10;
    fiber_stack() {
        const auto page = std::size_t(sysconf(_SC_PAGESIZE));
        void* p = mmap(nullptr, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED || mprotect(p, page, PROT_NONE) != 0) throw std::runtime_error("cuda_on_host: no fiber stack");
        base_ = static_cast<char*>(p);
        guard_ = page;
    }
    fiber_stack(const fiber_stack&) = delete;
    fiber_stack& operator=(const fiber_stack&) = delete;
    ~fiber_stack() { munmap(base_, bytes + guard_); }
    void* top_region() const { return base_ + guard_; }

private:
    char* base_ = nullptr;
    std::size_t guard_ = 0;
};

#if CUDA_ON_HOST_OWN_SWITCH
// switch_stack(save, load): pushes the callee-saved registers, stores the stack pointer in
// *save, takes `load` as the stack pointer and pops the same from it (System V: everything else
// is the caller's to save; the MXCSR and x87 control words are left alone, as no kernel changes
// them). In a COMDAT section, as an inline function's code is, so that every file including this
// header may define it.
extern "C" void cuda_on_host_switch_stack(void** save, void* load);
asm(R"(
    .pushsection .text.cuda_on_host_switch_stack,"axG",@progbits,cuda_on_host_switch_stack,comdat
    .weak cuda_on_host_switch_stack
    .hidden cuda_on_host_switch_stack
    .type cuda_on_host_switch_stack, @function
cuda_on_host_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size cuda_on_host_switch_stack, .-cuda_on_host_switch_stack
    .popsection
)");

inline void switch_context(context& from, context& to) { cuda_on_host_switch_stack(&from.sp, to.sp); }

// A context that, switched to, calls entry() on the stack [base, base + bytes): its first frame
// as switch_stack leaves one, returning into entry as if entry had been called (it never
// returns).
inline void start_context(context& c, void* base, std::size_t bytes, void (*entry)()) {
    const auto top = (reinterpret_cast<std::uintptr_t>(base) + bytes) & ~std::uintptr_t(15);
    auto* slot = reinterpret_cast<std::uint64_t*>(top);
    *--slot = 0;                                        // entry's return address: none
    *--slot = reinterpret_cast<std::uintptr_t>(entry);  // where switch_stack returns to
    for (int r = 0; r < 6; ++r) *--slot = 0;            // rbp, rbx, r12 to r15
    c.sp = slot;
}
#else
inline void switch_context(context& from, context& to) { swapcontext(&from.uc, &to.uc); }

inline void start_context(context& c, void* base, std::size_t bytes, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = base;
    c.uc.uc_stack.ss_size = bytes;
    c.uc.uc_link = nullptr;  // entry never returns
    makecontext(&c.uc, entry, 0);
}
#endif

// One block's threads, run to completion by run_block.
struct block_run {
    detail::context scheduler;
    std::vector<fiber> fibers;
    std::vector<std::unique_ptr<fiber_stack>> stacks;  // kept across blocks
    unsigned current = 0;
    void (*invoke)(void*) = nullptr;
    void* kernel = nullptr;
    std::exception_ptr failure;  // what a fiber threw, rethrown by the scheduler
    order sequence = order::forward;
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
    switch_context(f.context, run.scheduler);
    return f.result;
}

// A fiber's life: the kernel, then back to the scheduler for good.
[[noreturn]] inline void fiber_entry() {
    block_run& run = active();
    try {
        run.invoke(run.kernel);
    } catch (...) {  // unwinding past the fiber's first frame would terminate
        run.failure = std::current_exception();
    }
    fiber& f = run.fibers[run.current];
    f.now = state::done;
    switch_context(f.context, run.scheduler);
    __builtin_unreachable();
}

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

inline bool waits_in_collective(const fiber& f) { return f.now == state::at_ballot || f.now == state::at_shuffle; }

// Answers each collective whose lanes have all arrived: every lane of its mask that has not
// finished waits in the same one with the same mask (a finished lane takes no part: its ballot
// bit is 0). Collectives still missing lanes wait for a later pass. True if any was answered.
inline bool answer_collectives(std::vector<fiber>& fibers) {
    bool answered = false;
    for (unsigned first = 0; first < fibers.size(); first += 32) {
        const unsigned lanes = std::min<unsigned>(32, unsigned(fibers.size()) - first);
        for (unsigned l = 0; l < lanes; ++l) {
            const fiber& f = fibers[first + l];
            if (!waits_in_collective(f)) continue;
            const auto where = "warp " + std::to_string(first / 32) + ": lane " + std::to_string(l) + " " + name_of(f.now);
            if (!(f.mask >> l & 1u)) throw kernel_fault(where + " outside its own mask");
            bool complete = true;
            for (unsigned m = 0; m < 32 && complete; ++m) {
                if (!(f.mask >> m & 1u)) continue;
                if (m >= lanes) throw kernel_fault(where + " names lane " + std::to_string(m) + ", which the block lacks");
                const fiber& g = fibers[first + m];
                complete = g.now == state::done || (g.now == f.now && g.mask == f.mask);
            }
            if (!complete) continue;
            std::uint64_t ballot = 0;
            for (unsigned m = 0; m < lanes; ++m)
                if ((f.mask >> m & 1u) && fibers[first + m].now == f.now && fibers[first + m].value != 0) ballot |= 1u << m;
            for (unsigned m = 0; m < lanes; ++m) {
                fiber& g = fibers[first + m];
                if (!(f.mask >> m & 1u) || g.now == state::done) continue;
                if (g.now == state::at_shuffle) {
                    if (!(f.mask >> g.source_lane & 1u) || fibers[first + g.source_lane].now == state::done)
                        throw kernel_fault(where + ": lane " + std::to_string(m) + " reads lane " +
                                           std::to_string(g.source_lane) + ", outside the mask or finished");
                    g.result = fibers[first + g.source_lane].value;
                } else {
                    g.result = ballot;
                }
            }
            for (unsigned m = 0; m < lanes; ++m)
                if ((f.mask >> m & 1u) && fibers[first + m].now != state::done) fibers[first + m].now = state::running;
            answered = true;
        }
    }
    return answered;
}

// What each thread of a stuck block waits for.
inline std::string states_of(const std::vector<fiber>& fibers) {
    std::string out;
    for (std::size_t t = 0; t < fibers.size(); ++t)
        if (fibers[t].now != state::done) out += " thread " + std::to_string(t) + " " + name_of(fibers[t].now) + ";";
    return out;
}

// Runs block blockIdx.x of the kernel, fiber by fiber, to its end.
inline void run_block(unsigned threads) {
    block_run& run = active();
    run.fibers.assign(threads, fiber{});
    run.failure = nullptr;
    while (run.stacks.size() < threads) run.stacks.push_back(std::make_unique<fiber_stack>());
    for (unsigned t = 0; t < threads; ++t) {
        fiber& f = run.fibers[t];
        start_context(f.context, run.stacks[t]->top_region(), fiber_stack::bytes, fiber_entry);
    }
    const std::string block = "block " + std::to_string(blockIdx.x) + ":";
    for (;;) {
        for (unsigned i = 0; i < threads; ++i) {
            const unsigned t = run.sequence == order::forward ? i : threads - 1 - i;
            if (run.fibers[t].now != state::running) continue;
            run.current = t;
            threadIdx.x = t;
            switch_context(run.scheduler, run.fibers[t].context);
            if (run.failure) std::rethrow_exception(run.failure);
        }
        if (answer_collectives(run.fibers)) continue;
        unsigned done = 0, at_barrier = 0;
        for (const fiber& f : run.fibers) {
            done += f.now == state::done;
            at_barrier += f.now == state::at_barrier;
        }
        if (done == threads) return;
        if (done + at_barrier < threads)
            throw kernel_fault(block + " collectives that can never complete:" + states_of(run.fibers));
        if (done > 0)
            throw kernel_fault(block + " " + std::to_string(done) + " threads finished while others wait at __syncthreads");
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

// Every thread of a grid of `blocks` x `threads`, block after block (in the order scoped_order
// sets).
template <class Kernel>
void run_grid(unsigned blocks, unsigned threads, Kernel&& kernel) {
    if (blocks == 0 || threads == 0 || threads > 1024)
        throw kernel_fault("launch of " + std::to_string(blocks) + " blocks of " + std::to_string(threads) +
                           " threads (CUDA: at least one, at most 1024 per block)");
    detail::block_run& run = detail::active();
    run.kernel = const_cast<void*>(static_cast<const void*>(&kernel));
    run.invoke = [](void* k) { (*static_cast<std::remove_reference_t<Kernel>*>(k))(); };
    gridDim.x = blocks;
    blockDim.x = threads;
    for (unsigned b = 0; b < blocks; ++b) {
        blockIdx.x = run.sequence == order::forward ? b : blocks - 1 - b;
        detail::run_block(threads);
    }
}

// Runs grids in `o` while it lives.
class scoped_order {
public:
    explicit scoped_order(order o) : previous_(detail::active().sequence) { detail::active().sequence = o; }
    scoped_order(const scoped_order&) = delete;
    scoped_order& operator=(const scoped_order&) = delete;
    ~scoped_order() { detail::active().sequence = previous_; }

private:
    order previous_;
};

}  // namespace cuda_on_host
