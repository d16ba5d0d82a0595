// How much memory this process can still get: the least of the machine's free memory, its control
// group's limit (a Slurm job's, a container's) and its address-space limit (ulimit -v), each less
// what is already used. A cluster node's MemAvailable says nothing of the job's share of it.
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "ifsim/memory.hpp"

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
std::optional<std::uint64_t> cgroup_number(const std::filesystem::path& file) {
    std::ifstream f(file);
    std::uint64_t v = 0;
    if (!(f >> v) || v >= (std::uint64_t{1} << 60)) return std::nullopt;
    return v;
}

// A "key value" line's value in a memory.stat file.
std::optional<std::uint64_t> stat_field(const std::filesystem::path& file, const std::string& key) {
    std::ifstream f(file);
    std::string k;
    std::uint64_t v = 0;
    while (f >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

// Limit less use in one cgroup folder; the inactive page cache, which the kernel drops before it
// refuses memory, is not counted as use.
std::uint64_t room_in(std::uint64_t limit, std::uint64_t used, std::uint64_t inactive_file) {
    const std::uint64_t taken = used > inactive_file ? used - inactive_file : 0;
    return limit > taken ? limit - taken : 0;
}

}  // namespace

std::optional<std::uint64_t> cgroup_memory_room(const std::string& cgroup, const std::filesystem::path& root) {
    std::optional<std::uint64_t> least;
    const auto take = [&](std::uint64_t room) { least = least ? std::min(*least, room) : room; };
    std::istringstream lines(cgroup);
    for (std::string line; std::getline(lines, line);) {
        const auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        const std::filesystem::path path = std::filesystem::path(line.substr(b + 1)).relative_path();
        if (controllers.empty()) {
            // v2: the limits of the group and of every parent (a Slurm job's sits above its task's).
            const std::filesystem::path mount = root / "sys/fs/cgroup";
            std::filesystem::path dir = std::filesystem::is_directory(mount / path) ? mount / path : mount;
            for (;; dir = dir.parent_path()) {
                if (const auto limit = cgroup_number(dir / "memory.max"))
                    take(room_in(*limit, cgroup_number(dir / "memory.current").value_or(0),
                                 stat_field(dir / "memory.stat", "inactive_file").value_or(0)));
                if (dir == mount || !dir.has_relative_path()) break;
            }
        } else if (controllers.find("memory") != std::string::npos) {
            // v1: memory.stat's hierarchical limit covers the parents.
            const std::filesystem::path mount = root / "sys/fs/cgroup/memory";
            const std::filesystem::path dir = std::filesystem::is_directory(mount / path) ? mount / path : mount;
            const std::filesystem::path stat = dir / "memory.stat";
            const std::uint64_t limit = stat_field(stat, "hierarchical_memory_limit").value_or(0);
            if (limit > 0 && limit < (std::uint64_t{1} << 60))  // v1 writes "none" as a number near 2^63
                take(room_in(limit, cgroup_number(dir / "memory.usage_in_bytes").value_or(0),
                             stat_field(stat, "total_inactive_file").value_or(0)));
        }
    }
    return least;
}

namespace {

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
    std::ifstream self("/proc/self/cgroup");
    const std::string cgroup((std::istreambuf_iterator<char>(self)), {});
    for (const auto room : {kib_field("/proc/meminfo", "MemAvailable:"), cgroup_memory_room(cgroup, "/"), address_space_room()})
        if (room) least = least == 0 ? std::max<std::uint64_t>(*room, 1) : std::min(least, std::max<std::uint64_t>(*room, 1));
    return least;
}

}  // namespace ifsim
