#!/usr/bin/env bash
# The Potjans-Diesmann (2014) cortical microcircuit (examples/microcircuit.toml: 77,169 LIF, 3.0e8
# exponential current synapses, normal weights and delays, DC background) on ifsim's CPU backend,
# RUNS times: network build time, wall time per simulated second (real-time factor), synaptic
# events/s, bytes per synapse, peak memory and per-population rates; then the same network in
# NEST 3.10 (bench/nest_microcircuit.py), the simulator this model was published with, RUNS times,
# with the same threads. Writes bench/results/<date>-cpu-<machine>-microcircuit.md and prints it.
# Measures; asserts nothing. (The GPU run is in tools/gpu-check.sh.)
#
# Environment: MACHINE_LABEL (default <distribution>-<cores>core), BUILD_DIR (default build-bench),
#   THREADS (default nproc), RUNS (default 1; on 2 cores an ifsim run takes about a minute and a
#   half, a NEST run about 6 minutes and 14 GiB), DURATION_MS (simulated, default 1000),
#   BACKGROUND=poisson (bench/configs/microcircuit_poisson.toml, the published Poisson background,
#   instead of the example's DC one; results file ...-microcircuit-poisson.md), SKIP_NEST=1 (ifsim only).
#   NEST comes from PyPI (nest-simulator==3.10.0) into the venv .bench-venv.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh" microcircuit
runs=${RUNS:-1}
duration_ms=${DURATION_MS:-1000}
if [[ ${BACKGROUND:-dc} == poisson ]]; then
    config=$root/bench/configs/microcircuit_poisson.toml
    network='`bench/configs/microcircuit_poisson.toml`, the published Poisson background (K_ext inputs at 8 Hz of 87.81 pA into the exp_current synapses)'
    suffix=-poisson
else
    config=$root/examples/microcircuit.toml
    network='`examples/microcircuit.toml`, DC background'
    suffix=
fi
out_md=$root/bench/results/$(date +%F)-cpu-$machine-microcircuit$suffix.md
build_target ifsim
export OMP_NUM_THREADS=$threads
# The hardware floor's denominator (bench/README.md), measured before the runs.
bandwidth=$(copy_bandwidth_GB_s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= runs; ++r)); do
    log "ifsim run $r/$runs (builds 3e8 synapses first)"
    /usr/bin/time -f '%M' -o "$work/rss$r" "$build/tools/ifsim" run "$config" --backend cpu --threads "$threads" \
        --set "simulation.duration=$duration_ms ms" --quiet --out "$work/run$r" >/dev/null
done
if [[ ${SKIP_NEST:-0} != 1 ]]; then
    venv=$root/.bench-venv
    [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
    # The NEST the table names, not whatever an older run left in the venv.
    nest_wanted=3.10.0
    nest_found=$("$venv/bin/python" -c 'import nest; print(nest.__version__)' 2>/dev/null | tail -n1 || true)
    if [[ $nest_found != "$nest_wanted" ]]; then
        log "installing NEST $nest_wanted into $venv (found: ${nest_found:-none})"
        "$venv/bin/pip" install --quiet "nest-simulator==$nest_wanted" >&2
    fi
    for ((r = 1; r <= runs; ++r)); do
        log "NEST run $r/$runs (builds the same network first)"
        /usr/bin/time -f '%M' -o "$work/nest_rss$r" "$venv/bin/python" "$root/bench/nest_microcircuit.py" "$config" \
            --threads "$threads" --duration-ms "$duration_ms" >"$work/nest$r.json" 2>"$work/nest$r.log" ||
            { tail -5 "$work/nest$r.log" >&2; log "NEST run $r failed"; exit 1; }
    done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

"$python" - "$work" "$runs" "$bandwidth" >"$work/table.md" <<'PY'
import json, os, sys
work, runs, bandwidth = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) * 1e9
def rss(name):
    return int(open(f"{work}/{name}").read().split()[-1]) / 2**20
print("| engine | run | network_build_s | wall_s | real_time_factor | synaptic_events_per_s | synapses | bytes_per_synapse | peak_RSS_GiB | floor_s | of_floor |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in range(1, runs + 1):
    s = json.load(open(f"{work}/run{r}/summary.json"))
    floor = s["least_bytes_moved"] / bandwidth
    print(f"| ifsim | {r} | {s['network_build_s']:.1f} | {s['wall_s']:.1f} | {s['real_time_factor']:.1f} | "
          f"{s['synaptic_events_per_s']:.3g} | {s['synapses']} | {s['bytes_per_synapse']:g} | {rss(f'rss{r}'):.1f} | "
          f"{floor:.3g} | {floor / s['wall_s']:.3g} |")
nest = [json.load(open(f"{work}/nest{r}.json")) for r in range(1, runs + 1) if os.path.exists(f"{work}/nest{r}.json")]
for r, s in enumerate(nest, 1):
    print(f"| NEST {s['nest']} | {r} | {s['build_s']:.1f} | {s['wall_s']:.1f} | {s['real_time_factor']:.1f} | "
          f"- | {s['synapses']} | - | {rss(f'nest_rss{r}'):.1f} | - | - |")
s = json.load(open(f"{work}/run1/summary.json"))
print()
print("Rates of run 1 over the whole run (Hz), ifsim: " +
      ", ".join(f"{p['name']} {p['mean_rate_Hz']:.2f}" for p in s["populations"]) + ".")
if nest:
    print("NEST: " + ", ".join(f"{k} {v:.2f}" for k, v in nest[0]["rates_Hz"].items()) + ".")
PY

{
  echo "# The cortical microcircuit on the CPU, $(date +%F), $machine"
  echo
  provenance microcircuit_cpu.sh
  echo "Load average before: $load_before; after: $load_after."
  echo
  echo "Network: $network (Potjans & Diesmann 2014, full scale: 77,169 LIF, 3.0e8"
  echo "exp_current synapses with normal weights and delays), float, dt = 0.1 ms,"
  echo "$duration_ms ms simulated from the start (the first ~100 ms are the start-up transient), every spike"
  echo "written to SONATA HDF5. wall_s: the simulation loop (summary.json); network_build_s: drawing"
  echo "and assembling the synapses before it; peak RSS of the whole process. NEST:"
  echo "\`bench/nest_microcircuit.py\` builds the same network from the same config with NEST's own draws"
  echo "(iaf_psc_exp, fixed_total_number, the same clipping), all spikes recorded in memory; its build is"
  echo "Create + Connect + Prepare, its wall time Run. One engine at a time, the same threads. floor_s:"
  echo "ifsim's least_bytes_moved (summary.json) over the copy bandwidth, $bandwidth GB/s (\`ifsim info"
  echo "--bandwidth\` before the runs); of_floor = floor_s / wall_s (bench/README.md)."
  echo
  cat "$work/table.md"
} >"$out_md"
cat "$out_md"
