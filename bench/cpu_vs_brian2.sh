#!/usr/bin/env bash
# ifsim's CPU backend on the uncoupled noisy population (all five models, N = 1e5 and 1e6), and
# Brian2 (cpp_standalone, OpenMP) on the same noisy LIF with the same threads and steps. Writes
# bench/results/<date>-cpu-<machine>-noisy-populations.md and prints it. Measures; asserts nothing.
#
# Usage: bench/cpu_vs_brian2.sh
# Environment: MACHINE_LABEL (default: <distribution>-<cores>core), BUILD_DIR (default: build-bench),
#   TARGET_S (seconds each timed run should last, default 2.5), THREADS (default: nproc),
#   SIZES (default "1e5 1e6"), SKIP_BRIAN2=1 to leave Brian2 out.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh" cpu_vs_brian2
target_s=${TARGET_S:-2.5}
sizes=${SIZES:-"1e5 1e6"}
models="lif eif qif alif adex"
out_md=$root/bench/results/$(date +%F)-cpu-$machine-noisy-populations.md

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)

# (a) Build the benchmark (Release) if it is missing or stale; never more than 2 jobs.
build_target ifsim_bench_cpu
bench=$build/bench/ifsim_bench_cpu
[[ -x $bench ]] || { log "cpu_vs_brian2: no executable at $bench"; exit 1; }
export OMP_NUM_THREADS=$threads

# The copy-bandwidth and host-code lines, as the benchmark prints them (only its non-CSV mode does).
header=$("$bench" 1000 --steps 100 --models lif)
bw_line=$(grep '^# copy bandwidth' <<<"$header" | sed 's/^# //')
host_isa=$(sed -n 's/^# host code: //p' <<<"$header")
log "ifsim: $bw_line"

# (b) Calibrate: 100 steps per model and N, then choose steps (a multiple of 100, >= 500) so that
# each timed run lasts about target_s.
log "ifsim: calibrating ($sizes, 100 steps)"
# shellcheck disable=SC2086
"$bench" $sizes --steps 100 --csv >"$work/calib.csv"
steps_for() {  # "model ..." N -> steps enough for the slowest of them
    awk -F, -v ms=" $1 " -v n="$2" -v t="$target_s" '
        index(ms, " " $1 " ") && $2 == n+0 { s = int(t * $6 / $2 / 100 + 1) * 100; if (s > best) best = s }
        END { if (best < 500) best = 500; print best }' "$work/calib.csv"
}

echo "model,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,floor_neuron_steps_per_s" \
    >"$work/ifsim.csv"
# lif and alif calibrate and run together (one warm machine state for the two cheapest models).
for group in "lif alif" eif qif adex; do
    sel=${group// /,}
    for n in $sizes; do
        nn=$(awk -v n="$n" 'BEGIN { printf "%d", n }')
        s=$(steps_for "$group" "$nn")
        log "ifsim: $group N=$nn steps=$s"
        "$bench" "$nn" --steps "$s" --models "$sel" --csv |
            awk -F, -v ms=" $group " 'NR > 1 && index(ms, " " $1 " ")' >>"$work/ifsim.csv"
    done
done
for m in $models; do
    for n in $sizes; do
        nn=$(awk -v n="$n" 'BEGIN { printf "%d", n }')
        grep -q "^$m,$nn," "$work/ifsim.csv" || { log "cpu_vs_brian2: no ifsim row for $m N=$nn"; exit 1; }
    done
done

# (d) ifsim's LIF with the Brownian bridge off (threshold on the grid only, as Brian2), where the
# benchmark has the option.
echo "model,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz,bytes_per_neuron_step,floor_neuron_steps_per_s" \
    >"$work/nobridge.csv"
if grep -q -- '--no-bridge' "$root/bench/cpu_throughput.cpp"; then
    for n in $sizes; do
        nn=$(awk -v n="$n" 'BEGIN { printf "%d", n }')
        s=$(awk -F, -v n="$nn" '$1 == "lif" && $2 == n { print $3 }' "$work/ifsim.csv")
        log "ifsim: lif --no-bridge N=$nn steps=$s"
        "$bench" "$nn" --steps "$s" --models lif --no-bridge --csv | awk -F, 'NR > 1 && $1 == "lif"' \
            >>"$work/nobridge.csv"
    done
fi

# (c) Brian2 on the noisy LIF, same N, steps and threads as ifsim's LIF rows.
echo "engine,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz" >"$work/brian2.csv"
brian2_version=n/a
if [[ ${SKIP_BRIAN2:-0} != 1 ]]; then
    brian2_version=$(cd "$work" && "$python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null) || {
        log "cpu_vs_brian2: Brian2 not importable by $python; leaving it out"; brian2_version=n/a; }
fi
if [[ $brian2_version != n/a ]]; then
    for n in $sizes; do
        nn=$(awk -v n="$n" 'BEGIN { printf "%d", n }')
        s=$(awk -F, -v n="$nn" '$1 == "lif" && $2 == n { print $3 }' "$work/ifsim.csv")
        log "brian2: lif N=$nn steps=$s threads=$threads (compiling, then running)"
        # Run from $work: Brian2 must not pick up anything from the repository's directory.
        if (cd "$work" && "$python" "$root/bench/brian2_noisy_lif.py" "$nn" --steps "$s" --threads "$threads" \
                >"$work/brian2_$nn.out" 2>"$work/brian2_$nn.err"); then
            grep '^brian2,' "$work/brian2_$nn.out" >>"$work/brian2.csv"
        else
            log "cpu_vs_brian2: Brian2 failed at N=$nn:"; grep -v Warning "$work/brian2_$nn.err" | tail -20 >&2
        fi
    done
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - t_start))

# (e) The markdown table.
cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc --all)
compiler=$(grep -m1 '^CMAKE_CXX_COMPILER:' "$build/CMakeCache.txt" | cut -d= -f2-)
compiler_version=$("$compiler" --version 2>/dev/null | head -1 || echo "$compiler")
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no -- . ':!bench/results' 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
mkdir -p "$(dirname "$out_md")"
"$python" - "$work/ifsim.csv" "$work/brian2.csv" "$work/nobridge.csv" >"$out_md" <<EOF
import csv, math, sys

order = "$models".split()
ifsim = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: (order.index(r["model"]), int(r["N"])))
brian = list(csv.DictReader(open(sys.argv[2])))
nobridge = list(csv.DictReader(open(sys.argv[3])))
dt_s = 1e-4

def siegert_Hz():
    # Siegert rate of the noisy LIF regime (tau_m 20 ms, t_ref 2 ms, mu = -52 mV, sigma_V 4 mV,
    # V_th -50, V_reset -60): 1/r = t_ref + tau_m sqrt(pi) Int_{y_r}^{y_th} erfcx(-u) du,
    # y = (V - mu) / (sqrt(2) sigma_V).
    try:
        from scipy.integrate import quad
        from scipy.special import erfcx
    except ImportError:
        return float("nan")
    s = math.sqrt(2) * 4.0
    integral = quad(lambda u: erfcx(-u), (-60 + 52) / s, (-50 + 52) / s)[0]
    return 1 / (2e-3 + 20e-3 * math.sqrt(math.pi) * integral)

def g(x):  # 3 significant digits, 1.23e8 rather than 1.23e+08
    x = float(x)
    if x == 0 or 1e-2 <= abs(x) < 1e4:
        return f"{x:.3g}"
    m, e = f"{x:.2e}".split("e")
    return f"{m}e{int(e)}"

def size(n):  # 100000 -> 1e5
    m, e = f"{n:.0e}".split("e")
    return f"{m}e{int(e)}" if n >= 10000 else str(n)

print("# ifsim CPU vs Brian2: uncoupled noisy populations")
print()
print("Written by \`bench/cpu_vs_brian2.sh\`; see bench/README.md for how to read it.")
print()
print("| | |")
print("|---|---|")
print("| date | $(date '+%F %H:%M %Z') |")
print("| machine | $machine: $cpu_model, $cores logical cores |")
print("| threads used | $threads (OpenMP, both engines) |")
print("| $bw_line | floor = copy bandwidth / bytes per neuron-step |")
print("| ifsim | commit $commit$dirty, $compiler_version, Release, $host_isa, single precision, dt 0.1 ms |")
print("| Brian2 | $brian2_version, cpp_standalone + OpenMP, double precision, Euler-Maruyama, dt 0.1 ms |")
print("| load average (1/5/15 min) | before $load_before, after $load_after |")
print("| script wall time | ${elapsed} s |")
print()
print("## ifsim, all models (white noise sigma_V 4 mV)")
print()
print("| model | N | steps | wall s | neuron-steps/s | real-time factor | rate Hz | B/neuron-step | floor neuron-steps/s | of floor |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in ifsim:
    n, steps, wall = int(r["N"]), int(r["steps"]), float(r["wall_s"])
    nsps, floor = float(r["neuron_steps_per_s"]), float(r["floor_neuron_steps_per_s"])
    rtf = wall / (steps * dt_s)  # as docs/output.md: wall / simulated, < 1 is faster than real time
    print(f"| {r['model']} | {size(n)} | {steps} | {wall:.2f} | {g(nsps)} | {g(rtf)} | {float(r['rate_Hz']):.2f} "
          f"| {r['bytes_per_neuron_step']} | {g(floor)} | {nsps / floor:.1%} |")
print()
print("## Noisy LIF: ifsim vs Brian2 (same N, steps, threads)")
print()
siegert = siegert_Hz()
print("| N | steps | ifsim neuron-steps/s | Brian2 neuron-steps/s | speedup ifsim/Brian2 | ifsim rate Hz | Brian2 rate Hz | Brian2/ifsim rate |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for b in brian:
    n = int(b["N"])
    i = next((r for r in ifsim if r["model"] == "lif" and int(r["N"]) == n), None)
    if i is None:
        continue
    bi, bb = float(i["neuron_steps_per_s"]), float(b["neuron_steps_per_s"])
    ri, rb = float(i["rate_Hz"]), float(b["rate_Hz"])
    print(f"| {size(n)} | {b['steps']} | {g(bi)} | {g(bb)} | {bi / bb:.1f}x | {ri:.2f} | {rb:.2f} | {rb / ri:.3f} |")
if not brian:
    print("| (Brian2 not run) | | | | | | | |")
if nobridge:
    print()
    print("Same discretisation as Brian2: ifsim's LIF with the Brownian bridge off (\`--no-bridge\`, "
          "threshold checked on the grid only).")
    print()
    print("| N | steps | ifsim bridge-off neuron-steps/s | Brian2 neuron-steps/s | speedup ifsim/Brian2 | ifsim bridge-off rate Hz | Brian2 rate Hz | Brian2/ifsim rate |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i in nobridge:
        n = int(i["N"])
        b = next((r for r in brian if int(r["N"]) == n), None)
        bi, ri = float(i["neuron_steps_per_s"]), float(i["rate_Hz"])
        if b is None:
            print(f"| {size(n)} | {i['steps']} | {g(bi)} | | | {ri:.2f} | | |")
            continue
        bb, rb = float(b["neuron_steps_per_s"]), float(b["rate_Hz"])
        print(f"| {size(n)} | {i['steps']} | {g(bi)} | {g(bb)} | {bi / bb:.1f}x | {ri:.2f} | {rb:.2f} | {rb / ri:.3f} |")
print()
print("Notes")
print()
print(f"- Siegert (diffusion-limit) rate of this LIF regime: {siegert:.2f} Hz. ifsim by default checks for "
      "threshold crossings between grid points (Brownian bridge) and advances V with the exact OU "
      "update, so it is the more accurate of the two; Brian2's Euler-Maruyama with threshold checked "
      "only on the grid misses crossings between grid points and fires a few % lower at dt = 0.1 ms.")
print("- Rates count the timed steps only, after a 100-step warm-up from V uniform in [-60, -50] mV; "
      "the remaining start-up transient (tau_m = 20 ms) is a small part of runs of several hundred ms.")
print("- Work differs: ifsim runs single precision, Brian2 its default double precision (twice the "
      "state bytes) with a SpikeMonitor counting spikes; both keep a spike list each step.")
print("- Brian2's wall time is its own omp_get_wtime measurement of the timed run's loop "
      "(results/last_run_info.txt); compilation, start-up and the warm-up run are excluded. ifsim's "
      "is steady_clock around its advance() calls, likewise after a 100-step warm-up.")
print("- Each ifsim row's floor uses the copy bandwidth its own invocation measured (best of 5 "
      "copies of 256 MiB); on a shared VM it varies between rows. The header line is from a "
      "separate first invocation.")
print("- The other models' rates are reported, not checked: w starts at 0 and V uniform, and their "
      "start-up transients outlast the warm-up, so their rates move with the number of steps "
      "(compare qif/alif at 1e5 vs 1e6, which ran different step counts).")
print("- Both engines synchronise threads every step; on a shared machine another busy process "
      "inflates both badly (see the load averages above).")
EOF
cat "$out_md"
log "cpu_vs_brian2: wrote $out_md (${elapsed} s)"
