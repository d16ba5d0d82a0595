#!/usr/bin/env bash
# One call on a lent GPU machine (docs/gpu.md): builds ifsim with the dependency bundle .gpu-deps/
# (made here by tools/gpu-deps.sh), runs every test (the CUDA instances and label gpu too), `ifsim
# compare` on every example, the GPU benchmark and compute-sanitizer, and prints a markdown table
# last. Called as
#   run(command="bash tools/gpu-check.sh", carry=[".gpu-deps"])
# Logs go to $OUT (default out/gpu-check): device.log, build.log, tests.log (tests-host-draws.log:
# failed tests rerun with the synapses drawn on the host), compare.log, bench.log, sanitize.log
# (compute-sanitizer's memcheck and racecheck on a short Brunel run) and the table gpu-check.md;
# the runs' own outputs to a scratch folder, removed at the end. A failing step is recorded and the next one still runs; the exit
# status is non-zero if anything failed. Every step is under `timeout`, and all of it under a
# total budget, so one call fits well inside the device's 10-minute command limit.
#
# Settings (environment), defaults in brackets:
#   IFSIM_GPU_REVISION [git rev-parse here]  IFSIM_GPU_DEPS [.gpu-deps]  IFSIM_GPU_BUILD_DIR [build-gpu]  IFSIM_GPU_CLEAN [0: keep the build
#   dir, an incremental rebuild on a warm machine]  IFSIM_GPU_WITH_CUDA [ON; OFF is the fallback
#   for testing the script where the CUDA library does not build]  IFSIM_GPU_ARCH [90]
#   IFSIM_GPU_GENERATOR [Ninja if ninja is on PATH]  IFSIM_GPU_JOBS [nproc]  IFSIM_GPU_TEST_JOBS [8]
#   IFSIM_GPU_IGNORE_PREFIX ["/usr;/usr/local;/"; empty: ignore nothing]
#   IFSIM_GPU_T_BUILD [240] IFSIM_GPU_T_TESTS [150] IFSIM_GPU_T_COMPARE [150] IFSIM_GPU_T_BENCH [120]
#   IFSIM_GPU_T_TOTAL [500] (seconds)  IFSIM_GPU_DURATION [500ms: compare]
#   IFSIM_GPU_NETWORK_DURATION [1s: the network runs]  IFSIM_GPU_BENCH_ARGS [none: sizes 1e6 1e7 1e8]
#   IFSIM_GPU_EMULATED [0; 1: a dry run of the script where there is no GPU: every step after the
#   build runs ifsim and ifsim_bench_gpu built on the emulated device (docs/gpu.md section 4), the
#   device step does not fail without nvidia-smi, compute-sanitizer is not run, and the table says
#   "dry run" at its top. With small settings, e.g. IFSIM_GPU_DURATION=20ms
#   IFSIM_GPU_NETWORK_DURATION=20ms IFSIM_GPU_BENCH_ARGS="1e4 --steps 20"]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

out=${OUT:-$root/out/gpu-check}
mkdir -p "$out"
# The runs' own outputs (spikes, summaries) go elsewhere: at most 8 files come back from $OUT, and
# they are the logs and the table.
runs=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-runs.XXXXXX")
trap 'rm -rf "$runs"' EXIT
bundle=${IFSIM_GPU_DEPS:-$root/.gpu-deps}
[[ $bundle == /* ]] || bundle=$root/$bundle
build=${IFSIM_GPU_BUILD_DIR:-build-gpu}
with_cuda=${IFSIM_GPU_WITH_CUDA:-ON}
emulated=0; [[ ${IFSIM_GPU_EMULATED:-0} == 1 ]] && emulated=1
arch=${IFSIM_GPU_ARCH:-90}
jobs=${IFSIM_GPU_JOBS:-$(nproc)}
test_jobs=${IFSIM_GPU_TEST_JOBS:-8}
ignore_prefix=${IFSIM_GPU_IGNORE_PREFIX-"/usr;/usr/local;/"}
t_build=${IFSIM_GPU_T_BUILD:-240}
t_tests=${IFSIM_GPU_T_TESTS:-150}
t_compare=${IFSIM_GPU_T_COMPARE:-150}
t_bench=${IFSIM_GPU_T_BENCH:-120}
t_total=${IFSIM_GPU_T_TOTAL:-500}
duration=${IFSIM_GPU_DURATION:-500ms}
network_duration=${IFSIM_GPU_NETWORK_DURATION:-1s}
read -r -a bench_args <<<"${IFSIM_GPU_BENCH_ARGS:-}"

if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
generator=${IFSIM_GPU_GENERATOR:-}
if [[ -z $generator ]]; then
  if command -v ninja >/dev/null; then generator=Ninja; else generator="Unix Makefiles"; fi
fi

device_log=$out/device.log build_log=$out/build.log tests_log=$out/tests.log
compare_log=$out/compare.log bench_log=$out/bench.log table=$out/gpu-check.md
: >"$device_log"; : >"$build_log"; : >"$tests_log"; : >"$compare_log"; : >"$bench_log"

t0=$SECONDS
failed=()          # names of the steps that failed
declare -A result  # step -> one-line result
declare -A took    # step -> seconds
compare_rows=()    # "| example | result |"
network_rows=()    # "| network | backend | ... |" of the network runs
device_name="unknown"
# The device machine's copy of .git can lag behind the working tree it receives: the caller may
# name the commit (IFSIM_GPU_REVISION=$(git rev-parse --short HEAD), expanded here).
if [[ -n ${IFSIM_GPU_REVISION:-} ]]; then
  revision="commit $IFSIM_GPU_REVISION"
elif revision=$(git rev-parse --short HEAD 2>/dev/null); then
  revision="commit $revision"
  git diff --quiet HEAD 2>/dev/null || revision+=" + uncommitted changes"
else
  revision="commit unknown (no .git here)"
fi

# Seconds the next step may take: its cap, cut so that the steps after it keep their minimum
# (reserve) inside the total budget; at least 1.
budget() {  # budget CAP RESERVE
  local left=$((t_total - (SECONDS - t0) - $2))
  local b=$(($1 < left ? $1 : left))
  echo $((b < 1 ? 1 : b))
}
fail() { [[ " ${failed[*]} " == *" $1 "* ]] || failed+=("$1"); }  # each step named once
md_escape() { local s=${1//|/\\|}; echo "${s//$'\n'/ }"; }

write_table() {
  {
    echo "# ifsim GPU check: $(md_escape "$device_name")"
    ((emulated)) && { echo; echo "**dry run on the emulated device (IFSIM_GPU_EMULATED=1): no GPU ran any of it**"; }
    echo
    echo "$(date -u +%Y-%m-%d), $revision, \`tools/gpu-check.sh\`, total $((SECONDS - t0)) s"
    echo
    echo "| step | result | seconds |"
    echo "|---|---|---|"
    local s
    for s in device build tests compare bench sanitize; do
      echo "| $s | $(md_escape "${result[$s]:-not run}") | ${took[$s]:--} |"
    done
    if ((${#compare_rows[@]})); then
      echo
      echo "### ifsim compare (--set simulation.duration=$duration)"
      echo
      echo "| example | result |"
      echo "|---|---|"
      printf '%s\n' "${compare_rows[@]}"
    fi
    if grep -q '^model,' "$bench_log" 2>/dev/null; then
      echo
      echo "### ifsim_bench_gpu ${bench_args[*]:-(1e6 1e7 1e8)}"
      echo
      grep '^# ' "$bench_log" | sed 's/^# //' || true
      echo
      local header
      header=$(grep -m1 '^model,' "$bench_log")
      local ncol
      ncol=$(awk -F, '{print NF}' <<<"$header")
      echo "| ${header//,/ | } |"
      printf '|'; for ((i = 0; i < ncol; i++)); do printf -- '---|'; done; echo
      grep -E '^[a-z_]+,[0-9]' "$bench_log" | grep -v '^model,' | while IFS= read -r line; do
        local escaped=${line//|/\\|}
        echo "| ${escaped//,/ | } |"
      done
    fi
    if ((${#network_rows[@]})); then
      echo
      echo "### Networks, $network_duration simulated: Brunel model A, 12,500 neurons (bench/configs/brunel_bernoulli.toml);"
      echo "### the microcircuit, 77,169 neurons, 3e8 synapses, DC background (examples/microcircuit.toml) and"
      echo "### the published Poisson background (bench/configs/microcircuit_poisson.toml)"
      echo
      echo "| network | backend | device | wall_s | real_time_factor | spikes | synaptic_events_per_s | bytes_per_synapse | network_build_s | floor_s | of_floor |"
      echo "|---|---|---|---|---|---|---|---|---|---|---|"
      printf '%s\n' "${network_rows[@]}"
    fi
    echo
    if ((${#failed[@]})); then echo "**failed: ${failed[*]}**"
    elif [[ -z ${result[bench]:-} ]]; then echo "**in progress**"
    else echo "**all steps passed**"; fi
  } >"$table"
}

# (a) The device and the tools. -------------------------------------------------------------------
s=$SECONDS
{
  echo "# gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  uname -srm
  (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || true
  ldd --version 2>&1 | head -1 || true
  echo "nproc $(nproc)"
  for c in nvidia-smi nvcc cmake ctest ninja g++; do echo "$c: $(command -v "$c" || echo absent)"; done
} >>"$device_log" 2>&1
smi_ok=0
if command -v nvidia-smi >/dev/null && timeout -k 5 30 nvidia-smi -L >>"$device_log" 2>&1; then
  smi_ok=1
  device_name=$(timeout 30 nvidia-smi -L 2>/dev/null | head -1 | sed -E 's/^GPU [0-9]+: //; s/ \(UUID.*//' || true)
  timeout -k 5 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem \
    --format=csv >>"$device_log" 2>&1 || true
else
  echo "nvidia-smi -L: failed or absent" >>"$device_log"
  device_name="no GPU (nvidia-smi absent or failing)"
fi
nvcc_version=absent
if command -v nvcc >/dev/null; then
  nvcc --version >>"$device_log" 2>&1 || true
  nvcc_version=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' | head -1 || true)
fi
{
  cmake --version 2>&1 | head -1 || true
  g++ --version 2>&1 | head -1 || true
  [[ $generator == Ninja ]] && echo "ninja $(ninja --version 2>&1)"
  echo "--- bundle $bundle"
  cat "$bundle/MANIFEST.txt" 2>&1 || true
} >>"$device_log" 2>&1
drv=$(timeout 30 nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
glibc=$(ldd --version 2>&1 | head -1 | grep -o '[0-9.]*$' || true)
result[device]="$device_name; driver ${drv:-?}; nvcc ${nvcc_version#release }; glibc ${glibc:-?}"
if ((emulated)); then
  result[device]+="; dry run: the emulated device stands in"
elif ((smi_ok == 0)); then
  fail device
fi
took[device]=$((SECONDS - s))
write_table

# (b) Configure and build with the bundle. --------------------------------------------------------
s=$SECONDS
build_ok=0
# The bundle's symbolic links, should the transfer have lost any.
if [[ -f $bundle/links.txt ]]; then
  while read -r link target; do
    [[ -e $bundle/$link ]] || ln -sfn "$target" "$bundle/$link"
  done <"$bundle/links.txt"
fi
cmake_args=(-S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release
  -DIFSIM_WITH_CUDA="$with_cuda" -DCMAKE_CUDA_ARCHITECTURES="$arch"
  # The emulated device stands in for a GPU where there is none: here only for a dry run.
  -DIFSIM_EMULATED_DEVICE_TESTS="$( ((emulated)) && echo ON || echo OFF)"
  -DCMAKE_PREFIX_PATH="$bundle" -DHDF5_ROOT="$bundle" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON
  -DHDF5_PREFER_PARALLEL=OFF -DHDF5_C_COMPILER_EXECUTABLE="$bundle/no-h5cc"
  # DT_RPATH, not RUNPATH: the build-tree rpath to $bundle/lib then also finds the libraries that
  # libhdf5_serial.so needs (libsz, libcurl, ...), for gtest's test discovery at build time too,
  # without LD_LIBRARY_PATH leaking the bundle's libz/libzstd/libcurl into cmake, nvcc or g++.
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags -Wl,-rpath-link,$bundle/lib")
if [[ -f $build/CMakeCache.txt ]] &&
   { [[ ${IFSIM_GPU_CLEAN:-0} == 1 ]] || ! grep -qx "CMAKE_GENERATOR:INTERNAL=$generator" "$build/CMakeCache.txt"; }; then
  rm -rf "$build"
fi
configure() {  # configure [IGNORE_PREFIX]
  local extra=()
  [[ -n ${1:-} ]] && extra=(-DCMAKE_IGNORE_PREFIX_PATH="$1")
  echo "+ cmake ${cmake_args[*]} ${extra[*]}" >>"$build_log"
  timeout -k 5 "$(budget 120 "$((t_tests / 3 + 30))")" cmake "${cmake_args[@]}" "${extra[@]}" >>"$build_log" 2>&1
}
how=""
if [[ ! -d $bundle/lib ]]; then
  echo "gpu-check: no bundle at $bundle: run tools/gpu-deps.sh on the Debian machine and carry .gpu-deps" | tee -a "$build_log"
  result[build]="FAILED: no bundle at $bundle"
elif configure "$ignore_prefix" ||
     { [[ -n $ignore_prefix ]] && echo "gpu-check: configure failed; once more without CMAKE_IGNORE_PREFIX_PATH" >>"$build_log" &&
       rm -rf "$build" && how=" (configured without CMAKE_IGNORE_PREFIX_PATH)" && configure ""; }; then
  keep_going=(-k); [[ $generator == Ninja ]] && keep_going=(-k 0)
  echo "+ cmake --build $build -j $jobs -- ${keep_going[*]}" >>"$build_log"
  if timeout -k 10 "$(budget "$t_build" "$((t_tests / 3 + 30))")" \
       cmake --build "$build" -j "$jobs" -- "${keep_going[@]}" >>"$build_log" 2>&1; then
    build_ok=1
    result[build]="ok: $generator -j$jobs, CUDA $with_cuda (sm_$arch)$how"
  else
    rc=$?
    ((rc == 124 || rc == 137)) && why="TIMEOUT" || why="FAILED (exit $rc)"
    result[build]="$why: $(grep -m1 -E 'error|Error' "$build_log" | cut -c1-160 || true)$how"
  fi
  if [[ -d $build/kernels ]]; then result[build]+="; CUDA library built"; else result[build]+="; no CUDA library"; fi
else
  result[build]="FAILED: configure, see build.log: $(grep -m1 -A2 'CMake Error' "$build_log" | tr '\n' ' ' | cut -c1-200 || true)"
fi
((build_ok)) || fail build
took[build]=$((SECONDS - s))
echo "gpu-check: build ${result[build]} (${took[build]} s)" >&2
write_table

bundle_ldpath="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# What ifsim itself makes of the device (usable, or why not: the driver, a kernel image for its
# architecture): the first thing to read when the CUDA tests skip.
ifsim=$build/tools/ifsim
((emulated)) && ifsim=$build/tests/ifsim_emulated
if ((build_ok)) && [[ -x $ifsim ]]; then
  info=$(env "LD_LIBRARY_PATH=$bundle_ldpath" timeout 60 "$ifsim" info 2>&1 || true)
  printf 'ifsim info:\n%s\n' "$info" >>"$device_log"
  usable=$(grep -m1 -E '^cuda devices: none usable' <<<"$info" || true)
  [[ -n $usable ]] && result[device]+="; ifsim: ${usable#cuda devices: }"
fi

# (c) The whole test suite. -----------------------------------------------------------------------
s=$SECONDS
if [[ -f $build/CTestTestfile.cmake ]]; then
  test_env=(env "LD_LIBRARY_PATH=$bundle_ldpath")
  if ! "${test_env[@]}" ctest --version >/dev/null 2>&1; then
    echo "gpu-check: ctest does not start with the bundle on LD_LIBRARY_PATH; running without it" \
         "(the tests find the bundle through their RPATH)" >>"$tests_log"
    test_env=()
  fi
  echo "+ ${test_env[*]} ctest --test-dir $build -j$test_jobs --output-on-failure --timeout 120" >>"$tests_log"
  rc=0
  "${test_env[@]}" timeout -k 10 "$(budget "$t_tests" 50)" \
    ctest --test-dir "$build" -j"$test_jobs" --output-on-failure --timeout 120 >>"$tests_log" 2>&1 || rc=$?
  n_pass=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed +[0-9.]+ sec' "$tests_log" || true)
  n_skip=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$tests_log" || true)
  n_fail=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception|Not Run)' "$tests_log" || true)
  # ctest ends with "N% tests passed, M tests failed out of T", or without the middle part when
  # nothing failed and some tests were skipped.
  n_total=$(grep -oE 'tests passed(, [0-9]+ tests? failed)? out of [0-9]+' "$tests_log" | grep -oE '[0-9]+$' | tail -1 || true)
  summary="$n_pass passed, $n_fail failed, $n_skip skipped"
  [[ -n $n_total ]] && summary+=" (of $n_total)"
  if ((rc == 124 || rc == 137)); then summary="TIMEOUT after $((SECONDS - s)) s: $summary so far"; fi
  if ((rc != 0)) || ((n_fail > 0)) || [[ -z $n_total ]]; then
    fail tests
    # Named with how each failed: a timeout is the 120 s limit under -j$test_jobs, not a wrong result.
    gpu_failed=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception|Not Run)' "$tests_log" |
                 sed -E 's/.*Test +#[0-9]+: ([^ ]+).*\*\*\*([A-Za-z ]+[a-z]).*/\1 (\2)/' | head -5 | paste -sd, - | sed 's/,/, /g' || true)
    [[ -n $gpu_failed ]] && summary+="; first failures: $gpu_failed"
  fi
  # Failures once more with the synapses drawn on the host (docs/cuda.md): one that passes then
  # points at the device draws rather than at the run.
  if ((n_fail > 0)) && ((t_total - (SECONDS - t0) > 200)); then
    rerun_log=$out/tests-host-draws.log
    echo "+ IFSIM_SYNAPSE_DRAWS=host ctest --rerun-failed" >"$rerun_log"
    "${test_env[@]}" env IFSIM_SYNAPSE_DRAWS=host timeout -k 10 60 \
      ctest --test-dir "$build" --rerun-failed -j"$test_jobs" --output-on-failure --timeout 60 >>"$rerun_log" 2>&1 || true
    n_host=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed +[0-9.]+ sec' "$rerun_log" || true)
    summary+="; with IFSIM_SYNAPSE_DRAWS=host $n_host of the $n_fail failures pass (tests-host-draws.log)"
  fi
  gpu_skips=$(grep -E '\*\*\*Skipped' "$tests_log" | grep -ciE 'cuda|gpu|compare' || true)
  ((n_skip > 0)) && summary+="; $gpu_skips of the skipped name cuda/gpu/compare"
  result[tests]=$summary
else
  result[tests]="not run: no configured build"
  fail tests
fi
took[tests]=$((SECONDS - s))
echo "gpu-check: tests ${result[tests]} (${took[tests]} s)" >&2
write_table

# (d) ifsim compare on every example. -------------------------------------------------------------
s=$SECONDS
if [[ ! -x $ifsim ]]; then
  result[compare]="not run: $ifsim was not built"
  fail compare
elif ! env "LD_LIBRARY_PATH=$bundle_ldpath" "$ifsim" --help 2>&1 | grep -qE '^ +compare'; then
  result[compare]="not run: this ifsim has no compare (built without the CUDA library)"
  [[ $with_cuda == OFF ]] || fail compare
else
  deadline=$((SECONDS + $(budget "$t_compare" 25)))
  n_same=0 n_ex=0
  for ex in examples/*.toml; do
    name=$(basename "$ex" .toml)
    n_ex=$((n_ex + 1))
    left=$((deadline - SECONDS)); ((left >= 1)) || left=1
    echo "== $ex" >>"$compare_log"
    rc=0
    res=$(env "LD_LIBRARY_PATH=$bundle_ldpath" timeout -k 5 "$left" \
            "$ifsim" compare "$ex" --set "simulation.duration=$duration" 2>&1) || rc=$?
    printf '%s\n(exit %d)\n' "$res" "$rc" >>"$compare_log"
    last=$(tail -n1 <<<"$res")
    if ((rc == 0)) && [[ $last == identical* ]]; then
      n_same=$((n_same + 1))
    elif ((rc == 124 || rc == 137)); then
      last="TIMEOUT (${left} s left of the compare step)"
    elif [[ -z $last ]]; then
      last="exit $rc, no output"
    fi
    # A network that differs: once more with its synapses drawn on the host (docs/cuda.md), to
    # tell a fault of the device draws from one of the run.
    if ((rc != 124 && rc != 137)) && [[ $last != identical* ]] && grep -q '^\[\[projection\]\]' "$ex"; then
      left=$((deadline - SECONDS)); ((left >= 1)) || left=1
      host=$(env "LD_LIBRARY_PATH=$bundle_ldpath" IFSIM_SYNAPSE_DRAWS=host timeout -k 5 "$left" \
               "$ifsim" compare "$ex" --set "simulation.duration=$duration" 2>&1 | tail -n1) || true
      printf '(IFSIM_SYNAPSE_DRAWS=host) %s\n' "$host" >>"$compare_log"
      last+="; with host draws: ${host:-no output}"
    fi
    compare_rows+=("| $name | $(md_escape "$last") |")
  done
  result[compare]="$n_same of $n_ex identical"
  ((n_same == n_ex)) || fail compare
fi
took[compare]=$((SECONDS - s))
echo "gpu-check: compare ${result[compare]} (${took[compare]} s)" >&2
write_table

# (e) The GPU benchmark. --------------------------------------------------------------------------
s=$SECONDS
bench=$build/bench/ifsim_bench_gpu
((emulated)) && bench=$build/tests/ifsim_bench_gpu_emulated
if [[ ! -x $bench ]]; then
  if [[ $with_cuda == OFF ]]; then result[bench]="not run: built without the CUDA library"
  else result[bench]="not run: $bench was not built"; fail bench; fi
else
  echo "+ $bench ${bench_args[*]}" >>"$bench_log"
  rc=0
  env "LD_LIBRARY_PATH=$bundle_ldpath" timeout -k 10 "$(budget "$t_bench" 0)" \
    "$bench" "${bench_args[@]}" >>"$bench_log" 2>&1 || rc=$?
  rows=$(grep -cE '^[a-z_]+,[0-9]+,[0-9]+,' "$bench_log" || true)
  skipped=$(grep -cE '^[a-z_]+,[0-9]+,skipped' "$bench_log" || true)
  if ((rc == 0)); then result[bench]="ok: $rows rows, $skipped skipped"
  elif ((rc == 124 || rc == 137)); then result[bench]="TIMEOUT: $rows rows before it"; fail bench
  else result[bench]="FAILED (exit $rc): $(grep -v '^#' "$bench_log" | tail -n1 | cut -c1-160)"; fail bench; fi
fi
# Networks, 1 s simulated (IFSIM_GPU_NETWORK_DURATION), their summaries: Brunel on both backends, the microcircuit on the GPU
# with both backgrounds, so that the run with the anchors' own background can be set beside them
# (published: real-time factor 0.27 GeNN, 0.39 NEST GPU on an RTX 4090). A GPU row's
# hardware floor is its least_bytes_moved over the copy bandwidth ifsim_bench_gpu measured.
network_rows=()
device_bandwidth=$(grep -m1 -oE 'copy bandwidth [0-9.]+ GB/s' "$bench_log" 2>/dev/null | cut -d' ' -f3 || true)
run_network() {  # run_network NAME CONFIG BACKEND CAP
  local rc=0 json=$runs/$1-$3/summary.json log=$runs/$1-$3.log
  ((t_total - (SECONDS - t0) > 20)) || { network_rows+=("| $1 | $3 | not run: no time left | | | | | | | | |"); return; }
  env "LD_LIBRARY_PATH=$bundle_ldpath" timeout -k 5 "$(budget "$4" 0)" "$ifsim" run "$2" --set "simulation.duration=$network_duration" \
    --backend "$3" --quiet --out "$runs/$1-$3" >"$log" 2>&1 || rc=$?
  cat "$log" >>"$bench_log"
  field() { grep -m1 "\"$1\"" "$json" | sed -E 's/.*: *//; s/,$//; s/"//g'; }
  # A number to 4 digits (summary.json writes all 17); anything else (null, absent) as it is.
  number() { awk -v x="$(field "$1")" 'BEGIN { if (x ~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) printf "%.4g", x; else printf "%s", x }'; }
  if ((rc == 0)) && [[ -f $json ]]; then
    local floor="-" of_floor="-"
    if [[ $3 == cuda && -n $device_bandwidth ]]; then
      read -r floor of_floor < <(awk -v b="$(field least_bytes_moved)" -v bw="$device_bandwidth" -v w="$(field wall_s)" \
        'BEGIN { f = b / (bw * 1e9); printf "%.3g %.3g\n", f, f / w }')
    fi
    network_rows+=("| $1 | $3 | $(field device) | $(number wall_s) | $(number real_time_factor) | $(field spikes) | $(number synaptic_events_per_s) | $(field bytes_per_synapse) | $(number network_build_s) | $floor | $of_floor |")
  else
    local why
    why=$(grep -E '^ifsim: ' "$log" | tail -n1 | cut -c1-160 || true)
    ((rc == 124 || rc == 137)) && why="timeout"
    network_rows+=("| $1 | $3 | exit $rc: $(md_escape "${why:-no message}") | | | | | | | | |")
    if [[ $3 == cuda ]]; then fail bench; fi  # not `&& fail`: its false would end the script (set -e)
  fi
}
if [[ -x $ifsim ]]; then
  run_network brunel bench/configs/brunel_bernoulli.toml cuda 60
  run_network brunel bench/configs/brunel_bernoulli.toml cpu 60
  run_network microcircuit examples/microcircuit.toml cuda 120
  run_network microcircuit_poisson bench/configs/microcircuit_poisson.toml cuda 120
fi
took[bench]=$((SECONDS - s))
echo "gpu-check: bench ${result[bench]} (${took[bench]} s)" >&2

# (f) compute-sanitizer on a short network run: memcheck (out-of-bounds and misaligned accesses,
# leaks) and racecheck (shared-memory hazards, e.g. the update groups' table copy). Brunel's two
# populations are one update group; 20 ms is 200 steps and 13 delivery intervals.
s=$SECONDS
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
              /opt/nvidia/*/compute-sanitizer /opt/nvidia/*/*/compute-sanitizer 2>/dev/null | head -1 || true)
if ((emulated)); then
  result[sanitize]="not run: dry run"
elif [[ ! -x $ifsim ]]; then
  result[sanitize]="not run: $ifsim was not built"
elif [[ -z $sanitizer ]]; then
  result[sanitize]="not run: no compute-sanitizer found"
elif ((t_total - (SECONDS - t0) < 30)); then
  result[sanitize]="not run: no time left"
else
  sanitize_log=$out/sanitize.log
  : >"$sanitize_log"
  result[sanitize]=""
  for tool in memcheck racecheck; do
    rc=0
    echo "+ $sanitizer --tool $tool ifsim run examples/brunel.toml --backend cuda (20 ms)" >>"$sanitize_log"
    env "LD_LIBRARY_PATH=$bundle_ldpath" timeout -k 5 "$(budget 60 0)" "$sanitizer" --tool "$tool" --error-exitcode 3 \
      "$ifsim" run examples/brunel.toml --backend cuda --set simulation.duration=20ms --quiet --out "$runs/sanitize-$tool" \
      >>"$sanitize_log" 2>&1 || rc=$?
    errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$sanitize_log" | tail -1 | grep -oE '[0-9]+$' || true)
    if ((rc == 0)); then result[sanitize]+="$tool ${errors:-?} errors; "
    elif ((rc == 124 || rc == 137)); then result[sanitize]+="$tool TIMEOUT; "
    else result[sanitize]+="$tool FAILED (exit $rc, ${errors:-?} errors); "; fail sanitize; fi
  done
fi
took[sanitize]=$((SECONDS - s))
echo "gpu-check: sanitize ${result[sanitize]} (${took[sanitize]} s)" >&2

# (g) The table, last. ----------------------------------------------------------------------------
write_table
echo
cat "$table"
((${#failed[@]} == 0))
