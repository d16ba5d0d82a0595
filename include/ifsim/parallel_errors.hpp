// Exceptions out of OpenMP regions. One that leaves a region ends the program (std::terminate: a
// network too large for the memory left aborted instead of saying so), and one that skips a
// barrier or the end of a worksharing loop leaves the other threads waiting for ever. So work in a
// region goes through run(), per loop iteration or per stretch between barriers: it keeps the
// first exception and skips all later work once one is kept; rethrow() after the region throws it.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>

namespace ifsim {

class parallel_errors {
public:
    template <class Work>
    void run(Work&& work) noexcept {
        if (failed()) return;
        try {
            work();
        } catch (...) {
            keep(std::current_exception());
        }
    }
    // For a catch of the caller's own (a hot loop that goes on after a failure).
    void keep(std::exception_ptr e) noexcept {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!first_) first_ = std::move(e);
        failed_.store(true, std::memory_order_relaxed);
    }
    // Once true, the same for every thread after the next barrier.
    bool failed() const { return failed_.load(std::memory_order_relaxed); }
    // After the region: the first exception caught, if any.
    void rethrow() const {
        if (first_) std::rethrow_exception(first_);
    }

private:
    std::atomic<bool> failed_{false};
    std::mutex mutex_;
    std::exception_ptr first_;
};

}  // namespace ifsim
