// How much memory this process can still get: the least of the machine's free memory, its control
// group's limit (a Slurm job's, a container's) and its address-space limit (ulimit -v), each less
// what is already used. A cluster node's MemAvailable says nothing of the job's share of it.
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "ifsim/network.hpp"

namespace ifsim {

namespace {

// The number after `key` in a "key value [kB]" file (/proc/meminfo, /proc/self/status), in bytes.
std::optional<std::uint64_t> kib_field(const char* file, const std::string& key) {
    std::ifstream f(file);
    std::string line;
    while (std::getline(f, line)) {
        if (!line.starts_with(key)) continue;
        std::istringstream fields(line.substr(key.size()));
        std::uint64_t kib = 0;
        if (fields >> kib) return kib * 1024;
    }
    return std::nullopt;
}

// A cgroup file's single number; none for "max", a missing file, or "no limit" (v1 writes a
// number near 2^63).
std::optional<std::uint64_t> cgroup_number(const std::string& file) {
    std::ifstream f(file);
    std::uint64_t v = 0;
    if (!(f >> v) || v >= (std::uint64_t{1} << 60)) return std::nullopt;
    return v;
}

// Limit less usage of this process's memory cgroup: v2 (memory.max) or v1 (memory.limit_in_bytes),
// at its own path or, inside a container that mounts only its own group, at the mount's root.
std::optional<std::uint64_t> cgroup_room() {
    std::ifstream f("/proc/self/cgroup");
    std::string line;
    while (std::getline(f, line)) {
        const auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        const bool v2 = controllers.empty(), v1 = controllers.find("memory") != std::string::npos;
        if (!v2 && !v1) continue;
        const std::string root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        const char* limit_file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
        const char* usage_file = v2 ? "/memory.current" : "/memory.usage_in_bytes";
        for (const std::string& dir : {root + (path == "/" ? "" : path), root}) {
            const auto limit = cgroup_number(dir + limit_file), used = cgroup_number(dir + usage_file);
            if (limit && used) return *limit > *used ? *limit - *used : 0;
            if (limit) return limit;
        }
    }
    return std::nullopt;
}

// ulimit -v less the address space already mapped.
std::optional<std::uint64_t> address_space_room() {
    rlimit r{};
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return std::nullopt;
    const std::uint64_t mapped = kib_field("/proc/self/status", "VmSize:").value_or(0);
    return r.rlim_cur > mapped ? std::uint64_t(r.rlim_cur) - mapped : 1;  // 1: none left, yet known
}

}  // namespace

std::uint64_t available_memory() {
    std::uint64_t least = 0;  // 0: unknown
    for (const auto room : {kib_field("/proc/meminfo", "MemAvailable:"), cgroup_room(), address_space_room()})
        if (room) least = least == 0 ? std::max<std::uint64_t>(*room, 1) : std::min(least, std::max<std::uint64_t>(*room, 1));
    return least;
}

}  // namespace ifsim
