#!/usr/bin/env python3
"""Plot an ifsim output folder: raster, population rate, recorded traces, and the measured F-I
curve against theory.

    ifsim_plot.py OUTDIR [--png FILE] [--ifsim PATH_TO_IFSIM] [--from T]

Reads OUTDIR/spikes.h5, OUTDIR/summary.json, OUTDIR/config.resolved.toml, the report files (listed
in summary.json "files", or any *.h5 holding /report), and OUTDIR/theory.csv when present and not
older than the run. With --ifsim and no such theory.csv, runs `ifsim theory
OUTDIR/config.resolved.toml` to get the theory (into a temporary file; the output folder is not
modified). Theory is never computed here. --from T (ms) leaves the spikes up to T out of the rates
(the rate panel's means, the F-I points, the rate distribution), as `ifsim stats --from` does.
Files a run left as .part are not read; stderr says why they are there. Layout of the files:
docs/output.md. Needs numpy, matplotlib and h5py (Debian: /usr/bin/python3).
"""

import argparse
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

try:
    import h5py
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as err:  # pragma: no cover - depends on the interpreter
    sys.exit(f"ifsim_plot: {err}; it needs numpy, matplotlib and h5py "
             f"(on Debian run it with /usr/bin/python3)")

MAX_RASTER_NEURONS = 200
MAX_RASTER_SPIKES = 50_000
MAX_TRACES = 4
MAX_TRACE_POINTS = 200_000
BLOCK = 1 << 22  # spikes read per block, to bound memory on big files


class unreadable_file(Exception):
    """A file of the folder that is not what ifsim writes (a truncated or altered file, another
    tool's): its path and what is wrong, said instead of a plot of something else."""


def text(value):
    """An HDF5 string attribute as str (h5py gives str or bytes depending on how it was stored)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def not_json_number(name):
    """json.load's hook for Infinity and NaN, which Python accepts and ifsim never writes (null)."""
    raise ValueError(f"{name} is no JSON number")


# Largest neuron count a summary.json may give a population (2^32 neurons, the config's bound).
MAX_NEURONS = 1 << 32

# summary.json's keys that the plot reads, and the types they must have.
SUMMARY_TYPES = {"status": str, "message": str, "backend": str, "device": str, "neurons": int,
                 "simulated_ms": (int, float), "dt_ms": (int, float), "real_time_factor": (int, float),
                 "files": list, "populations": list}


def load_summary(outdir):
    path = os.path.join(outdir, "summary.json")
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f, parse_constant=not_json_number)
    except (OSError, ValueError) as err:
        raise unreadable_file(f"{path}: not a JSON file ifsim wrote: {err}") from None
    if not isinstance(summary, dict):
        raise unreadable_file(f"{path}: not an object of keys, as ifsim writes")
    for key, kind in SUMMARY_TYPES.items():
        value = summary.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise unreadable_file(f"{path}: \"{key}\" is {json.dumps(value)[:40]}, not what ifsim writes")
    for p in summary.get("populations", []):
        if not (isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("neurons"), int)
                and 0 <= p["neurons"] <= MAX_NEURONS):
            raise unreadable_file(f"{path}: a population without a name and a neuron count: "
                                  f"{json.dumps(p)[:60]}")
    if not all(isinstance(f, str) for f in summary.get("files", [])):
        raise unreadable_file(f"{path}: \"files\" lists other things than file names")
    return summary


def load_config(outdir):
    """config.resolved.toml as a dict; {} where it is absent or unreadable."""
    try:
        import tomllib
        with open(os.path.join(outdir, "config.resolved.toml"), "rb") as f:
            return tomllib.load(f)
    except (ImportError, OSError, ValueError):
        return {}


def quantity(value):
    """A quantity of the resolved config ("100 ms", "-3 pA" or a bare number) in its unit there."""
    return float(str(value).split()[0])


def time_step_ms(summary, config):
    """The run's dt [ms]: summary.json's, else the resolved config's; 0 where neither says."""
    value = summary.get("dt_ms")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    try:
        return quantity(config["simulation"]["dt"])
    except (KeyError, TypeError, ValueError):
        return 0.0


def simulated_ms(summary, spikes):
    value = summary.get("simulated_ms")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    t_max = max((p["t_max"] for p in spikes.values() if p["count"] > 0), default=0.0)
    return t_max if t_max > 0 else 1.0


class population_spikes:
    """Streams one population's spikes in blocks."""

    def __init__(self, group):
        self.timestamps = group["timestamps"]
        self.node_ids = group["node_ids"]
        self.count = int(self.timestamps.shape[0])

    def blocks(self):
        for start in range(0, self.count, BLOCK):
            stop = min(start + BLOCK, self.count)
            yield self.timestamps[start:stop], self.node_ids[start:stop]


def group_sizes(summary, config):
    """Neurons per spike group: the populations' from summary.json, the recorded generators' from
    config.resolved.toml (summary.json counts populations only)."""
    sizes = {p.get("name"): int(p.get("neurons") or 0) for p in summary.get("populations", [])}
    try:
        for g in config.get("generator", []):
            sizes[g["name"]] = int(g["size"])
    except (ValueError, KeyError, TypeError):
        pass
    return sizes


def check_spike_group(path, name, group):
    """A spike group's datasets are SONATA's: timestamps (floating point, ms) and node ids
    (integers), one each per spike."""
    where = f"{path}: /spikes/{name}"
    if not isinstance(group, h5py.Group):
        raise unreadable_file(f"{where} is not a group")
    for key, kinds, what in (("timestamps", "f", "floating-point times"), ("node_ids", "iu", "integer ids")):
        if not isinstance(group.get(key), h5py.Dataset) or group[key].ndim != 1:
            raise unreadable_file(f"{where}/{key} is missing or not a list")
        if group[key].dtype.kind not in kinds:
            raise unreadable_file(f"{where}/{key} holds {group[key].dtype}, not {what}")
    units = text(group["timestamps"].attrs.get("units", "ms"))
    if units != "ms":
        raise unreadable_file(f"{where}/timestamps are in '{units}'; ifsim writes ms")
    if group["timestamps"].shape != group["node_ids"].shape:
        raise unreadable_file(f"{where} has {group['timestamps'].shape[0]} timestamps but "
                              f"{group['node_ids'].shape[0]} node ids")


def scan_spikes(spike_file, sizes):
    """Per spike group: spike count per neuron, t range, and the handle for later passes."""
    result = {}
    if spike_file is None or "spikes" not in spike_file:
        return result
    if not isinstance(spike_file["spikes"], h5py.Group):
        raise unreadable_file(f"{spike_file.filename}: /spikes is not a group")
    for name, group in spike_file["spikes"].items():
        check_spike_group(spike_file.filename, name, group)
        stream = population_spikes(group)
        n = sizes.get(name, 0)
        counts = np.zeros(n, dtype=np.int64)
        t_min, t_max = math.inf, 0.0
        for t, ids in stream.blocks():
            if len(ids) == 0:
                continue
            where = f"{spike_file.filename}: /spikes/{name}"
            if not (np.isfinite(t).all() and t.min() >= 0):
                bad = t[~(np.isfinite(t) & (t >= 0))][0]
                raise unreadable_file(f"{where} has a spike at {bad:g} ms: no run writes one there")
            if ids.min() < 0 or (n > 0 and ids.max() >= n):
                bad = ids.min() if ids.min() < 0 else ids.max()
                raise unreadable_file(f"{where} lists node {bad}; it has {n} neurons")
            top = int(ids.max()) + 1
            if top > counts.size:
                counts = np.concatenate([counts, np.zeros(top - counts.size, dtype=np.int64)])
            counts += np.bincount(ids.astype(np.int64), minlength=counts.size)
            t_min, t_max = min(t_min, float(t.min())), max(t_max, float(t.max()))
        result[name] = {"stream": stream, "counts": counts, "neurons": max(n, counts.size),
                        "count": stream.count, "t_min": t_min, "t_max": t_max}
    return result


def pick_raster_neurons(spikes):
    """At most MAX_RASTER_NEURONS neurons, shared by population size, evenly spaced within each,
    thinned until their spikes fit MAX_RASTER_SPIKES."""
    total = sum(p["neurons"] for p in spikes.values())
    chosen = {}
    for name, p in spikes.items():
        n = p["neurons"]
        if n == 0 or total == 0:
            chosen[name] = np.zeros(0, dtype=np.int64)
            continue
        # Small populations still get a readable band of rows.
        share = max(min(n, 20), round(MAX_RASTER_NEURONS * n / total))
        if "n_recorded" in p:  # a record of some neurons: rows among those that fired
            fired = np.flatnonzero(p["counts"])
            chosen[name] = fired[np.unique(np.linspace(0, fired.size - 1, min(fired.size, share)).round().astype(np.int64))] \
                if fired.size else np.zeros(0, dtype=np.int64)
            continue
        chosen[name] = np.unique(np.linspace(0, n - 1, min(n, share)).round().astype(np.int64))
    while True:
        n_spikes = sum(int(spikes[k]["counts"][v[v < spikes[k]["counts"].size]].sum())
                       for k, v in chosen.items())
        if n_spikes <= MAX_RASTER_SPIKES or all(v.size <= 10 for v in chosen.values()):
            return chosen, n_spikes
        chosen = {k: (v[::2] if v.size > 10 else v) for k, v in chosen.items()}


def outside_legend(ax):
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              borderaxespad=0.0)


def plot_raster(ax, spikes, colors):
    chosen, n_spikes = pick_raster_neurons(spikes)
    # Beyond the spike budget even with few neurons: show the first part of the run only.
    t_limit = math.inf
    if n_spikes > MAX_RASTER_SPIKES:
        t_limit = max(p["t_max"] for p in spikes.values()) * MAX_RASTER_SPIKES / n_spikes
    row = 0
    ticks, labels, shown = [], [], []
    drawn = 0
    for name, p in spikes.items():
        ids_wanted = chosen[name]
        ts, rows = [], []
        if ids_wanted.size:
            for t, ids in p["stream"].blocks():
                keep = np.isin(ids, ids_wanted) & (t <= t_limit)
                ts.append(t[keep])
                rows.append(row + np.searchsorted(ids_wanted, ids[keep]))
        t_all = np.concatenate(ts) if ts else np.zeros(0)
        r_all = np.concatenate(rows) if rows else np.zeros(0)
        drawn += t_all.size
        ax.scatter(t_all, r_all, s=1.5, marker="|" if t_all.size < 5000 else ".",
                   color=colors[name], linewidths=0.6, rasterized=True)
        ticks.append(row + (max(ids_wanted.size, 1) - 1) / 2)
        labels.append(name)
        shown.append(f"{ids_wanted.size} of {p['neurons']} {name}")
        row += max(ids_wanted.size, 1)
        ax.axhline(row - 0.5, color="0.8", lw=0.5)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.5, row - 0.5)
    title = "Raster: " + ", ".join(shown) + " neurons"
    if math.isfinite(t_limit):
        title += f" (first {t_limit:.0f} ms shown)"
    if drawn == 0:
        ax.text(0.5, 0.5, "no spikes", transform=ax.transAxes, ha="center", va="center",
                color="0.4")
    ax.set_title(title, fontsize=10, loc="left")


def recorded_neurons(p):
    return max(p.get("n_recorded", p["neurons"]), 1)


def mean_rate_hz(p):
    """A spike group's mean rate over its rates' span (its record's window after --from) [Hz];
    NaN where that span is empty."""
    span_s = p["rate_span_ms"] * 1e-3
    return int(p["rate_counts"].sum()) / (recorded_neurons(p) * span_s) if span_s > 0 else math.nan


def rate_bin_ms(spikes, dt_ms):
    """About 200 bins over the longest record window, each a whole number of time steps: bins
    holding different numbers of steps would draw a comb."""
    longest = max(p["window_ms"][1] - p["window_ms"][0] for p in spikes.values())
    if dt_ms <= 0:
        return longest / 200.0
    return max(1, round(longest / 200.0 / dt_ms)) * dt_ms


def rate_bin_edges(window, bin_ms):
    """Bins from a record window's start to its stop; the last is shorter where bin_ms does not
    divide the window."""
    start, stop = window
    n = max(1, math.ceil((stop - start) / bin_ms - 1e-9))
    edges = start + bin_ms * np.arange(n + 1)
    edges[-1] = stop
    return edges


def rate_histogram(p, bin_ms, tolerance_ms):
    """A spike group's rate [Hz] in bins over its record's window: (edges, rates)."""
    edges = rate_bin_edges(p["window_ms"], bin_ms)
    # A spike belongs to the step that ends at its time: bins hold (a, b], b within a rounding
    # tolerance, and the first also a spike at the window's start (an initial condition's).
    bounds = edges + tolerance_ms
    bounds[0] = edges[0] - tolerance_ms
    counts = np.zeros(edges.size - 1)
    for t, _ in p["stream"].blocks():
        counts += np.histogram(t, bins=bounds)[0]
    return edges, counts / (recorded_neurons(p) * np.diff(edges) * 1e-3)


def rate_histograms(run):
    """The bin width [ms] and {group: (edges, rates)} for each spike group whose record window
    holds time (one that ended before it began holds none)."""
    bin_ms = rate_bin_ms(run.spikes, run.dt_ms)
    return bin_ms, {name: rate_histogram(p, bin_ms, run.tolerance_ms)
                    for name, p in run.spikes.items() if p["window_ms"][1] > p["window_ms"][0]}


def plot_rates(ax, run, colors):
    bin_ms, histograms = rate_histograms(run)
    after = f" after {run.from_ms:g} ms" if run.from_ms > 0 else ""
    for name, (edges, rates) in histograms.items():
        ax.stairs(rates, edges, baseline=None, color=colors[name], lw=1.0,
                  label=f"{name}: {mean_rate_hz(run.spikes[name]):.4g} Hz{after}")
    if run.from_ms > 0:
        ax.axvline(run.from_ms, color="0.5", ls=":", lw=1.0)
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"Population rate ({bin_ms:.3g} ms bins)", fontsize=10, loc="left")
    outside_legend(ax)
    ax.set_ylim(bottom=0)


def open_hdf5(path):
    """An HDF5 file of the run; None where it is absent (unreadable_file where it cannot be read:
    a run writes its files whole or leaves them as .part)."""
    if not os.path.exists(path):
        return None
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise unreadable_file(f"cannot read {path}: {err}") from None


def check_report(path, f):
    """A report's groups are SONATA's: data [time x neuron], one mapping/node_ids entry per column,
    mapping/time = (start, stop, step) with step > 0."""
    if not isinstance(f["report"], h5py.Group):
        raise unreadable_file(f"{path}: /report is not a group")
    for pop, group in f["report"].items():
        where = f"{path}: /report/{pop}"
        data, ids, time = (group.get(k) if isinstance(group, h5py.Group) else None
                           for k in ("data", "mapping/node_ids", "mapping/time"))
        if not all(isinstance(d, h5py.Dataset) for d in (data, ids, time)):
            raise unreadable_file(f"{where} lacks data, mapping/node_ids or mapping/time")
        if data.ndim != 2 or data.dtype.kind != "f" or ids.ndim != 1 or ids.shape[0] != data.shape[1]:
            raise unreadable_file(f"{where}: data {data.shape} {data.dtype} does not hold one column per "
                                  f"node id ({ids.shape[0] if ids.ndim == 1 else ids.shape})")
        values = time[()] if time.dtype.kind in "fiu" and time.shape == (3,) else None
        if values is None or not (np.isfinite(values).all() and values[2] > 0 and values[1] >= values[0]):
            raise unreadable_file(f"{where}/mapping/time is not (start, stop, step) with step > 0")


def find_reports(outdir, summary):
    names = [f for f in summary.get("files", []) if f.endswith(".h5") and f != "spikes.h5"]
    if not names:
        names = sorted(f for f in os.listdir(outdir) if f.endswith(".h5") and f != "spikes.h5")
    reports = []
    try:
        for name in names:
            f = open_hdf5(os.path.join(outdir, name))
            if f is None:
                continue
            reports.append((name, f))
            if "report" in f:
                check_report(os.path.join(outdir, name), f)
            else:
                reports.pop()[1].close()
    except unreadable_file:
        for _, f in reports:
            f.close()
        raise
    return reports


def report_variable(file_name, f):
    """The state variable a report file holds (one per file)."""
    for group in f["report"].values():
        return text(group["data"].attrs.get("variable_name", file_name))
    return file_name


def group_by_variable(reports):
    """One traces panel per variable, so that mV and pA never share an axis."""
    groups = {}
    for name, f in reports:
        groups.setdefault(report_variable(name, f), []).append((name, f))
    return groups


def plot_traces(ax, reports):
    drawn = 0
    recorded = sum(group["data"].shape[1] for _, f in reports for group in f["report"].values())
    for file_name, f in reports:
        # Several reports of one variable (E's excitatory and inhibitory g_syn) share the panel:
        # their traces then say which report they come from.
        source = f"{os.path.splitext(file_name)[0]}: " if len(reports) > 1 else ""
        for pop, group in f["report"].items():
            data = group["data"]
            node_ids = group["mapping/node_ids"][:]
            start, _, step = (float(x) for x in group["mapping/time"][:])
            n_rows = data.shape[0]
            if n_rows == 0 or data.shape[1] == 0:
                continue
            stride = max(1, n_rows // MAX_TRACE_POINTS)
            columns = np.unique(np.linspace(0, data.shape[1] - 1,
                                            min(MAX_TRACES - drawn, data.shape[1])).round().astype(int))
            values = data[::stride, :][:, columns] if data.shape[1] <= 4096 else \
                np.stack([data[::stride, int(c)] for c in columns], axis=1)
            t = start + step * stride * np.arange(values.shape[0])
            unit = text(data.attrs.get("units", ""))
            variable = text(data.attrs.get("variable_name", file_name))
            for k, c in enumerate(columns):
                ax.plot(t, values[:, k], lw=0.7, label=f"{source}{pop} node {int(node_ids[c])}")
            ax.set_ylabel(f"{variable} ({unit})" if unit else variable)
            drawn += len(columns)
            if drawn >= MAX_TRACES:
                break
        if drawn >= MAX_TRACES:
            break
    shown = f" ({drawn} of {recorded} recorded traces)" if drawn < recorded else ""
    ax.set_title(f"Recorded state{shown}", fontsize=10, loc="left")
    outside_legend(ax)


def read_theory(path):
    """theory.csv's rows per population: (neuron, I_e [pA], rate [Hz]); unreadable_file where it is
    not `ifsim theory`'s CSV."""
    rows = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                def num(key):
                    try:
                        return float(r.get(key, "nan"))
                    except (TypeError, ValueError):
                        return math.nan
                rows.setdefault(r["population"], []).append(
                    (int(r["neuron"]), num("I_e_pA"), num("rate_theory_Hz")))
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise unreadable_file(f"{path}: not the CSV 'ifsim theory' writes "
                              f"(population,neuron,I_e_pA,rate_theory_Hz): {err!r}") from None
    return {k: np.array(v, dtype=float) for k, v in rows.items()}


def theory_from_ifsim(ifsim, outdir):
    config = os.path.join(outdir, "config.resolved.toml")
    if not os.path.exists(config):
        print(f"ifsim_plot: no {config}; cannot run 'ifsim theory'", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "theory.csv")
        run = subprocess.run([ifsim, "theory", config, "-o", csv_path],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"ifsim_plot: 'ifsim theory' failed: {run.stderr.strip()}", file=sys.stderr)
            return None
        return read_theory(csv_path)


def spike_records(config):
    """What each spike-recorded group's record covers, from config.resolved.toml (quantities in
    ms): {name: (start, stop (inf: the run's end), recorded(i) -> bool, number recorded or None
    for all)}."""
    out = {}
    for r in config.get("record", []):
        if "spikes" not in r:
            continue
        start = quantity(r.get("start", 0))
        stop = quantity(r["stop"]) if "stop" in r else math.inf
        neurons = r.get("neurons")
        if isinstance(neurons, dict):
            first, end = neurons["range"]
            recorded, count = (lambda i, a=first, b=end: a <= i < b), end - first
        elif isinstance(neurons, list):
            listed = set(neurons)
            recorded, count = (lambda i, s=listed: i in s), len(listed)
        else:
            recorded, count = (lambda i: True), None
        for name in ([r["spikes"]] if isinstance(r["spikes"], str) else r["spikes"]):
            out[name] = (start, stop, recorded, count)
    return out


def counts_after(p, after_ms):
    """Spike count per neuron of a group's spikes after after_ms."""
    counts = np.zeros(p["counts"].size, dtype=np.int64)
    for t, ids in p["stream"].blocks():
        counts += np.bincount(ids[t > after_ms].astype(np.int64), minlength=counts.size)
    return counts


def attach_records(spikes, records, t_end, from_ms, tolerance_ms, run_end=None):
    """Adds to each spike group what its record holds: its window cut to what the run wrote, the
    neurons in it, and the span and spike counts of its rates (after --from where that lies inside
    the window; as ifsim stats, the whole record, a spike at its start too, where not). A group
    that holds what its record cannot (a time past the run's end, a neuron it leaves out) is
    another run's, or an altered file. run_end [ms]: the configured run's end, where a failed
    run's file can reach past t_end (the block it failed in); t_end where not given."""
    for name, p in spikes.items():
        where = f"{p['stream'].timestamps.file.filename}: /spikes/{name}"
        last = min(records.get(name, (0.0, math.inf))[1], t_end if run_end is None else max(run_end, t_end))
        if p["t_max"] > last + tolerance_ms:
            raise unreadable_file(f"{where} has a spike at {p['t_max']:g} ms, past its record's end "
                                  f"({last:g} ms)")
        if p["t_min"] < records.get(name, (0.0,))[0] - tolerance_ms:
            raise unreadable_file(f"{where} has a spike at {p['t_min']:g} ms, before its record's start "
                                  f"({records[name][0]:g} ms)")
        if name in records and records[name][3] is not None:
            left_out = [int(i) for i in np.flatnonzero(p["counts"]) if not records[name][2](int(i))]
            if left_out:
                raise unreadable_file(f"{where} lists node {left_out[0]}, which its "
                                      f"record does not record")
        start, stop, recorded, count = records.get(name, (0.0, math.inf, None, None))
        stop = max(min(stop, t_end), start)
        p["window_ms"] = (start, stop)
        p["rate_span_ms"] = max(stop - max(start, from_ms), 0.0)
        p["rate_counts"] = \
            counts_after(p, from_ms + tolerance_ms) if from_ms > start else p["counts"]
        p["recorded"] = recorded or (lambda i: True)
        if count is not None:
            p["n_recorded"] = count


def measured_rates(spikes, name, neuron):
    """Each listed neuron's rate over its group's rate span; NaN for a neuron the record leaves
    out (all of a population without a spike record) and over an empty span."""
    if name not in spikes or spikes[name]["rate_span_ms"] <= 0:
        return np.full(len(neuron), np.nan)
    p = spikes[name]
    counts, span_s, recorded = p["rate_counts"], p["rate_span_ms"] * 1e-3, p["recorded"]
    return np.array([(counts[i] if i < counts.size else 0) / span_s if recorded(i) else np.nan
                     for i in neuron])


def neuron_currents(population):
    """Each neuron's I_e [pA] as the resolved config gives it (one value, a linspace or a list);
    None for random draws, whose values no output file holds."""
    value = population.get("input", {}).get("I_e", 0)
    if isinstance(value, list):
        return np.array([quantity(v) for v in value])
    if isinstance(value, dict):
        if "linspace" not in value:
            return None
        first, last = (quantity(v) for v in value["linspace"])
        return np.linspace(first, last, int(population["size"]))
    return np.full(int(population["size"]), quantity(value))


def fi_tables(theory, config, spikes):
    """Rows (neuron, I_e [pA], theory rate [Hz]) per population for the F-I panel: the theory's,
    and for a recorded population without one whose neurons differ in I_e (an AdEx scan with a != 0), its
    I_e from the config with NaN for the theory."""
    tables = {name: t for name, t in (theory or {}).items() if t.size}
    for population in config.get("population", []):
        name = population.get("name")
        if name in tables or name not in spikes:
            continue
        currents = neuron_currents(population)
        if currents is not None and np.ptp(currents) > 0:
            tables[name] = np.column_stack([np.arange(currents.size), currents,
                                            np.full(currents.size, np.nan)])
    return tables


def plot_fi(ax, spikes, tables, colors):
    """The measured rate of each neuron against its I_e with the theory's curve where there is one;
    where I_e is the same for every neuron (a network), the rates' distribution against the
    theory's rate."""
    if all(np.ptp(t[:, 1]) == 0 for t in tables.values()):
        plot_rate_distribution(ax, spikes, tables, colors)
        return
    for name, table in tables.items():
        neuron, current, rate = table[:, 0].astype(np.int64), table[:, 1], table[:, 2]
        color = colors.get(name, "0.3")
        ax.plot(current, measured_rates(spikes, name, neuron), ".", ms=2.5, color=color, alpha=0.6,
                label=f"{name} simulated")
        if np.isfinite(rate).any():
            order = np.argsort(current, kind="stable")
            ax.plot(current[order], rate[order], "-", lw=1.4,
                    color="k" if len(tables) == 1 else color, label=f"{name} theory")
    ax.set_xlabel("I_e (pA)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title("Rate per neuron vs input current", fontsize=10, loc="left")
    outside_legend(ax)


def plot_rate_distribution(ax, spikes, tables, colors):
    measured = {}
    for name, t in tables.items():
        m = measured_rates(spikes, name, t[:, 0].astype(np.int64))
        measured[name] = m[np.isfinite(m)]
    # Rates are spike counts / span: bins of a whole number of counts, centred on them (no comb),
    # of one width in counts for all populations, each over its own span.
    span_s = {name: spikes[name]["rate_span_ms"] * 1e-3 for name, m in measured.items() if m.size}
    top_count = max((measured[name].max() * s for name, s in span_s.items()), default=0.0)
    width = max(1, math.ceil(top_count / 50))
    for name, table in tables.items():
        color = colors.get(name, "0.3")
        m = measured[name]
        if m.size:
            counts = np.arange(0, m.max() * span_s[name] + 2 * width, width) - 0.5 * width
            bins = counts / span_s[name]
            ax.hist(m, bins=bins, histtype="step", lw=1.2, color=color,
                    label=f"{name} simulated, mean {m.mean():.4g} Hz")
        theory_rate = float(np.nanmean(table[:, 2]))
        if math.isfinite(theory_rate):
            ax.axvline(theory_rate, color=color, ls="--", lw=1.2, label=f"{name} theory {theory_rate:.4g} Hz")
    ax.set_xlabel("rate (Hz)")
    ax.set_ylabel("neurons")
    ax.set_title("Rate per neuron against theory", fontsize=10, loc="left")
    outside_legend(ax)


def headline(summary, outdir):
    if not summary:
        return os.path.basename(os.path.abspath(outdir))
    parts = [f"{summary.get('status', '?')}"]
    if summary.get("backend"):
        parts.append(f"{summary['backend']} ({summary.get('device', '')})")
    if summary.get("neurons") is not None:
        parts.append(f"{summary['neurons']:,} neurons")
    if summary.get("simulated_ms"):
        parts.append(f"{summary['simulated_ms']:g} ms simulated")
    if summary.get("real_time_factor"):
        parts.append(f"RTF {summary['real_time_factor']:.3g}")
    title = os.path.basename(os.path.abspath(outdir)) + ": " + ", ".join(parts)
    if summary.get("status") not in (None, "completed") and summary.get("message"):
        title += f"\n{summary['message'][:120]}"
    return title


def load_theory(outdir, ifsim):
    """theory.csv's rows, or `ifsim theory`'s with --ifsim where it is absent or stale; None."""
    theory_path = os.path.join(outdir, "theory.csv")
    config_path = os.path.join(outdir, "config.resolved.toml")
    # A run into the folder replaces its files but keeps theory.csv: one older than the run's
    # config is another run's theory.
    stale = os.path.exists(theory_path) and os.path.exists(config_path) and \
        os.path.getmtime(theory_path) < os.path.getmtime(config_path)
    if stale:
        print(f"ifsim_plot: {theory_path} is older than the run in {outdir}: not used "
              "(run 'ifsim theory' again, or pass --ifsim)", file=sys.stderr)
    if os.path.exists(theory_path) and not stale:
        return read_theory(theory_path)
    if ifsim:
        return theory_from_ifsim(ifsim, outdir)
    return None


def unclosed_files(outdir):
    """The .part files without their whole file: files a run did not close."""
    return sorted(f for f in os.listdir(outdir) if f.endswith(".part") and not f.startswith(".")
                  and not os.path.exists(os.path.join(outdir, f[:-len(".part")])))


def why_unclosed(outdir, summary, parts):
    """What .part files a folder holds and why, in words (docs/output.md, "Files are whole or
    absent")."""
    listing = f"{outdir} holds {', '.join(parts)}"
    if not summary:
        why = f"{listing} and no summary.json: the run was killed before it closed its files"
    elif summary.get("status") == "completed":
        why = f"{listing}, left by an earlier run (this one completed)"
    else:
        why = f"{listing}, which the run did not close (summary.json: {summary.get('status')}, " \
              f"{summary.get('message') or 'no message'})"
    return why + "; a .part file is not guaranteed to be readable (docs/output.md, " \
                 "\"Files are whole or absent\"): not read"


@dataclass
class Run:
    """What an output folder holds, read for plotting."""
    outdir: str
    summary: dict
    spike_file: object
    spikes: dict
    reports: list
    fi_tables: dict
    unclosed: list
    t_end: float
    dt_ms: float
    tolerance_ms: float
    from_ms: float

    def close(self):
        for _, f in self.reports:
            f.close()
        if self.spike_file is not None:
            self.spike_file.close()


def check_digest(outdir, summary):
    """config.resolved.toml is the config summary.json's run ran (its config_digest), as
    `ifsim stats` requires: an edited copy would be plotted as the run it is not."""
    digest = summary.get("config_digest")
    path = os.path.join(outdir, "config.resolved.toml")
    if not isinstance(digest, str) or not os.path.exists(path):
        return
    with open(path, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != digest:
            raise unreadable_file(f"{path} is not the config that ran (summary.json's config_digest): "
                                  "the folder holds files of two runs, or an edited config")


def load_run(outdir, from_ms=0.0, ifsim=None):
    """Reads an output folder; from_ms [ms] as --from."""
    summary = load_summary(outdir)
    config = load_config(outdir)
    dt_ms = time_step_ms(summary, config)
    # Spike times are step ends, stored to within rounding: compare times to this much.
    tolerance_ms = 1e-6 * dt_ms if dt_ms > 0 else 1e-9
    if dt_ms > 0:
        from_ms = round(from_ms / dt_ms) * dt_ms  # on the step grid, as ifsim stats puts it
    check_digest(outdir, summary)
    spike_file = open_hdf5(os.path.join(outdir, "spikes.h5"))
    try:
        spikes = scan_spikes(spike_file, group_sizes(summary, config))
        t_end = simulated_ms(summary, spikes)
        try:
            records = spike_records(config)
            run_end = quantity(config["simulation"]["duration"]) if config else None
        except (KeyError, TypeError, ValueError) as err:
            raise unreadable_file(f"{os.path.join(outdir, 'config.resolved.toml')}: not as ifsim writes it: "
                                  f"{err!r}") from None
        if run_end is not None and t_end > run_end * (1 + 1e-9):
            raise unreadable_file(f"{os.path.join(outdir, 'summary.json')}: simulated_ms {t_end:g} is past the "
                                  f"config's duration ({run_end:g} ms)")
        if records and spike_file is None:
            print(f"ifsim_plot: no spikes.h5 in {outdir}, though config.resolved.toml records spikes of "
                  f"{sorted(records)}: no raster or rates", file=sys.stderr)
        if config and spike_file is not None and set(records) != set(spikes):
            raise unreadable_file(f"{spike_file.filename} holds spikes of {sorted(spikes)}, but "
                                  f"config.resolved.toml records those of {sorted(records)}: not this run's file")
        attach_records(spikes, records, t_end, from_ms, tolerance_ms, run_end)
        return Run(outdir=outdir, summary=summary, spike_file=spike_file, spikes=spikes,
                   reports=find_reports(outdir, summary),
                   fi_tables=fi_tables(load_theory(outdir, ifsim), config, spikes),
                   unclosed=unclosed_files(outdir), t_end=t_end, dt_ms=dt_ms,
                   tolerance_ms=tolerance_ms, from_ms=from_ms)
    except unreadable_file:
        if spike_file is not None:
            spike_file.close()
        raise


def choose_panels(run):
    """The panels to draw: "raster", "rate", ("traces", variable) per report variable, "fi"."""
    panels = ["raster", "rate"] if run.spikes else []
    panels += [("traces", variable) for variable in group_by_variable(run.reports)]
    if run.fi_tables:
        panels.append("fi")
    return panels


def draw(run, panels, png):
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {name: palette[i % len(palette)] for i, name in enumerate(
        list(run.spikes) + [k for k in run.fi_tables if k not in run.spikes])}
    trace_groups = group_by_variable(run.reports)
    heights = {"raster": 3.2, "rate": 2.0, "traces": 2.2, "fi": 3.0}
    kind = [p[0] if isinstance(p, tuple) else p for p in panels]
    fig = plt.figure(figsize=(11, sum(heights[k] for k in kind) + 0.6), layout="constrained")
    grid = fig.add_gridspec(len(panels), 1, height_ratios=[heights[k] for k in kind])
    time_axes = []
    for i, panel in enumerate(panels):
        share = time_axes[0] if time_axes and panel != "fi" else None
        ax = fig.add_subplot(grid[i], sharex=share)
        if panel == "raster":
            plot_raster(ax, run.spikes, colors)
        elif panel == "rate":
            plot_rates(ax, run, colors)
        elif isinstance(panel, tuple):
            plot_traces(ax, trace_groups[panel[1]])
        else:
            plot_fi(ax, run.spikes, run.fi_tables, colors)
        if panel != "fi":
            time_axes.append(ax)
    for ax in time_axes:
        ax.set_xlim(0, run.t_end)
    if time_axes:
        time_axes[-1].set_xlabel("time (ms)")
    for ax in time_axes[:-1]:
        plt.setp(ax.get_xticklabels(), visible=False)
    fig.suptitle(headline(run.summary, run.outdir), fontsize=11)
    save_whole(fig, png)


def save_whole(fig, png):
    """The figure at `png`, in the format its extension names where matplotlib writes it (x.pdf, a
    PDF), else PNG; written to a file of its own beside it and renamed, so that a failed write (a
    full disk) leaves an earlier plot as it was. As ifsim's files, a name that is a link or no
    file is refused (the rename would replace the link). OSError where it cannot be written."""
    if os.path.islink(png):
        raise OSError(f"{png} is a link; give the name of a file (or of none)")
    if os.path.lexists(png) and not os.path.isfile(png):
        raise OSError(f"{png} is not a file")
    extension = os.path.splitext(png)[1][1:].lower()
    kind = extension if extension in fig.canvas.get_supported_filetypes() else "png"
    # Hidden, and unique: not taken for a run's .part file, nor shared by two plots at once.
    fd, part = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(png)),
                                prefix="." + os.path.basename(png) + ".", suffix=".part")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as a file the plot would have created (mkstemp's is 0600)
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, dpi=110, bbox_inches="tight", format=kind)
        os.replace(part, png)
    except BaseException:
        if os.path.lexists(part):
            os.remove(part)
        raise


def say_written(png):
    """Prints the plot's name on stdout; exit 1 where stdout cannot take it (a full disk)."""
    try:
        print(png)
        sys.stdout.flush()
    except OSError as err:
        # What is left in the buffer would fail again at exit, with a traceback of Python's own.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(f"ifsim_plot: wrote {png}, but cannot write to standard output: {err.strerror or err}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="ifsim output folder (ifsim run --out)")
    parser.add_argument("--png", help="image to write (default OUTDIR/plot.png)")
    parser.add_argument("--ifsim", help="ifsim binary, to compute the theory when theory.csv is missing or stale (drawn, not written)")
    parser.add_argument("--from", dest="from_ms", type=float, default=0.0, metavar="T",
                        help="rates from T ms on, leaving out a start-up transient (default 0)")
    args = parser.parse_args(argv)

    outdir = args.outdir
    if not os.path.isdir(outdir):
        parser.error(f"{outdir} is not a folder")
    if not (math.isfinite(args.from_ms) and args.from_ms >= 0):
        parser.error(f"--from {args.from_ms:g}: a time >= 0 ms is expected")
    try:
        run = load_run(outdir, args.from_ms, args.ifsim)
    except unreadable_file as err:
        sys.exit(f"ifsim_plot: {err}")
    try:
        panels = choose_panels(run)
        if not panels:
            why = why_unclosed(outdir, run.summary, run.unclosed) if run.unclosed else \
                f"{outdir} holds no readable spikes.h5, reports or theory.csv"
            sys.exit(f"ifsim_plot: nothing to plot: {why}")
        if run.unclosed:
            print(f"ifsim_plot: {why_unclosed(outdir, run.summary, run.unclosed)}", file=sys.stderr)
        if run.spikes and run.from_ms >= run.t_end:
            parser.error(f"--from {run.from_ms:g} ms is not before the run's end "
                         f"({run.t_end:g} ms)")
        png = args.png or os.path.join(outdir, "plot.png")
        try:
            draw(run, panels, png)
        except OSError as err:
            sys.exit(f"ifsim_plot: cannot write {png}: {err.strerror or err}")
        say_written(png)
    finally:
        run.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
