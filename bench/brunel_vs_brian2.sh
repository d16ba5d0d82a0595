#!/usr/bin/env bash
# Brunel (2000) model A at N = 12,500 (bench/configs/brunel_bernoulli.toml: g = 6, nu_ext = 4
# nu_thr, p = 0.1, 1 s at dt = 0.1 ms, every spike recorded) on ifsim's CPU backend and in Brian2
# (cpp_standalone, OpenMP) with the same threads, RUNS times each, alternating. Writes
# bench/results/<date>-cpu-<machine>-brunel.md and prints it. Measures; asserts nothing.
#
# Environment: MACHINE_LABEL (default <distribution>-<cores>core), BUILD_DIR (default build-bench),
#   THREADS (default nproc), RUNS (default 3), SKIP_BRIAN2=1.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh" brunel
runs=${RUNS:-3}
config=$root/bench/configs/brunel_bernoulli.toml
out_md=$root/bench/results/$(date +%F)-cpu-$machine-brunel.md
build_target ifsim
ifsim=$build/tools/ifsim
export OMP_NUM_THREADS=$threads
# The hardware floor's denominator (bench/README.md), measured before the runs.
bandwidth=$(copy_bandwidth_GB_s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "engine,run,neurons,synapses,wall_s,real_time_factor,rate_Hz,synaptic_events,synaptic_events_per_s,bytes_per_synapse,build_s,floor_s,of_floor" >"$work/runs.csv"
for ((r = 1; r <= runs; ++r)); do
    log "ifsim run $r/$runs"
    "$ifsim" run "$config" --backend cpu --threads "$threads" --quiet --out "$work/ifsim$r" >/dev/null
    "$python" - "$work/ifsim$r/summary.json" "$r" "$bandwidth" >>"$work/runs.csv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rate = s["spikes"] / (s["neurons"] * s["simulated_ms"] * 1e-3)
floor = s["least_bytes_moved"] / (float(sys.argv[3]) * 1e9)
print(f"ifsim,{sys.argv[2]},{s['neurons']},{s['synapses']},{s['wall_s']:.4f},{s['real_time_factor']:.4g},{rate:.3f},"
      f"{s['synaptic_events']},{s['synaptic_events_per_s']:.4g},{s['bytes_per_synapse']:g},{s['network_build_s']:.3f},"
      f"{floor:.3g},{floor / s['wall_s']:.3g}")
PY
    if [[ ${SKIP_BRIAN2:-0} != 1 ]]; then
        log "brian2 run $r/$runs (compiles each time, ~30 s)"
        line=$(cd "$work" && "$python" "$root/bench/brian2_brunel.py" --threads "$threads" 2>"$work/brian2_$r.err") ||
            { tail -20 "$work/brian2_$r.err" >&2; exit 1; }
        IFS=, read -r _ n syn _ _ wall rtf rate ev evs <<<"$line"
        echo "brian2,$r,$n,$syn,$wall,$rtf,$rate,$ev,$evs,,,," >>"$work/runs.csv"
    fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
brian_version=$("$python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null || echo "?")

"$python" - "$work/runs.csv" >"$work/table.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| engine | run | wall_s | real_time_factor | rate_Hz | synaptic_events | synaptic_events_per_s | synapses | bytes_per_synapse | network_build_s | floor_s | of_floor |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['engine']} | {r['run']} | {r['wall_s']} | {r['real_time_factor']} | {r['rate_Hz']} | {r['synaptic_events']} | "
          f"{r['synaptic_events_per_s']} | {r['synapses']} | {r['bytes_per_synapse'] or '-'} | {r['build_s'] or '-'} | "
          f"{r['floor_s'] or '-'} | {r['of_floor'] or '-'} |")
med = {e: statistics.median(float(r['wall_s']) for r in rows if r['engine'] == e) for e in {r['engine'] for r in rows}}
print()
for e in sorted(med):
    print(f"- median wall time {e}: {med[e]:.3f} s per simulated second")
if 'brian2' in med and 'ifsim' in med:
    print(f"- ifsim / Brian2 speed: {med['brian2'] / med['ifsim']:.2f}x")
PY

{
  echo "# Brunel model A on the CPU: ifsim vs Brian2, $(date +%F), $machine"
  echo
  provenance brunel_vs_brian2.sh " each"
  echo "Load average before: $load_before; after: $load_after. Brian2 $brian_version (cpp_standalone, OpenMP, its default flags)."
  echo
  echo "Network: \`bench/configs/brunel_bernoulli.toml\`: 10,000 E + 2,500 I LIF, delta synapses J = 0.1 mV,"
  echo "g = 6, D = 1.5 ms, pairwise Bernoulli p = 0.1, 1000 Poisson inputs at 40 Hz per neuron, dt = 0.1 ms,"
  echo "1 s simulated, every spike recorded. ifsim: float, spikes written to SONATA HDF5 by its writer"
  echo "thread during the run; Brian2: double, spikes kept in memory by a SpikeMonitor. wall_s: the"
  echo "simulation loop only (ifsim's summary.json; Brian2's last_run_info.txt), network build and"
  echo "compilation excluded. Brian2 lets input arriving during refractoriness move v; ifsim drops it"
  echo "(as NEST does), hence slightly different rates. Mean-field rate: 55.8 Hz. floor_s: ifsim's"
  echo "least_bytes_moved (summary.json) over the copy bandwidth, $bandwidth GB/s (\`ifsim info --bandwidth\`"
  echo "before the runs); of_floor = floor_s / wall_s (bench/README.md)."
  echo
  cat "$work/table.md"
} >"$out_md"
cat "$out_md"
