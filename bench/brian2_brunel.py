#!/usr/bin/python3
"""The peer run: bench/configs/brunel_bernoulli.toml (Brunel 2000 model A, g = 6, nu_ext = 4 nu_thr)
in Brian2 (cpp_standalone, OpenMP).

10,000 E + 2,500 I LIF neurons (tau_m 20 ms, theta 20 mV, V_r 10 mV, t_ref 2 ms), delta synapses
J = 0.1 mV and -g J, delay 1.5 ms, pairwise-Bernoulli connectivity p = 0.1, 1000 external Poisson
inputs of J at 40 Hz per neuron (PoissonInput), dt 0.1 ms, all spikes recorded (SpikeMonitor).
Prints one CSV line on stdout:
brian2,neurons,synapses,sim_ms,threads,wall_s,real_time_factor,rate_Hz,synaptic_events,synaptic_events_per_s
wall_s is Brian2's own wall-clock time of the simulation loop (last_run_info.txt): compilation,
process start and the synapse creation are excluded, as ifsim's wall_s excludes its network build.

Differences from ifsim, kept as Brian2 does them by default: spikes and Poisson input arriving
during the refractory period still move v (ifsim discards them), double precision, and the
threshold v > theta is checked on the grid (both). Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import shutil
import sys
import tempfile

import brian2 as b2


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=1000.0, help="simulated time (default 1000 ms)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="OpenMP threads (default: all cores)")
    ap.add_argument("--build-dir", default=None, help="standalone project directory (default: temporary)")
    ap.add_argument("--make-jobs", type=int, default=2, help="parallel make jobs for the compile")
    args = ap.parse_args()
    if args.threads < 1:
        ap.error("--threads must be >= 1")

    build_dir = args.build_dir or tempfile.mkdtemp(prefix="brian2_brunel_")
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{args.make_jobs}"]
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(12345)

    N_E, N_I = 10000, 2500
    J, g, p = 0.1 * b2.mV, 6.0, 0.1
    ns = dict(tau=20 * b2.ms, theta=20 * b2.mV, V_r=10 * b2.mV)
    G = b2.NeuronGroup(N_E + N_I, "dv/dt = -v / tau : volt (unless refractory)", threshold="v > theta",
                       reset="v = V_r", refractory=2 * b2.ms, method="exact", namespace=ns)
    G.v = "rand() * 20*mV"
    exc = b2.Synapses(G[:N_E], G, on_pre="v += J", delay=1.5 * b2.ms, namespace=dict(J=J))
    exc.connect(p=p)
    inh = b2.Synapses(G[N_E:], G, on_pre="v += -g * J", delay=1.5 * b2.ms, namespace=dict(J=J, g=g))
    inh.connect(p=p)
    ext = b2.PoissonInput(G, "v", 1000, 40 * b2.Hz, weight=J)
    spikes = b2.SpikeMonitor(G)
    b2.run(args.duration_ms * b2.ms)
    b2.device.build(directory=build_dir, compile=True, run=True, debug=False)

    with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
        wall_s, completed = map(float, f.read().split())
    if completed != 1.0 or wall_s <= 0:
        print(f"brian2_brunel: run incomplete (fraction {completed}, wall {wall_s} s)", file=sys.stderr)
        return 1
    synapses = len(exc) + len(inh)
    # Events: every spike of an E (I) neuron goes through its row of exc (inh).
    import numpy as np
    i = np.asarray(spikes.i)
    out_exc = np.bincount(np.asarray(exc.i), minlength=N_E)
    out_inh = np.bincount(np.asarray(inh.i), minlength=N_I)
    events = int(out_exc[i[i < N_E]].sum() + out_inh[i[i >= N_E] - N_E].sum())
    rate = len(i) / ((N_E + N_I) * args.duration_ms * 1e-3)
    if args.build_dir is None:
        shutil.rmtree(build_dir, ignore_errors=True)
    print(f"brian2,{N_E + N_I},{synapses},{args.duration_ms:g},{args.threads},{wall_s:.4f},"
          f"{wall_s / (args.duration_ms * 1e-3):.4g},{rate:.3f},{events},{events / wall_s:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
