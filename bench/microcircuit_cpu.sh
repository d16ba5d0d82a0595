#!/usr/bin/env bash
# The Potjans-Diesmann (2014) cortical microcircuit (examples/microcircuit.toml: 77,169 LIF, 3.0e8
# exponential current synapses, normal weights and delays, DC background) on ifsim's CPU backend,
# RUNS times: network build time, wall time per simulated second (real-time factor), synaptic
# events/s, bytes per synapse, peak memory and per-population rates. Writes
# bench/results/<date>-cpu-<machine>-microcircuit.md and prints it. Measures; asserts nothing.
# (No peer beside it yet: NEST 3.10, a PyPI wheel, would be the natural one. The GPU run is in
# tools/gpu-check.sh.)
#
# Environment: MACHINE_LABEL (default <distribution>-<cores>core), BUILD_DIR (default build-bench),
#   THREADS (default nproc), RUNS (default 1; each takes about a minute and a half on 2 cores),
#   DURATION (simulated, default "1 s").
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh" microcircuit
runs=${RUNS:-1}
duration=${DURATION:-1 s}
config=$root/examples/microcircuit.toml
out_md=$root/bench/results/$(date +%F)-cpu-$machine-microcircuit.md
build_target ifsim
export OMP_NUM_THREADS=$threads
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= runs; ++r)); do
    log "ifsim run $r/$runs (builds 3e8 synapses first)"
    /usr/bin/time -f '%M' -o "$work/rss$r" "$build/tools/ifsim" run "$config" --backend cpu --threads "$threads" \
        --set "simulation.duration=$duration" --quiet --out "$work/run$r" >/dev/null
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

"$python" - "$work" "$runs" >"$work/table.md" <<'PY'
import json, sys
work, runs = sys.argv[1], int(sys.argv[2])
print("| run | network_build_s | wall_s | real_time_factor | synaptic_events_per_s | synapses | bytes_per_synapse | peak_RSS_GiB |")
print("|---|---|---|---|---|---|---|---|")
for r in range(1, runs + 1):
    s = json.load(open(f"{work}/run{r}/summary.json"))
    rss = int(open(f"{work}/rss{r}").read().split()[-1]) / 2**20
    print(f"| {r} | {s['network_build_s']:.1f} | {s['wall_s']:.1f} | {s['real_time_factor']:.1f} | "
          f"{s['synaptic_events_per_s']:.3g} | {s['synapses']} | {s['bytes_per_synapse']:g} | {rss:.1f} |")
s = json.load(open(f"{work}/run1/summary.json"))
print()
print("Rates of run 1 over the whole run (Hz): " +
      ", ".join(f"{p['name']} {p['mean_rate_Hz']:.2f}" for p in s["populations"]) + ".")
PY

{
  echo "# The cortical microcircuit on the CPU, $(date +%F), $machine"
  echo
  echo "\`bench/microcircuit_cpu.sh\` (commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc --all) cores; $threads threads."
  echo "Load average before: $load_before; after: $load_after."
  echo
  echo "Network: \`examples/microcircuit.toml\` (Potjans & Diesmann 2014, full scale: 77,169 LIF, 3.0e8"
  echo "exp_current synapses with normal weights and delays, DC background), float, dt = 0.1 ms,"
  echo "$duration simulated from the start (the first ~100 ms are the start-up transient), every spike"
  echo "written to SONATA HDF5. wall_s: the simulation loop (summary.json); network_build_s: drawing"
  echo "and assembling the synapses before it; peak RSS of the whole process."
  echo
  cat "$work/table.md"
} >"$out_md"
cat "$out_md"
