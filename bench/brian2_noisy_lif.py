#!/usr/bin/python3
"""The peer run: the uncoupled noisy LIF of bench/cpu_throughput.cpp in Brian2 (cpp_standalone).

Same neuron (C_m 200 pF, g_L 10 nS, E_L -70 mV, V_th -50 mV, V_reset -60 mV, t_ref 2 ms), same drive
(I_e 180 pA, sigma_V 4 mV white noise), same dt, same threads. Prints one CSV line:
brian2,N,steps,threads,wall_s,neuron_steps_per_s,rate_Hz
The wall time is Brian2's own measurement of the run (compilation excluded), over `steps` steps
after a 100-step warm-up run in the same process.
"""
import argparse
import os
import sys
import tempfile

import brian2 as b2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("N", type=int)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    build_dir = tempfile.mkdtemp(prefix="brian2_bench_")
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-O3", "-march=native", "-w"]
    b2.defaultclock.dt = 0.1 * b2.ms

    tau_m = 20 * b2.ms
    sigma_V = 4 * b2.mV
    eqs = """
    dv/dt = (E_L - v + I_e / g_L) / tau_m + sigma_V * sqrt(2 / tau_m) * xi : volt (unless refractory)
    """
    ns = dict(E_L=-70 * b2.mV, g_L=10 * b2.nS, I_e=180 * b2.pA, tau_m=tau_m, sigma_V=sigma_V)
    G = b2.NeuronGroup(args.N, eqs, threshold="v >= -50*mV", reset="v = -60*mV", refractory=2 * b2.ms,
                       method="euler", namespace=ns)
    G.v = "-60*mV + rand() * 10*mV"
    spikes = b2.SpikeMonitor(G, record=False)
    b2.run(100 * b2.defaultclock.dt)          # warm-up
    b2.run(args.steps * b2.defaultclock.dt, profile=False)
    b2.device.build(directory=build_dir, compile=True, run=True, debug=False)

    # Brian2 records each run()'s wall time; the second one is the measured run.
    wall = b2.device._last_run_time
    total_spikes = int(spikes.num_spikes)
    n_steps_total = args.steps + 100
    rate = total_spikes / (args.N * n_steps_total * 0.1e-3)
    print(f"brian2,{args.N},{args.steps},{args.threads},{wall:.4f},{args.N * args.steps / wall:.4g},{rate:.3f}")


if __name__ == "__main__":
    sys.exit(main())
