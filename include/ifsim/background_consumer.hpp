// One background thread that consumes items in submission order, one at a time, while the caller
// prepares the next: the simulation's writer thread (block outputs to files while the backend
// computes the next block). Double buffering by swap, so no item is copied.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace ifsim {

template <class T>
class background_consumer {
public:
    explicit background_consumer(std::function<void(T&)> consume)
        : consume_(std::move(consume)), thread_([this] { run(); }) {}

    // Finishes the item in hand, then stops; an error it raised is dropped (call wait() first to see it).
    ~background_consumer() {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    background_consumer(const background_consumer&) = delete;
    background_consumer& operator=(const background_consumer&) = delete;

    // Waits until the previous item is consumed, then takes `item` and leaves the previous (consumed)
    // one in its place for the caller to reuse. Rethrows an error of an earlier consume.
    void submit(T& item) {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return !pending_; });
        rethrow_locked();
        std::swap(item, slot_);
        pending_ = true;
        lock.unlock();
        cv_.notify_all();
    }

    // Waits until every submitted item is consumed. Rethrows an error of a consume.
    void wait() {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return !pending_; });
        rethrow_locked();
    }

private:
    void rethrow_locked() {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

    void run() {
        std::unique_lock lock(m_);
        for (;;) {
            cv_.wait(lock, [this] { return pending_ || stop_; });
            if (!pending_) return;
            lock.unlock();
            std::exception_ptr error;
            if (!failed_) {
                try {
                    consume_(slot_);
                } catch (...) {
                    error = std::current_exception();
                }
            }
            lock.lock();
            if (error) {
                error_ = error;
                failed_ = true;  // later items are dropped: the output is already broken
            }
            pending_ = false;
            cv_.notify_all();
        }
    }

    std::function<void(T&)> consume_;
    std::mutex m_;
    std::condition_variable cv_;
    T slot_{};
    bool pending_ = false, stop_ = false, failed_ = false;
    std::exception_ptr error_;
    std::thread thread_;  // last: starts after everything it uses
};

}  // namespace ifsim
