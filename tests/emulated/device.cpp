// The CUDA runtime calls of kernels/ on an emulated device (device.hpp): one device 0, "device"
// memory from the host's heap, streams as queues of work run when the host waits (or at once).
//
// What a call does with respect to the host follows the CUDA runtime's documented behaviour ("API
// synchronization behavior"), taking the least synchronous reading where it says "might":
// cudaMemcpy from pageable memory first finishes the legacy stream's work, takes its source and
// may copy later; from pinned memory, or to host memory, it returns when done; device to device it
// only queues. cudaMemcpyAsync between device and host memory of either kind only queues, and a
// copy into pinned memory leaves its destination garbage until it runs. cudaFree and cudaFreeHost
// wait for the device; cudaStreamDestroy does not wait: the stream's work still runs. Streams made
// with cudaStreamNonBlocking do not wait for the legacy stream (all of ifsim's are), so the legacy
// stream's work is ordered before theirs only by a synchronisation.
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
    std::uint64_t id = 0;  // 0: the legacy stream
    std::deque<std::pair<std::string, std::function<void()>>> pending;
    std::uint64_t queued = 0;  // work items queued so far
    std::uint64_t done = 0;    // of which run
    bool running = false;
    bool destroyed = false;  // by cudaStreamDestroy: gone once its work has run
};

struct CUevent_st {
    bool timing = false;
    bool recorded = false;
    std::uint64_t stream = 0;    // of the last record
    std::uint64_t position = 0;  // complete once that stream has run this many items
    double seconds = 0.0;        // when the record ran (timing events)
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
    // Streams by id, the legacy one (0) first; a destroyed one stays until its work has run, and
    // events and waits name streams by id, so that a new stream at a freed one's address is not
    // taken for it.
    std::map<std::uint64_t, std::unique_ptr<CUstream_st>> streams;
    std::uint64_t next_id = 1;
    std::set<CUevent_st*> events;
    std::map<std::string, std::uint64_t> queued_by_name;
    // Pinned ranges that queued copies are still to read: a copy into them does not scribble.
    std::multiset<std::pair<std::uintptr_t, std::uintptr_t>> pinned_reads;
    schedule order = schedule::lazy;

    device_state() {
        streams[0] = std::make_unique<CUstream_st>();
        if (const char* mib = std::getenv("IFSIM_EMULATED_DEVICE_MIB")) total = std::size_t(std::atoll(mib)) << 20;
        if (const char* s = std::getenv("CUDA_ON_HOST_SCHEDULE")) {
            const std::string name(s);
            if (name == "eager") order = schedule::eager;
            if (name == "others_first") order = schedule::others_first;
        }
    }
    CUstream_st& legacy() { return *streams.at(0); }
};

device_state& device() {
    static device_state d;
    return d;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A live stream's queue (the legacy stream's for nullptr).
CUstream_st* resolve(cudaStream_t s) {
    if (s == nullptr) return &device().legacy();
    for (const auto& [id, q] : device().streams)
        if (q.get() == s && !q->destroyed) return s;
    throw device_fault("a stream that was never created, or was destroyed");
}

// The stream `id` while it has work to run; null once it is gone (all its work has run).
CUstream_st* stream_by_id(std::uint64_t id) {
    const auto it = device().streams.find(id);
    return it == device().streams.end() ? nullptr : it->second.get();
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

// Whether host memory [p, p + bytes) is pinned; a range that starts in a pinned allocation and
// runs past it, or lies in device memory, is a fault.
bool host_is_pinned(const void* p, std::size_t bytes, const std::string& what) {
    const allocation* start = find(p, 1);
    if (start == nullptr) return false;
    if (!start->pinned) throw device_fault(what + ": the host side is device memory");
    if (find(p, bytes) == nullptr) throw device_fault(what + ": " + std::to_string(bytes) + " bytes run past a pinned allocation");
    return true;
}

void drop_all_work() {
    for (auto& [id, q] : device().streams) {
        q->done = q->queued;
        q->pending.clear();
        q->running = false;
    }
    device().pinned_reads.clear();
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
            drop_all_work();
            throw;
        }
        s->running = false;
        ++s->done;
    }
}

// Every queued item, then the destroyed streams go.
void run_all() {
    for (auto& [id, q] : device().streams) run_until(q.get(), q->queued);
    std::erase_if(device().streams, [](const auto& entry) { return entry.second->destroyed; });
}

// The host waits for `s` up to `position`. With schedule::others_first every other stream first
// runs all it has queued, as a GPU may have by then: a stream that reads what another overwrites
// later, without an event between them, then reads the overwritten data.
void host_wait(CUstream_st* s, std::uint64_t position) {
    if (device().order == schedule::others_first)
        for (auto& [id, q] : device().streams)
            if (q.get() != s) run_until(q.get(), q->queued);
    run_until(s, position);
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

// Checks a copy's two ranges against its kind; returns whether its host side is pinned.
bool require_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, const std::string& call) {
    switch (kind) {
        case cudaMemcpyHostToDevice:
            require_device(dst, bytes, call + " (host to device) destination");
            return host_is_pinned(src, bytes, call + " (host to device) source");
        case cudaMemcpyDeviceToHost:
            require_device(src, bytes, call + " (device to host) source");
            return host_is_pinned(dst, bytes, call + " (device to host) destination");
        case cudaMemcpyDeviceToDevice:
            require_device(src, bytes, call + " (device to device) source");
            require_device(dst, bytes, call + " (device to device) destination");
            return false;
        default: throw device_fault(call + ": a copy kind ifsim does not use (" + std::to_string(int(kind)) + ")");
    }
}

// Queues a copy; one from pinned memory is noted until it runs, one into pinned memory makes its
// destination garbage until then (unless a queued copy still reads it).
void enqueue_copy(cudaStream_t stream, const char* call, void* dst, const void* src, std::size_t bytes,
                  cudaMemcpyKind kind, bool pinned) {
    const auto range = std::pair{std::uintptr_t(src), std::uintptr_t(src) + bytes};
    if (pinned && kind == cudaMemcpyHostToDevice) device().pinned_reads.insert(range);
    if (pinned && kind == cudaMemcpyDeviceToHost) {
        const auto lo = std::uintptr_t(dst), hi = lo + bytes;
        const bool read = std::any_of(device().pinned_reads.begin(), device().pinned_reads.end(),
                                      [&](const auto& r) { return r.first < hi && lo < r.second; });
        if (!read) scribble(dst, bytes);
    }
    enqueue(stream, call, [=] {
        std::memcpy(dst, src, bytes);
        if (pinned && kind == cudaMemcpyHostToDevice) {
            auto& reads = device().pinned_reads;
            if (const auto it = reads.find(range); it != reads.end()) reads.erase(it);
        }
    });
}

}  // namespace

std::uint64_t queued(const std::string& what) {
    const auto it = device().queued_by_name.find(what);
    return it == device().queued_by_name.end() ? 0 : it->second;
}

schedule current_schedule() { return device().order; }
void set_schedule(schedule s) { device().order = s; }

void enqueue(cudaStream_t stream, std::string what, std::function<void()> work) {
    CUstream_st* s = resolve(stream);
    ++device().queued_by_name[what];
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
    if (bytes > device().total - device().used) return fail(cudaErrorMemoryAllocation);
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
    if (bytes > ~std::size_t(0) - alignment) return fail(cudaErrorMemoryAllocation);
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
    if (bytes == 0) return cudaSuccess;  // as the runtime: nothing to set, whatever the pointer
    require_device(p, bytes, "cudaMemsetAsync");
    enqueue(stream, "cudaMemsetAsync", [=] { std::memset(p, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t bytes) {
    if (bytes == 0) return cudaSuccess;  // as the runtime: nothing to set, whatever the pointer
    require_device(p, bytes, "cudaMemset");
    enqueue(nullptr, "cudaMemset", [=] { std::memset(p, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
    if (bytes == 0) return cudaSuccess;
    const bool pinned = require_copy(dst, src, bytes, kind, "cudaMemcpyAsync");
    enqueue_copy(stream, "cudaMemcpyAsync", dst, src, bytes, kind, pinned);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) return cudaSuccess;
    const bool pinned = require_copy(dst, src, bytes, kind, "cudaMemcpy");
    CUstream_st& legacy = device().legacy();
    if (kind == cudaMemcpyHostToDevice && !pinned) {
        // The legacy stream's work first; returns once the source is staged, the copy still queued.
        host_wait(&legacy, legacy.queued);
        auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
        enqueue(nullptr, "cudaMemcpy", [=] { std::memcpy(dst, staged->data(), bytes); });
        return cudaSuccess;
    }
    enqueue_copy(nullptr, "cudaMemcpy", dst, src, bytes, kind, pinned);
    if (kind != cudaMemcpyDeviceToDevice) host_wait(&legacy, legacy.queued);  // returns when done
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
    if (flags != cudaStreamNonBlocking) throw device_fault("cudaStreamCreateWithFlags: only non-blocking streams are emulated");
    auto q = std::make_unique<CUstream_st>();
    q->id = device().next_id++;
    *s = q.get();
    device().streams[q->id] = std::move(q);
    return cudaSuccess;
}

// Returns at once; the stream's queued work still runs (at the next synchronisation that reaches it).
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    CUstream_st* s = nullptr;
    try {
        s = resolve(stream);
    } catch (const device_fault&) {
        return fail(cudaErrorInvalidResourceHandle);
    }
    if (s->id == 0) return fail(cudaErrorInvalidResourceHandle);
    s->destroyed = true;
    if (s->done == s->queued) device().streams.erase(s->id);
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    CUstream_st* s = resolve(stream);
    host_wait(s, s->queued);
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
    const std::uint64_t id = s->id, position = s->queued + 1;
    e->recorded = true;
    e->stream = id;
    e->position = position;
    enqueue(stream, "cudaEventRecord", [e, id, position] {
        if (device().events.count(e) && e->stream == id && e->position == position) e->seconds = now_seconds();
    });
    return cudaSuccess;
}

namespace {
// Whether the event's last record has run: a stream that is gone has run all its work.
bool event_done(const CUevent_st* e) {
    const CUstream_st* s = e->recorded ? stream_by_id(e->stream) : nullptr;
    return s == nullptr || s->done >= e->position;
}
}  // namespace

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    if (!device().events.count(e)) return fail(cudaErrorInvalidResourceHandle);
    if (CUstream_st* s = e->recorded ? stream_by_id(e->stream) : nullptr) host_wait(s, e->position);
    return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t e, unsigned int) {
    if (!device().events.count(e)) return fail(cudaErrorInvalidResourceHandle);
    if (!e->recorded) return cudaSuccess;  // nothing to wait for
    const std::uint64_t on = e->stream, position = e->position;
    enqueue(stream, "cudaStreamWaitEvent", [on, position] {
        if (CUstream_st* s = stream_by_id(on)) run_until(s, position);
    });
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!device().events.count(start) || !device().events.count(end)) return fail(cudaErrorInvalidResourceHandle);
    if (!start->timing || !end->timing || !start->recorded || !end->recorded) return fail(cudaErrorInvalidResourceHandle);
    if (!event_done(start) || !event_done(end)) return fail(cudaErrorNotReady);
    *ms = float((end->seconds - start->seconds) * 1e3);
    return cudaSuccess;
}

}  // extern "C"
