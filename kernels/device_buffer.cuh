// Owning buffers: device_buffer<T> (cudaMalloc) and pinned_buffer<T> (cudaMallocHost, the staging
// area of the asynchronous drains). Move-only; destructors free without throwing.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "cuda_check.cuh"

namespace ifsim::cuda {

template <class T>
class device_buffer {
public:
    device_buffer() = default;
    device_buffer(std::size_t n, const std::string& what) : n_(n) {
        if (n > 0) IFSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&d_), n * sizeof(T)), "allocating " + what);
    }
    // A device copy of `host` (synchronous: only at setup).
    device_buffer(std::span<const T> host, const std::string& what) : device_buffer(host.size(), what) {
        if (n_ > 0)
            IFSIM_CUDA_CHECK(cudaMemcpy(d_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), "uploading " + what);
    }
    device_buffer(device_buffer&& o) noexcept : d_(std::exchange(o.d_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    device_buffer& operator=(device_buffer&& o) noexcept {
        if (this != &o) {
            release();
            d_ = std::exchange(o.d_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    ~device_buffer() { release(); }

    T* data() const { return d_; }
    std::size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }

private:
    void release() noexcept {
        if (d_) cudaFree(d_);  // an error here cannot be reported: it would surface at the next call
        d_ = nullptr;
        n_ = 0;
    }
    T* d_ = nullptr;
    std::size_t n_ = 0;
};

template <class T>
class pinned_buffer {
public:
    pinned_buffer() = default;
    pinned_buffer(pinned_buffer&& o) noexcept : h_(std::exchange(o.h_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    pinned_buffer& operator=(pinned_buffer&& o) noexcept {
        if (this != &o) {
            release();
            h_ = std::exchange(o.h_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    pinned_buffer(const pinned_buffer&) = delete;
    pinned_buffer& operator=(const pinned_buffer&) = delete;
    ~pinned_buffer() { release(); }

    // Room for at least `n` items; grows geometrically, so a run reallocates a few times at most.
    // Contents are not kept.
    void reserve(std::size_t n, const std::string& what) {
        if (n <= n_) return;
        const std::size_t grown = std::max(n, n_ + n_ / 2);
        release();
        IFSIM_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&h_), grown * sizeof(T)),
                         "allocating pinned host memory for " + what);
        n_ = grown;
    }
    T* data() const { return h_; }
    T& operator[](std::size_t i) const { return h_[i]; }
    std::size_t size() const { return n_; }

private:
    void release() noexcept {
        if (h_) cudaFreeHost(h_);
        h_ = nullptr;
        n_ = 0;
    }
    T* h_ = nullptr;
    std::size_t n_ = 0;
};

}  // namespace ifsim::cuda
