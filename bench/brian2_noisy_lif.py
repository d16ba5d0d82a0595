#!/usr/bin/python3
"""The peer run: the uncoupled noisy LIF of bench/cpu_throughput.cpp in Brian2 (cpp_standalone).

Same neuron (C_m 200 pF, g_L 10 nS, E_L -70 mV, V_th -50 mV, V_reset -60 mV, t_ref 2 ms), same drive
(I_e 180 pA, sigma_V 4 mV white noise), same dt (0.1 ms), same threads. Prints one CSV line on stdout:
brian2,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz
wall_s is Brian2's own wall-clock measurement (omp_get_wtime) of the simulation loop of the timed
run only: compilation, process start, initialisation and the 100-step warm-up run before it are
excluded. rate_Hz counts the spikes of the timed run only (the monitor is off during the warm-up),
like ifsim_bench_cpu.

Run with Debian's /usr/bin/python3 (python3-brian 2.5.1), not a pyenv python. Brian2 keeps its
defaults: double precision, Euler-Maruyama, threshold checked on the grid only, and its default
compiler flags (-O3 -ffast-math -march=native). Brian2 notes go to stderr; only the CSV line goes to
stdout.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

import brian2 as b2

WARMUP_STEPS = 100


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("N", type=float, help="number of neurons (1e6 accepted)")
    ap.add_argument("--steps", type=int, default=1000, help="timed steps of 0.1 ms (default 1000)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="OpenMP threads (>= 1; default: all cores)")
    ap.add_argument("--build-dir", default=None,
                    help="standalone project directory (default: a temporary one, removed afterwards)")
    ap.add_argument("--make-jobs", type=int, default=2, help="parallel make jobs for the compile (default 2)")
    args = ap.parse_args()
    n = int(args.N)
    if n < 1 or args.steps < 1:
        ap.error(f"N ({n}) and --steps ({args.steps}) must be >= 1")
    # threads = 0 would switch OpenMP off, and Brian2 then times the run with std::clock (CPU time).
    if args.threads < 1:
        ap.error(f"--threads {args.threads}: must be >= 1 (0 turns OpenMP and the wall-clock timer off)")

    build_dir = args.build_dir or tempfile.mkdtemp(prefix="brian2_bench_")
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{args.make_jobs}"]
    b2.defaultclock.dt = 0.1 * b2.ms

    tau_m = 20 * b2.ms  # C_m / g_L = 200 pF / 10 nS
    eqs = """
    dv/dt = (E_L - v + I_e / g_L) / tau_m + sigma_V * sqrt(2 / tau_m) * xi : volt (unless refractory)
    """
    ns = dict(E_L=-70 * b2.mV, g_L=10 * b2.nS, I_e=180 * b2.pA, tau_m=tau_m, sigma_V=4 * b2.mV)
    G = b2.NeuronGroup(n, eqs, threshold="v >= -50*mV", reset="v = -60*mV", refractory=2 * b2.ms,
                       method="euler", namespace=ns)
    G.v = "-60*mV + rand() * 10*mV"
    spikes = b2.SpikeMonitor(G, record=False)
    spikes.active = False                      # warm-up: first touch, caches; its spikes not counted
    b2.run(WARMUP_STEPS * b2.defaultclock.dt)
    spikes.active = True
    b2.run(args.steps * b2.defaultclock.dt)
    b2.device.build(directory=build_dir, compile=True, run=True, debug=False)

    # The thread count must really reach the generated program.
    with open(os.path.join(build_dir, "main.cpp")) as f:
        main_cpp = f.read()
    set_threads = re.findall(r"omp_set_num_threads\((\d+)\)", main_cpp)
    if set_threads != [str(args.threads)]:
        print(f"brian2_noisy_lif: main.cpp sets OpenMP threads {set_threads}, expected [{args.threads}]",
              file=sys.stderr)
        return 1

    # Network::run writes the wall time of the last run() (the timed one) here; the warm-up run
    # is overwritten. device._last_run_time is read from the same file.
    with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
        wall_s, completed = map(float, f.read().split())
    if completed != 1.0 or wall_s <= 0:
        print(f"brian2_noisy_lif: timed run incomplete (fraction {completed}, wall {wall_s} s)", file=sys.stderr)
        return 1

    total_spikes = int(spikes.num_spikes)
    rate_Hz = total_spikes / (n * args.steps * float(b2.defaultclock.dt))
    if args.build_dir is None:
        shutil.rmtree(build_dir, ignore_errors=True)
    print(f"brian2,{n},{args.steps},{args.threads},{wall_s:.4f},{n * args.steps / wall_s:.4g},{rate_Hz:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
