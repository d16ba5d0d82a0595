#!/usr/bin/env bash
# Vogels & Abbott (2005) COBA (examples/vogels_abbott.toml: 4000 LIF, conductance synapses, a 50 ms
# generator kick, dt = 0.1 ms) on ifsim's CPU backend and in Brian2 (cpp_standalone, OpenMP,
# bench/brian2_vogels_abbott.py), same threads, one run per seed and engine, one at a time (OpenMP
# runs side by side on few cores slow each other down by orders of magnitude). Rates and the pooled
# ISI CV of E over [200 ms, end), after the kick. Writes
# bench/results/<date>-cpu-<machine>-vogels-abbott.md and prints it. Measures; asserts nothing.
#
# Environment: MACHINE_LABEL (default <distribution>-<cores>core), BUILD_DIR (default build-bench),
#   THREADS (default nproc), SEEDS (default "1 2 3"), DURATION_MS (default 2000).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh" va
read -r -a seeds <<<"${SEEDS:-1 2 3}"
duration=${DURATION_MS:-2000}
config=$root/examples/vogels_abbott.toml
out_md=$root/bench/results/$(date +%F)-cpu-$machine-vogels-abbott.md
build_target ifsim
export OMP_NUM_THREADS=$threads
# The hardware floor's denominator (bench/README.md), measured before the runs.
bandwidth=$(copy_bandwidth_GB_s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

rows=()
for seed in "${seeds[@]}"; do
    echo "ifsim seed $seed" >&2
    "$build/tools/ifsim" run "$config" --backend cpu --threads "$threads" --quiet --out "$work/ifsim$seed" \
        --set "simulation.seed=$seed" --set "simulation.duration=${duration}ms" >/dev/null
    rows+=("$("$python" - "$work/ifsim$seed" "$seed" "$bandwidth" <<'PY'
import json, sys
import h5py, numpy as np
out, seed, bandwidth = sys.argv[1], sys.argv[2], float(sys.argv[3]) * 1e9
s = json.load(open(f"{out}/summary.json"))
f = h5py.File(f"{out}/spikes.h5")
rates, cv = [], float("nan")
for name, n in (("E", 3200), ("I", 800)):
    t, i = f["spikes"][name]["timestamps"][:], f["spikes"][name]["node_ids"][:]
    late = t >= 200.0
    rates.append(late.sum() / (n * (s["simulated_ms"] - 200.0) * 1e-3))
    if name == "E":
        isi = np.concatenate([np.diff(np.sort(t[late & (i == k)])) for k in range(n)])
        cv = isi.std() / isi.mean()
floor = s["least_bytes_moved"] / bandwidth
print(f"| ifsim | {seed} | {s['wall_s']:.3f} | {s['real_time_factor']:.4g} | {rates[0]:.2f} | {rates[1]:.2f} | {cv:.2f} | "
      f"{floor:.3g} | {floor / s['wall_s']:.3g} |")
PY
)")
    echo "brian2 seed $seed (compiles, ~1 min)" >&2
    line=$(cd "$work" && "$python" "$root/bench/brian2_vogels_abbott.py" --config "$config" --seeds "$seed" \
               --threads "$threads" --duration-ms "$duration" 2>"$work/brian2_$seed.err") ||
        { tail -20 "$work/brian2_$seed.err" >&2; exit 1; }
    IFS=, read -r _ _ _ _ wall rtf rate_E rate_I cv <<<"$line"
    rows+=("| brian2 | $seed | $wall | $rtf | $rate_E | $rate_I | $cv | - | - |")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
brian_version=$("$python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null || echo "?")

{
  echo "# Vogels-Abbott COBA on the CPU: ifsim vs Brian2, $(date +%F), $machine"
  echo
  provenance vogels_abbott_vs_brian2.sh " each"
  echo "Load average before: $load_before; after: $load_after. Brian2 $brian_version (cpp_standalone, OpenMP, exponential Euler)."
  echo
  echo "Network: \`examples/vogels_abbott.toml\`, ${duration} ms simulated, every spike recorded; the seed"
  echo "draws ifsim's connectivity and initial V, and Brian2's (another realisation of the same network)."
  echo "Rates and the pooled ISI CV of E over [200 ms, end). wall_s: the simulation loop only (ifsim's"
  echo "summary.json, Brian2's last_run_info.txt); network build and compilation excluded. floor_s:"
  echo "ifsim's least_bytes_moved (summary.json) over the copy bandwidth, $bandwidth GB/s (\`ifsim info"
  echo "--bandwidth\` before the runs); of_floor = floor_s / wall_s (bench/README.md)."
  echo
  echo "| engine | seed | wall_s | real_time_factor | rate_E_Hz | rate_I_Hz | isi_cv_E | floor_s | of_floor |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$out_md"
cat "$out_md"
