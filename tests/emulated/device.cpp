// The CUDA runtime calls of kernels/ on an emulated device (device.hpp): one device 0, "device"
// memory from the host's heap, streams as queues of work run when the host waits (or at once).
//
// What a call does with respect to the host follows the CUDA runtime's documented behaviour
// ("API synchronization behavior"): a copy from pageable memory takes its source at the call and
// may run later (cudaMemcpy's on the legacy stream too); a copy into pageable memory returns when
// done; a copy into pinned memory leaves its destination garbage until it runs; device to device
// only queues; cudaFree and cudaFreeHost wait for the device. Streams made with cudaStreamNonBlocking do not wait for the legacy stream
// (all of ifsim's are), so the legacy stream's work is ordered before theirs only by a
// synchronisation.
#include "device.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

// The runtime's opaque handles, defined here.
struct CUstream_st {
    std::deque<std::pair<std::string, std::function<void()>>> pending;
    std::uint64_t queued = 0;  // work items queued so far
    std::uint64_t done = 0;    // of which run
    bool running = false;
};

struct CUevent_st {
    bool timing = false;
    CUstream_st* stream = nullptr;  // of the last record; null before any
    std::uint64_t position = 0;     // complete once stream->done reaches it
    double seconds = 0.0;           // when the record ran (timing events)
};

namespace cuda_on_host {
namespace {

constexpr std::size_t alignment = 256;  // cudaMalloc's

struct allocation {
    std::size_t bytes;
    bool pinned;
};

struct device_state {
    std::map<std::uintptr_t, allocation> allocations;  // by first address
    std::size_t total = std::size_t(1) << 30;
    std::size_t used = 0;
    cudaError_t last_error = cudaSuccess;
    int current = 0;
    CUstream_st legacy;
    std::set<CUstream_st*> streams;
    std::set<CUevent_st*> events;
    schedule order = schedule::lazy;

    device_state() {
        if (const char* mib = std::getenv("IFSIM_EMULATED_DEVICE_MIB")) total = std::size_t(std::atoll(mib)) << 20;
        if (const char* s = std::getenv("CUDA_ON_HOST_SCHEDULE"); s && std::string(s) == "eager") order = schedule::eager;
    }
};

device_state& device() {
    static device_state d;
    return d;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

CUstream_st* resolve(cudaStream_t s) {
    if (s == nullptr) return &device().legacy;
    if (!device().streams.count(s)) throw device_fault("a stream that was never created, or was destroyed");
    return s;
}

// The allocation holding [p, p + bytes), or null.
const allocation* find(const void* p, std::size_t bytes) {
    const auto a = std::uintptr_t(p);
    auto& all = device().allocations;
    auto it = all.upper_bound(a);
    if (it == all.begin()) return nullptr;
    --it;
    if (a + bytes > it->first + it->second.bytes) return nullptr;
    return &it->second;
}

bool is_pinned(const void* p, std::size_t bytes) {
    const allocation* a = find(p, bytes);
    return a != nullptr && a->pinned;
}

// Runs `s`'s work until `position` items are done; work that waits on another stream runs that
// one as far as it needs.
void run_until(CUstream_st* s, std::uint64_t position) {
    while (s->done < position) {
        if (s->running) throw device_fault("a stream waits for its own later work (an event recorded after the wait?)");
        auto work = std::move(s->pending.front());
        s->pending.pop_front();
        s->running = true;
        try {
            work.second();
        } catch (...) {
            // A kernel fault: on a GPU the context is lost. Here the queued work is dropped so that
            // the exception reaches the test and later tests start clean.
            s->running = false;
            ++s->done;
            for (CUstream_st* t : device().streams) {
                t->done = t->queued;
                t->pending.clear();
            }
            device().legacy.done = device().legacy.queued;
            device().legacy.pending.clear();
            throw;
        }
        s->running = false;
        ++s->done;
    }
}

void run_all() {
    run_until(&device().legacy, device().legacy.queued);
    for (CUstream_st* s : device().streams) run_until(s, s->queued);
}

// Runs everything before memory is freed, as cudaFree does; called from destructors, so a kernel
// fault is reported rather than thrown.
cudaError_t synchronise_quietly(const char* call) {
    try {
        run_all();
        return cudaSuccess;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cuda_on_host: %s ran queued work that failed: %s\n", call, e.what());
        return cudaErrorLaunchFailure;
    }
}

cudaError_t fail(cudaError_t e) {
    device().last_error = e;
    return e;
}

void require_host_side(const void* p, std::size_t bytes, const std::string& what) {
    if (find(p, bytes) != nullptr && !is_pinned(p, bytes))
        throw device_fault(what + ": the host side is device memory");
}

// Checks a copy's two ranges against its kind.
void require_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, const std::string& call) {
    switch (kind) {
        case cudaMemcpyHostToDevice:
            require_device(dst, bytes, call + " (host to device) destination");
            require_host_side(src, bytes, call + " (host to device) source");
            break;
        case cudaMemcpyDeviceToHost:
            require_device(src, bytes, call + " (device to host) source");
            require_host_side(dst, bytes, call + " (device to host) destination");
            break;
        case cudaMemcpyDeviceToDevice:
            require_device(src, bytes, call + " (device to device) source");
            require_device(dst, bytes, call + " (device to device) destination");
            break;
        default: throw device_fault(call + ": a copy kind ifsim does not use (" + std::to_string(int(kind)) + ")");
    }
}

}  // namespace

schedule current_schedule() { return device().order; }

void enqueue(cudaStream_t stream, std::string what, std::function<void()> work) {
    CUstream_st* s = resolve(stream);
    s->pending.emplace_back(std::move(what), std::move(work));
    ++s->queued;
    if (device().order == schedule::eager && !s->running) run_until(s, s->queued);
}

void require_device(const void* p, std::size_t bytes, const std::string& what) {
    const allocation* a = find(p, std::max<std::size_t>(bytes, 1));
    if (a == nullptr || a->pinned)
        throw device_fault(what + ": " + std::to_string(bytes) + " bytes at " + std::to_string(std::uintptr_t(p)) +
                           " are not within one device allocation");
}

void scribble(void* p, std::size_t bytes) { std::memset(p, 0xa5, bytes); }

bool launchable(unsigned grid, unsigned block) { return grid > 0 && block > 0 && block <= 1024 && grid < (1u << 31); }

void set_last_error(cudaError_t e) { device().last_error = e; }

}  // namespace cuda_on_host

using namespace cuda_on_host;

extern "C" {

cudaError_t cudaGetLastError(void) { return std::exchange(device().last_error, cudaSuccess); }

const char* cudaGetErrorName(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorNotReady: return "cudaErrorNotReady";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
        default: return "cudaErrorUnknown";
    }
}

const char* cudaGetErrorString(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "no error";
        case cudaErrorMemoryAllocation: return "out of memory (emulated device)";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorInvalidDevice: return "invalid device ordinal";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorNotReady: return "device not ready";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
        default: return "unknown error";
    }
}

cudaError_t cudaRuntimeGetVersion(int* v) {
    *v = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
    *v = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int* d) {
    *d = device().current;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int d) {
    if (d != 0) return fail(cudaErrorInvalidDevice);
    device().current = d;
    return cudaSuccess;
}

// Two multiprocessors: grids of a few blocks, so that the grid-stride loops stride.
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int d) {
    if (d != 0) return fail(cudaErrorInvalidDevice);
    *prop = cudaDeviceProp{};
    std::snprintf(prop->name, sizeof prop->name, "emulated device (cuda_on_host)");
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 2;
    prop->totalGlobalMem = device().total;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsPerMultiProcessor = 2048;
    return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void*) {
    *attr = cudaFuncAttributes{};
    attr->maxThreadsPerBlock = 1024;
    attr->numRegs = 32;
    attr->ptxVersion = attr->binaryVersion = 90;
    return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void*, int block_size, size_t) {
    if (block_size <= 0 || block_size > 1024) return fail(cudaErrorInvalidValue);
    *blocks = 2048 / block_size;
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    *free_bytes = device().total - device().used;
    *total_bytes = device().total;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
    *p = nullptr;
    if (bytes == 0) return cudaSuccess;
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    if (rounded > device().total - device().used) return fail(cudaErrorMemoryAllocation);
    void* q = std::aligned_alloc(alignment, rounded);
    if (q == nullptr) return fail(cudaErrorMemoryAllocation);
    scribble(q, rounded);
    device().allocations[std::uintptr_t(q)] = {bytes, false};
    device().used += rounded;
    *p = q;
    return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
    *p = nullptr;
    if (bytes == 0) return cudaSuccess;
    void* q = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (q == nullptr) return fail(cudaErrorMemoryAllocation);
    scribble(q, bytes);
    device().allocations[std::uintptr_t(q)] = {bytes, true};
    *p = q;
    return cudaSuccess;
}

namespace {
cudaError_t release(void* p, bool pinned, const char* call) {
    if (p == nullptr) return cudaSuccess;
    const cudaError_t queued = synchronise_quietly(call);
    auto& all = device().allocations;
    const auto it = all.find(std::uintptr_t(p));
    if (it == all.end() || it->second.pinned != pinned) {
        std::fprintf(stderr, "cuda_on_host: %s of a pointer that is not the start of a live %s allocation\n", call,
                     pinned ? "pinned" : "device");
        std::abort();  // a double free, or the wrong call: as fatal as on a GPU
    }
    if (!pinned) device().used -= (it->second.bytes + alignment - 1) / alignment * alignment;
    all.erase(it);
    std::free(p);
    return queued == cudaSuccess ? cudaSuccess : fail(queued);
}
}  // namespace

cudaError_t cudaFree(void* p) { return release(p, false, "cudaFree"); }
cudaError_t cudaFreeHost(void* p) { return release(p, true, "cudaFreeHost"); }

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream) {
    require_device(p, bytes, "cudaMemsetAsync");
    enqueue(stream, "cudaMemsetAsync", [=] { std::memset(p, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t bytes) {
    require_device(p, bytes, "cudaMemset");
    enqueue(nullptr, "cudaMemset", [=] { std::memset(p, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
    if (bytes == 0) return cudaSuccess;
    require_copy(dst, src, bytes, kind, "cudaMemcpyAsync");
    CUstream_st* s = resolve(stream);
    if (kind == cudaMemcpyHostToDevice && !is_pinned(src, bytes)) {
        // Staged at the call: the caller may reuse its pageable buffer at once.
        auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
        enqueue(stream, "cudaMemcpyAsync", [=] { std::memcpy(dst, staged->data(), bytes); });
        return cudaSuccess;
    }
    if (kind == cudaMemcpyDeviceToHost && is_pinned(dst, bytes)) scribble(dst, bytes);  // undefined until done
    enqueue(stream, "cudaMemcpyAsync", [=] { std::memcpy(dst, src, bytes); });
    if (kind == cudaMemcpyDeviceToHost && !is_pinned(dst, bytes)) run_until(s, s->queued);  // returns when done
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) return cudaSuccess;
    require_copy(dst, src, bytes, kind, "cudaMemcpy");
    if (kind == cudaMemcpyHostToDevice) {
        // Returns once the source is staged; the copy itself may still be queued on the legacy stream.
        auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
        enqueue(nullptr, "cudaMemcpy", [=] { std::memcpy(dst, staged->data(), bytes); });
        return cudaSuccess;
    }
    enqueue(nullptr, "cudaMemcpy", [=] { std::memcpy(dst, src, bytes); });
    CUstream_st* legacy = &device().legacy;
    if (kind == cudaMemcpyDeviceToHost) run_until(legacy, legacy->queued);  // returns when done
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
    if (flags != cudaStreamNonBlocking) throw device_fault("cudaStreamCreateWithFlags: only non-blocking streams are emulated");
    *s = new CUstream_st;
    device().streams.insert(*s);
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    if (!device().streams.count(s)) return fail(cudaErrorInvalidResourceHandle);
    cudaError_t e = cudaSuccess;
    try {
        run_until(s, s->queued);  // its work completes after the call, on a GPU
    } catch (const std::exception& x) {
        std::fprintf(stderr, "cuda_on_host: cudaStreamDestroy ran queued work that failed: %s\n", x.what());
        e = cudaErrorLaunchFailure;
    }
    device().streams.erase(s);
    delete s;
    return e == cudaSuccess ? e : fail(e);
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    CUstream_st* s = resolve(stream);
    run_until(s, s->queued);
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
    run_all();
    return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
    *e = new CUevent_st;
    (*e)->timing = (flags & cudaEventDisableTiming) == 0;
    device().events.insert(*e);
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    if (!device().events.erase(e)) return fail(cudaErrorInvalidResourceHandle);
    delete e;  // queued waits hold its stream and position, not the event
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t stream) {
    if (!device().events.count(e)) return fail(cudaErrorInvalidResourceHandle);
    CUstream_st* s = resolve(stream);
    const std::uint64_t position = s->queued + 1;
    e->stream = s;
    e->position = position;
    enqueue(stream, "cudaEventRecord", [e, position, s] {
        if (device().events.count(e) && e->stream == s && e->position == position) e->seconds = now_seconds();
    });
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    if (!device().events.count(e)) return fail(cudaErrorInvalidResourceHandle);
    if (e->stream != nullptr) run_until(e->stream, e->position);
    return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t e, unsigned int) {
    if (!device().events.count(e)) return fail(cudaErrorInvalidResourceHandle);
    if (e->stream == nullptr) return cudaSuccess;  // never recorded: nothing to wait for
    CUstream_st* on = e->stream;
    const std::uint64_t position = e->position;
    enqueue(stream, "cudaStreamWaitEvent", [on, position] {
        if (on == &device().legacy || device().streams.count(on)) run_until(on, position);  // else destroyed, so done
    });
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!device().events.count(start) || !device().events.count(end)) return fail(cudaErrorInvalidResourceHandle);
    if (!start->timing || !end->timing || start->stream == nullptr || end->stream == nullptr)
        return fail(cudaErrorInvalidResourceHandle);
    if (start->stream->done < start->position || end->stream->done < end->position) return fail(cudaErrorNotReady);
    *ms = float((end->seconds - start->seconds) * 1e3);
    return cudaSuccess;
}

}  // extern "C"
