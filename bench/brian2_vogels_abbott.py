#!/usr/bin/python3
"""The peer run of examples/vogels_abbott.toml (Vogels & Abbott 2005, COBA) in Brian2 (cpp_standalone).

The same network, read from the ifsim config: 3200 E + 800 I LIF neurons (C_m 200 pF, g_L 10 nS,
E_L = V_reset = -60 mV, V_th = -50 mV, t_ref 5 ms with v clamped), pairwise-Bernoulli p = 0.02,
exponential conductances 4 nS (tau 5 ms, E_rev 0 mV) and 51 nS (tau 10 ms, E_rev -80 mV), delay
0.2 ms, V uniform in [V_reset, V_th]; the kick is the config's generator (a SpikeGeneratorGroup with
the same times and neurons) through p = 0.01 synapses of 100 nS. Brian2 draws its own
connectivity and initial V (another realisation of the same network) and integrates with
exponential Euler, v checked against threshold on the grid (as ifsim).
Prints one CSV line per seed on stdout:
brian2,seed,sim_ms,threads,wall_s,real_time_factor,rate_E_Hz,rate_I_Hz,cv_E
rates and the pooled ISI CV of E are over [200 ms, end), after the kick. wall_s is Brian2's own
time of the simulation loop (last_run_info.txt). Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import shutil
import sys
import tempfile
import tomllib

import numpy as np
import brian2 as b2


def quantity(text):
    """'4 nS' -> 4 * nS (the units the example uses)."""
    value, unit = text.split()
    return float(value) * getattr(b2, unit)


def run(config, seed, duration_ms, threads, make_jobs):
    build_dir = tempfile.mkdtemp(prefix="brian2_va_")
    b2.device.reinit()
    b2.device.activate()
    b2.start_scope()
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{make_jobs}"]
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(seed)

    pops = {p["name"]: p for p in config["population"]}
    par = pops["E"]["params"]
    ns = dict(C=quantity(par["C_m"]), g_L=quantity(par["g_L"]), E_L=quantity(par["E_L"]),
              V_th=quantity(par["V_th"]), V_r=quantity(par["V_reset"]), E_e=0 * b2.mV, E_i=-80 * b2.mV,
              tau_e=5 * b2.ms, tau_i=10 * b2.ms)
    eqs = """dv/dt = (g_L * (E_L - v) + g_e * (E_e - v) + g_i * (E_i - v)) / C : volt (unless refractory)
             dg_e/dt = -g_e / tau_e : siemens
             dg_i/dt = -g_i / tau_i : siemens"""
    n_E, n_I = pops["E"]["size"], pops["I"]["size"]
    G = b2.NeuronGroup(n_E + n_I, eqs, threshold="v > V_th", reset="v = V_r",
                       refractory=quantity(par["t_ref"]), method="exponential_euler", namespace=ns)
    G.v = "V_r + rand() * (V_th - V_r)"
    E, I = G[:n_E], G[n_E:]
    gen = config["generator"][0]
    kick = b2.SpikeGeneratorGroup(gen["size"], np.array(gen["neurons"]), np.array(gen["times"]) * b2.ms)
    synapses = []
    for pr in config["projection"]:
        src = kick if pr["source"] == "kick" else {"E": E, "I": I}[pr["source"]]
        tgt = {"E": E, "I": I}[pr["target"]]
        var = "g_e" if pr["E_rev"] == "0 mV" else "g_i"
        s = b2.Synapses(src, tgt, on_pre=f"{var} += w", delay=quantity(pr["delay"]),
                        namespace=dict(w=quantity(pr["weight"])))
        rule = pr["rule"]
        if rule.get("autapses", True):
            s.connect(p=rule["pairwise_bernoulli"])
        else:
            s.connect(condition="i != j", p=rule["pairwise_bernoulli"])
        synapses.append(s)
    mon = b2.SpikeMonitor(G)
    # An explicit Network: run()'s magic collection would miss the Synapses held in the list.
    net = b2.Network(G, kick, mon, *synapses)
    net.run(duration_ms * b2.ms)
    b2.device.build(directory=build_dir, compile=True, run=True, debug=False)
    with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
        wall_s, completed = map(float, f.read().split())
    i, t = np.asarray(mon.i), np.asarray(mon.t / b2.ms)
    shutil.rmtree(build_dir, ignore_errors=True)
    if completed != 1.0:
        raise RuntimeError(f"run incomplete (fraction {completed})")
    late = t >= 200.0
    window_s = (duration_ms - 200.0) * 1e-3
    rate_E = np.count_nonzero(late & (i < n_E)) / (n_E * window_s)
    rate_I = np.count_nonzero(late & (i >= n_E)) / (n_I * window_s)
    isis = []
    for k in range(n_E):
        tk = t[late & (i == k)]
        isis.append(np.diff(tk))
    isi = np.concatenate(isis) if isis else np.array([])
    cv = isi.std() / isi.mean() if isi.size > 1 else float("nan")
    return wall_s, rate_E, rate_I, cv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "examples", "vogels_abbott.toml"))
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--make-jobs", type=int, default=2)
    args = ap.parse_args()
    if args.duration_ms <= 200.0:
        ap.error("--duration-ms must exceed 200 (rates are measured after 200 ms)")
    with open(args.config, "rb") as f:
        config = tomllib.load(f)
    for seed in args.seeds:
        wall_s, rate_E, rate_I, cv = run(config, seed, args.duration_ms, args.threads, args.make_jobs)
        print(f"brian2,{seed},{args.duration_ms:g},{args.threads},{wall_s:.4f},"
              f"{wall_s / (args.duration_ms * 1e-3):.4g},{rate_E:.3f},{rate_I:.3f},{cv:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
