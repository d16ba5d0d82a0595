"""The peer run: examples/microcircuit.toml (Potjans & Diesmann 2014, full scale) in NEST 3.

Reads ifsim's config and builds the same network in NEST, so the two cannot drift apart:
iaf_psc_exp neurons (tau_m = C_m / g_L; NEST integrates the LIF with exponential current synapses
exactly, as ifsim does), the same background: DC (I_e), or Poisson input into the exp_current
synapses (input.poisson: a poisson_generator of rate x count per population, all-to-all, which
sends each target its own train, as NEST's microcircuit example does), V_m(0) ~ normal, fixed_total_number
projections with autapses and multapses, normal weights clipped at zero (so that none changes
sign) and normal delays clipped at one step, as ifsim clips and rounds them. Every spike is
recorded (spike_recorder, in memory). Draws differ (NEST's own RNG), so spikes differ; rates
compare in distribution.

Refuses any config outside that subset. Prints one JSON object on stdout:
neurons, synapses, threads, sim_ms, build_s (Create + Connect + Prepare, which sorts the
connections and builds the presynaptic tables), wall_s (Run: the simulation loop), real_time_factor,
rates_Hz (per population). Run with the python of the venv that bench/microcircuit_cpu.sh sets up
(.bench-venv).
"""
import argparse
import json
import os
import re
import sys
import time
import tomllib

# Each unit in the base unit of its quantity (pA, mV, ms, pF, nS, Hz: NEST's).
UNITS = {"pA": 1.0, "nA": 1e3, "mV": 1.0, "ms": 1.0, "s": 1e3, "pF": 1.0, "nF": 1e3, "nS": 1.0, "uS": 1e3,
         "Hz": 1.0, "kHz": 1e3}


def quantity(value, unit):
    """A config value ("87.81 pA" or a bare number in the default unit) in NEST's unit."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([A-Za-z]+)\s*", value)
    if not m or m.group(2) not in UNITS:
        sys.exit(f"nest_microcircuit: cannot read '{value}' (expected a number and one of {sorted(UNITS)})")
    return float(m.group(1)) * UNITS[m.group(2)] / UNITS[unit]


def normal_pair(spec, unit, what):
    """[mean, std] or {mean, std} of a `normal` spec."""
    n = spec.get("normal") if isinstance(spec, dict) else None
    if n is None or len(spec) != 1:
        sys.exit(f"nest_microcircuit: {what} must be a normal distribution here, got {spec!r}")
    mean, std = (n["mean"], n["std"]) if isinstance(n, dict) else n
    return quantity(mean, unit), quantity(std, unit)


def connect_poisson(nest, name, poisson, pop, tau_syn, dt):
    """input.poisson into the exp_current synapses: one generator of the summed rate per population."""
    if poisson.get("synapse") != "exp_current" or quantity(poisson.get("tau_syn", 2.0), "ms") != tau_syn:
        sys.exit(f"nest_microcircuit: population {name}: Poisson input must be exp_current with the tau_syn of "
                 "the population's projections")
    rate = quantity(poisson["rate"], "Hz") * int(poisson["count"])
    generator = nest.Create("poisson_generator", params={"rate": rate})
    nest.Connect(generator, pop, "all_to_all", syn_spec={"weight": quantity(poisson["weight"], "pA"), "delay": dt})


def build(nest, cfg, threads):
    sim = cfg["simulation"]
    dt = quantity(sim["dt"], "ms")
    nest.ResetKernel()
    nest.set(resolution=dt, local_num_threads=threads, rng_seed=int(sim.get("seed", 1)), print_time=False)
    pops = {}
    taus = {p["target"]: quantity(p["tau_syn"], "ms") for p in cfg["projection"]}
    for p in cfg["population"]:
        if p.get("model") != "lif" or set(p.get("input", {})) - {"I_e", "poisson"}:
            sys.exit(f"nest_microcircuit: population {p['name']}: only LIF with a constant I_e or Poisson input "
                     "is supported")
        units = {"C_m": "pF", "g_L": "nS", "E_L": "mV", "V_th": "mV", "V_reset": "mV", "t_ref": "ms"}
        q = {k: quantity(p["params"][k], u) for k, u in units.items()}
        tau_syn = taus.get(p["name"], 1.0)  # without incoming synapses any value will do
        pop = nest.Create("iaf_psc_exp", p["size"], params={
            "C_m": q["C_m"], "tau_m": q["C_m"] / q["g_L"], "E_L": q["E_L"], "V_th": q["V_th"],
            "V_reset": q["V_reset"], "t_ref": q["t_ref"], "tau_syn_ex": tau_syn, "tau_syn_in": tau_syn,
            "I_e": quantity(p.get("input", {}).get("I_e", 0.0), "pA")})
        mean, std = normal_pair(p["init"]["V_m"], "mV", f"population {p['name']} init.V_m")
        pop.V_m = nest.random.normal(mean=mean, std=std)
        if "poisson" in p.get("input", {}):
            connect_poisson(nest, p["name"], p["input"]["poisson"], pop, tau_syn, dt)
        pops[p["name"]] = pop
    # NEST holds at most 2^27 - 2 connections per synapse model and thread; with few threads the
    # microcircuit's 3e8 need several models, so each source population gets its own copy.
    for name in pops:
        nest.CopyModel("static_synapse", f"static_synapse_{name}")
    synapses = 0
    for c in cfg["projection"]:
        what = f"projection {c['source']} -> {c['target']}"
        if c.get("synapse") != "exp_current" or set(c["rule"]) != {"fixed_total"}:
            sys.exit(f"nest_microcircuit: {what}: only fixed_total exp_current projections are supported")
        if quantity(c["tau_syn"], "ms") != taus[c["target"]]:
            sys.exit(f"nest_microcircuit: {what}: all projections onto a population need one tau_syn")
        w_mean, w_std = normal_pair(c["weight"], "pA", f"{what} weight")
        d_mean, d_std = normal_pair(c["delay"], "ms", f"{what} delay")
        w = nest.random.normal(mean=w_mean, std=w_std)
        weight = nest.math.max(w, 0.0) if w_mean > 0 else nest.math.min(w, 0.0)
        delay = nest.math.max(nest.random.normal(mean=d_mean, std=d_std), dt)
        total = int(c["rule"]["fixed_total"])
        nest.Connect(pops[c["source"]], pops[c["target"]],
                     conn_spec={"rule": "fixed_total_number", "N": total,
                                "allow_autapses": True, "allow_multapses": True},
                     syn_spec={"synapse_model": f"static_synapse_{c['source']}", "weight": weight, "delay": delay})
        synapses += total
    recorders = {}
    for name, pop in pops.items():
        recorders[name] = nest.Create("spike_recorder")
        nest.Connect(pop, recorders[name])
    return pops, recorders, synapses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", help="examples/microcircuit.toml")
    ap.add_argument("--duration-ms", type=float, default=1000.0, help="simulated time (default 1000 ms)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="NEST threads (default: all cores)")
    args = ap.parse_args()
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)

    # NEST writes its banner and messages to stdout (C++ and Python): send them to stderr and keep
    # the real stdout for the JSON.
    result = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import nest  # noqa: E402 (after argument errors, which need no NEST)
    nest.verbosity = nest.VerbosityLevel.ERROR

    t0 = time.perf_counter()
    pops, recorders, synapses = build(nest, cfg, args.threads)
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(args.duration_ms)
    t2 = time.perf_counter()
    nest.Cleanup()

    wall = t2 - t1
    rates = {name: recorders[name].n_events / len(pops[name]) / (args.duration_ms * 1e-3) for name in pops}
    print(json.dumps({
        "nest": nest.__version__, "neurons": sum(len(p) for p in pops.values()), "synapses": synapses,
        "connections": nest.num_connections, "threads": args.threads, "sim_ms": args.duration_ms,
        "build_s": t1 - t0, "wall_s": wall, "real_time_factor": wall / (args.duration_ms * 1e-3),
        "rates_Hz": rates}), file=result)


if __name__ == "__main__":
    main()
