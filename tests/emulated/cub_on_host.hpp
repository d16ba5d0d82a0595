// Stand-ins for the CUB algorithms kernels/ calls, on the emulated device (device.hpp), with CUB's
// contracts checked: sizing with a null scratch pointer queues nothing; a call with scratch needs
// device memory of at least the size it asked for (the segmented sort's holds a copy of the items,
// as CUB's does); every range lies in device memory; keys are compared by bits [begin_bit,
// end_bit) only, and sorts are stable. The double-buffer sort leaves its result in the other
// buffer on every other call (CUB: after an odd number of passes, which depends on the key bits
// and the device), garbage in the one it leaves.
// Reached as <cub/device/...> through tests/emulated/cub/, ahead of the toolkit's CUB.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "device.hpp"

namespace cub {

template <class T>
struct DoubleBuffer {
    T* d_buffers[2] = {nullptr, nullptr};
    int selector = 0;
    DoubleBuffer() = default;
    DoubleBuffer(T* current, T* alternate) : d_buffers{current, alternate} {}
    T* Current() { return d_buffers[selector]; }
    T* Alternate() { return d_buffers[selector ^ 1]; }
};

namespace on_host {

// The scratch bytes each call asks for: enough to tell a scratch sized for another call.
inline std::size_t segmented_sort_scratch(long long items, long long segments, std::size_t item_bytes) {
    return 256 + 16 * std::size_t(std::max(segments, 0LL)) + item_bytes * std::size_t(std::max(items, 0LL));
}
inline std::size_t sort_scratch(long long items) { return 4096 + std::size_t(std::max(items, 0LL)) / 64 * 8; }
inline std::size_t scan_scratch(long long items) { return 256 + std::size_t(std::max(items, 0LL)) / 128 * 8; }

// True when only sizing; else checks the scratch and scribbles on it when the call runs.
inline bool sizing_only(void* temp, std::size_t& bytes, std::size_t needed, const char* call) {
    if (temp == nullptr) {
        bytes = needed;
        return true;
    }
    if (bytes < needed)
        throw cuda_on_host::device_fault(std::string(call) + ": scratch of " + std::to_string(bytes) +
                                         " bytes where this call needs " + std::to_string(needed));
    cuda_on_host::require_device(temp, bytes, std::string(call) + " scratch");
    return false;
}

template <class Key>
Key digit(Key key, int begin_bit, int end_bit) {
    static_assert(std::is_unsigned_v<Key>, "the stand-in sorts unsigned keys");
    const int bits = end_bit - begin_bit;
    const Key shifted = Key(key >> begin_bit);
    return bits >= int(8 * sizeof(Key)) ? shifted : Key(shifted & ((Key(1) << bits) - 1));
}

// Orders keys by bits [begin_bit, end_bit) only.
template <class Key>
auto by_bits(int begin_bit, int end_bit) {
    return [=](Key x, Key y) { return digit(x, begin_bit, end_bit) < digit(y, begin_bit, end_bit); };
}

template <class Key>
void check_bits(int begin_bit, int end_bit, const char* call) {
    if (begin_bit < 0 || end_bit > int(8 * sizeof(Key)) || begin_bit > end_bit)
        throw cuda_on_host::device_fault(std::string(call) + ": bits [" + std::to_string(begin_bit) + ", " +
                                         std::to_string(end_bit) + ") of a " + std::to_string(8 * sizeof(Key)) + "-bit key");
}

template <class T>
void check_disjoint(const T* a, const T* b, long long n, const char* call) {
    if (a < b + n && b < a + n) throw cuda_on_host::device_fault(std::string(call) + ": input and output overlap");
}

}  // namespace on_host

struct DeviceSegmentedRadixSort {
    template <class Key, class Value, class Items, class Segments, class Offset>
    static cudaError_t SortPairs(void* temp, std::size_t& bytes, const Key* keys_in, Key* keys_out, const Value* values_in,
                                 Value* values_out, Items num_items, Segments num_segments, const Offset* begin,
                                 const Offset* end, int begin_bit = 0, int end_bit = int(8 * sizeof(Key)),
                                 cudaStream_t stream = nullptr) {
        constexpr const char* call = "cub::DeviceSegmentedRadixSort::SortPairs";
        const std::size_t needed =
            on_host::segmented_sort_scratch(static_cast<long long>(num_items), num_segments, sizeof(Key) + sizeof(Value));
        if (on_host::sizing_only(temp, bytes, needed, call)) return cudaSuccess;
        on_host::check_bits<Key>(begin_bit, end_bit, call);
        const auto n = static_cast<long long>(num_items);
        const auto segments = static_cast<long long>(num_segments);
        if (n <= 0 || segments <= 0) return cudaSuccess;
        cuda_on_host::require_device(keys_in, n * sizeof(Key), std::string(call) + " keys in");
        cuda_on_host::require_device(keys_out, n * sizeof(Key), std::string(call) + " keys out");
        cuda_on_host::require_device(values_in, n * sizeof(Value), std::string(call) + " values in");
        cuda_on_host::require_device(values_out, n * sizeof(Value), std::string(call) + " values out");
        cuda_on_host::require_device(begin, segments * sizeof(Offset), std::string(call) + " segment begins");
        cuda_on_host::require_device(end, segments * sizeof(Offset), std::string(call) + " segment ends");
        on_host::check_disjoint(keys_in, keys_out, n, call);
        on_host::check_disjoint(values_in, values_out, n, call);
        cuda_on_host::enqueue(stream, call, [=] {
            cuda_on_host::scribble(temp, bytes);
            std::vector<long long> order;
            for (long long k = 0; k < segments; ++k) {
                const auto b = static_cast<long long>(begin[k]), e = static_cast<long long>(end[k]);
                if (e <= b) continue;  // CUB: an empty segment
                if (b < 0 || e > n)
                    throw cuda_on_host::device_fault(std::string(call) + ": segment " + std::to_string(k) + " [" +
                                                     std::to_string(b) + ", " + std::to_string(e) + ") outside the " +
                                                     std::to_string(n) + " items");
                order.resize(std::size_t(e - b));
                std::iota(order.begin(), order.end(), b);
                const auto less = on_host::by_bits<Key>(begin_bit, end_bit);
                std::stable_sort(order.begin(), order.end(),
                                 [&](long long x, long long y) { return less(keys_in[x], keys_in[y]); });
                for (std::size_t j = 0; j < order.size(); ++j) {
                    keys_out[b + static_cast<long long>(j)] = keys_in[order[j]];
                    values_out[b + static_cast<long long>(j)] = values_in[order[j]];
                }
            }
        });
        return cudaSuccess;
    }
};

struct DeviceRadixSort {
    template <class Key, class Items>
    static cudaError_t SortKeys(void* temp, std::size_t& bytes, DoubleBuffer<Key>& keys, Items num_items,
                                int begin_bit = 0, int end_bit = int(8 * sizeof(Key)), cudaStream_t stream = nullptr) {
        constexpr const char* call = "cub::DeviceRadixSort::SortKeys";
        const auto n = static_cast<long long>(num_items);
        if (on_host::sizing_only(temp, bytes, on_host::sort_scratch(n), call)) return cudaSuccess;
        on_host::check_bits<Key>(begin_bit, end_bit, call);
        if (n <= 0 || begin_bit == end_bit) return cudaSuccess;  // CUB: nothing to sort
        Key* in = keys.Current();
        Key* out = keys.Alternate();
        cuda_on_host::require_device(in, n * sizeof(Key), std::string(call) + " keys");
        cuda_on_host::require_device(out, n * sizeof(Key), std::string(call) + " alternate keys");
        on_host::check_disjoint(static_cast<const Key*>(in), static_cast<const Key*>(out), n, call);
        static bool odd_passes = false;
        odd_passes = !odd_passes;
        if (odd_passes) keys.selector ^= 1;
        cuda_on_host::enqueue(stream, call, [=, odd = odd_passes] {
            cuda_on_host::scribble(temp, bytes);
            std::vector<Key> sorted(in, in + n);
            std::stable_sort(sorted.begin(), sorted.end(), on_host::by_bits<Key>(begin_bit, end_bit));
            Key* result = odd ? out : in;
            cuda_on_host::scribble(odd ? in : out, std::size_t(n) * sizeof(Key));
            std::copy(sorted.begin(), sorted.end(), result);
        });
        return cudaSuccess;
    }
};

struct DeviceScan {
    template <class T, class Items>
    static cudaError_t ExclusiveSum(void* temp, std::size_t& bytes, const T* in, T* out, Items num_items,
                                    cudaStream_t stream = nullptr) {
        constexpr const char* call = "cub::DeviceScan::ExclusiveSum";
        const auto n = static_cast<long long>(num_items);
        if (on_host::sizing_only(temp, bytes, on_host::scan_scratch(n), call)) return cudaSuccess;
        if (n <= 0) return cudaSuccess;
        cuda_on_host::require_device(in, n * sizeof(T), std::string(call) + " input");
        cuda_on_host::require_device(out, n * sizeof(T), std::string(call) + " output");
        cuda_on_host::enqueue(stream, call, [=] {
            cuda_on_host::scribble(temp, bytes);
            T sum{};
            for (long long i = 0; i < n; ++i) {
                const T x = in[i];  // in place (in == out) is allowed
                out[i] = sum;
                sum += x;
            }
        });
        return cudaSuccess;
    }
};

}  // namespace cub
