# Sourced by the bench scripts: `. "$(dirname "${BASH_SOURCE[0]}")/common.sh" NAME`. Installs what
# the benchmarks need (tools/setup.sh --bench) and sets
#   root     the repository
#   build    the Release build folder (BUILD_DIR, default build-bench)
#   threads  THREADS, default nproc
#   machine  MACHINE_LABEL, default <distribution>-<cores>core (VM host names are not stable)
#   python   Debian's python3, where python3-brian lives (not a pyenv python)
#   work     a scratch folder ifsim_NAME.XXXXXX, removed on exit
# and defines log (to stderr), build_target TARGET, copy_bandwidth_GB_s and provenance.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
threads=${THREADS:-$(nproc)}
machine=${MACHINE_LABEL:-$(. /etc/os-release 2>/dev/null; echo "${ID:-linux}")-$(nproc --all)core}
python=/usr/bin/python3
"$root/tools/setup.sh" --bench
work=$(mktemp -d "${TMPDIR:-/tmp}/ifsim_$1.XXXXXX")
trap 'rm -rf "$work"' EXIT
log() { printf '%s\n' "$*" >&2; }

# Configures $build (Release) if it has never been, then builds TARGET with at most 2 jobs.
build_target() {
    if [[ ! -f $build/CMakeCache.txt ]]; then
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 ||
            { cat "$work/cmake.log" >&2; exit 1; }
    fi
    cmake --build "$build" -j2 --target "$1" >"$work/build.log" 2>&1 ||
        { tail -40 "$work/build.log" >&2; log "building $1 failed"; exit 1; }
}

# The host's copy bandwidth in GB/s, as `ifsim info --bandwidth` measures it (needs target ifsim):
# the hardware floor's denominator (bench/README.md).
copy_bandwidth_GB_s() {
    "$build/tools/ifsim" info --bandwidth | sed -n 's/^cpu copy bandwidth: \([0-9.]*\) GB\/s.*/\1/p'
}

# The lines under a result's title: the script and commit, the machine and threads (SUFFIX after
# "N threads"), and ifsim's build as `ifsim info` prints it (type, compiler, host instruction set).
provenance() {  # SCRIPT [SUFFIX]
    echo "\`bench/$1\` (commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))."
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc --all) cores; $threads threads${2:-}."
    echo "ifsim build: $("$build/tools/ifsim" info | sed -n 's/^build: *//p')."
}
