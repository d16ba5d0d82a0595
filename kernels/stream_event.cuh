// Owners of a CUDA stream and a CUDA event: created checked, destroyed with their owner.
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "cuda_check.cuh"

namespace ifsim::cuda {

class stream_owner {
public:
    stream_owner() { IFSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "creating a stream"); }
    ~stream_owner() { cudaStreamDestroy(s_); }
    stream_owner(const stream_owner&) = delete;
    stream_owner& operator=(const stream_owner&) = delete;
    cudaStream_t get() const { return s_; }

private:
    cudaStream_t s_ = nullptr;
};

// `timing`: an event for cudaEventElapsedTime; otherwise one that only orders and synchronises,
// which is cheaper to record.
class event_owner {
public:
    explicit event_owner(bool timing = false) {
        IFSIM_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming),
                         "creating an event");
    }
    event_owner(event_owner&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
    event_owner& operator=(event_owner&&) = delete;
    ~event_owner() {
        if (e_) cudaEventDestroy(e_);
    }
    event_owner(const event_owner&) = delete;
    event_owner& operator=(const event_owner&) = delete;
    cudaEvent_t get() const { return e_; }

private:
    cudaEvent_t e_ = nullptr;
};

}  // namespace ifsim::cuda
