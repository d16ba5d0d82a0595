#!/usr/bin/env python3
"""Plot an ifsim output folder: raster, population rate, recorded traces, and the measured F-I
curve against theory.

    ifsim_plot.py OUTDIR [--png FILE] [--ifsim PATH_TO_IFSIM]

Reads OUTDIR/spikes.h5, OUTDIR/summary.json, the report files (listed in summary.json "files",
or any *.h5 holding /report), and OUTDIR/theory.csv when present and not older than the run. With --ifsim and no such theory.csv,
runs `ifsim theory OUTDIR/config.resolved.toml` to get the theory (into a temporary file; the
output folder is not modified). Theory is never computed here. Layout of the files:
docs/output.md. Needs numpy, matplotlib and h5py (Debian: /usr/bin/python3).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

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


def text(value):
    """An HDF5 string attribute as str (h5py gives str or bytes depending on how it was stored)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def load_summary(outdir):
    path = os.path.join(outdir, "summary.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


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


def group_sizes(outdir, summary):
    """Neurons per spike group: the populations' from summary.json, the recorded generators' from
    config.resolved.toml (summary.json counts populations only)."""
    sizes = {p.get("name"): int(p.get("neurons") or 0) for p in summary.get("populations", [])}
    try:
        import tomllib
        with open(os.path.join(outdir, "config.resolved.toml"), "rb") as f:
            for g in tomllib.load(f).get("generator", []):
                sizes[g["name"]] = int(g["size"])
    except (ImportError, OSError, ValueError, KeyError, TypeError):
        pass
    return sizes


def scan_spikes(spike_file, sizes):
    """Per spike group: spike count per neuron, t range, and the handle for later passes."""
    result = {}
    if spike_file is None or "spikes" not in spike_file:
        return result
    for name, group in spike_file["spikes"].items():
        stream = population_spikes(group)
        n = sizes.get(name, 0)
        counts = np.zeros(n, dtype=np.int64)
        t_max = 0.0
        for t, ids in stream.blocks():
            if len(ids) == 0:
                continue
            top = int(ids.max()) + 1
            if top > counts.size:
                counts = np.concatenate([counts, np.zeros(top - counts.size, dtype=np.int64)])
            counts += np.bincount(ids.astype(np.int64), minlength=counts.size)
            t_max = max(t_max, float(t.max()))
        result[name] = {"stream": stream, "counts": counts, "neurons": max(n, counts.size),
                        "count": stream.count, "t_max": t_max}
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


def plot_rates(ax, spikes, colors, t_end, dt_ms):
    # About 200 bins, each a whole number of time steps.
    steps_per_bin = max(1, round(t_end / 200.0 / dt_ms)) if dt_ms > 0 else 0
    bin_ms = steps_per_bin * dt_ms if steps_per_bin else t_end / 200.0
    edges = np.arange(0.0, t_end + 0.5 * bin_ms, bin_ms)
    if edges.size < 2:
        edges = np.array([0.0, t_end])
    for name, p in spikes.items():
        hist = np.zeros(edges.size - 1)
        for t, _ in p["stream"].blocks():
            hist += np.histogram(t, bins=edges)[0]
        n = max(p.get("n_recorded", p["neurons"]), 1)
        rate = hist / (n * bin_ms * 1e-3)
        start, stop = p.get("window_ms", (0.0, t_end))
        rate[(edges[1:] <= start + 1e-9) | (edges[:-1] >= stop - 1e-9)] = np.nan  # not recorded there: no line
        ax.step(edges[:-1], rate, where="post", color=colors[name], lw=1.0,
                label=f"{name}: {p['count'] / (n * p.get('span_ms', t_end) * 1e-3):.3g} Hz")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"Population rate ({bin_ms:.3g} ms bins)", fontsize=10, loc="left")
    outside_legend(ax)
    ax.set_ylim(bottom=0)


def find_reports(outdir, summary):
    names = [f for f in summary.get("files", []) if f.endswith(".h5") and f != "spikes.h5"]
    if not names:
        names = sorted(f for f in os.listdir(outdir) if f.endswith(".h5") and f != "spikes.h5")
    reports = []
    for name in names:
        path = os.path.join(outdir, name)
        if not os.path.exists(path):
            continue
        try:
            f = h5py.File(path, "r")
        except OSError:
            continue
        if "report" in f:
            reports.append((name, f))
        else:
            f.close()
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
    ax.set_title("Recorded state", fontsize=10, loc="left")
    outside_legend(ax)


def read_theory(path):
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            def num(key):
                try:
                    return float(r.get(key, "nan"))
                except ValueError:
                    return math.nan
            rows.setdefault(r["population"], []).append(
                (int(r["neuron"]), num("I_e_pA"), num("rate_theory_Hz")))
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


def spike_records(outdir, t_end):
    """What each spike-recorded population's record covers, from config.resolved.toml (quantities
    in ms): {name: (span [ms], recorded(i) -> bool, number recorded or None for all, (start, stop))}."""
    try:
        import tomllib
        with open(os.path.join(outdir, "config.resolved.toml"), "rb") as f:
            records = tomllib.load(f).get("record", [])
    except (ImportError, OSError, ValueError):
        return {}
    ms = lambda text: float(str(text).split()[0])
    out = {}
    for r in records:
        if "spikes" not in r:
            continue
        start, stop = ms(r.get("start", "0 ms")), min(ms(r.get("stop", f"{t_end} ms")), t_end)
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
            out[name] = (max(stop - start, 1e-9), recorded, count, (start, stop))
    return out


def measured_rates(spikes, name, neuron, t_end):
    """Each listed neuron's rate over its record's span; NaN for a neuron the record leaves out
    (all of a population without a spike record)."""
    if name not in spikes:
        return np.full(len(neuron), np.nan)
    p = spikes[name]
    counts = p.get("counts", np.zeros(0))
    span = p.get("span_ms", t_end)
    recorded = p.get("recorded", lambda i: True)
    return np.array([(counts[i] if i < counts.size else 0) / (span * 1e-3) if recorded(i) else np.nan
                     for i in neuron])


def plot_fi(ax, spikes, theory, colors, t_end):
    """The measured rate of each neuron against its I_e with the theory's curve; where I_e is the
    same for every neuron (a network), the rates' distribution against the theory's rate."""
    tables = {name: t for name, t in theory.items() if t.size}
    if all(np.ptp(t[:, 1]) == 0 for t in tables.values()):
        plot_rate_distribution(ax, spikes, tables, colors, t_end)
        return
    for name, table in tables.items():
        neuron, current, rate = table[:, 0].astype(np.int64), table[:, 1], table[:, 2]
        order = np.argsort(current, kind="stable")
        color = colors.get(name, "0.3")
        measured = measured_rates(spikes, name, neuron, t_end)
        ax.plot(current, measured, ".", ms=2.5, color=color, alpha=0.6,
                label=f"{name} simulated")
        ax.plot(current[order], rate[order], "-", lw=1.4, color="k" if len(theory) == 1 else color,
                label=f"{name} theory")
    ax.set_xlabel("I_e (pA)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title("Rate per neuron vs input current", fontsize=10, loc="left")
    outside_legend(ax)


def plot_rate_distribution(ax, spikes, tables, colors, t_end):
    measured = {}
    for name, t in tables.items():
        m = measured_rates(spikes, name, t[:, 0].astype(np.int64), t_end)
        measured[name] = m[np.isfinite(m)]
    # Rates are spike counts / T: bins of a whole number of counts, centred on them (no comb).
    seconds = t_end * 1e-3
    top_count = max((m.max() for m in measured.values() if m.size), default=0.0) * seconds
    width = max(1, math.ceil(top_count / 50))
    bins = (np.arange(0, top_count + 2 * width, width) - 0.5 * width) / seconds
    for name, table in tables.items():
        color = colors.get(name, "0.3")
        m = measured[name]
        if m.size:
            ax.hist(m, bins=bins, histtype="step", lw=1.2, color=color,
                    label=f"{name} simulated, mean {m.mean():.3g} Hz")
        theory_rate = float(np.nanmean(table[:, 2]))
        if math.isfinite(theory_rate):
            ax.axvline(theory_rate, color=color, ls="--", lw=1.2, label=f"{name} theory {theory_rate:.3g} Hz")
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="ifsim output folder (ifsim run --out)")
    parser.add_argument("--png", help="image to write (default OUTDIR/plot.png)")
    parser.add_argument("--ifsim", help="ifsim binary, to compute theory.csv when it is missing")
    args = parser.parse_args(argv)

    outdir = args.outdir
    if not os.path.isdir(outdir):
        parser.error(f"{outdir} is not a folder")
    png = args.png or os.path.join(outdir, "plot.png")
    summary = load_summary(outdir)

    spike_path = os.path.join(outdir, "spikes.h5")
    spike_file = h5py.File(spike_path, "r") if os.path.exists(spike_path) else None
    spikes = scan_spikes(spike_file, group_sizes(outdir, summary))
    t_end = simulated_ms(summary, spikes)
    for name, (span, recorded, count, window) in spike_records(outdir, t_end).items():
        if name in spikes:
            spikes[name].update(span_ms=span, recorded=recorded, window_ms=window)
            if count is not None:
                spikes[name]["n_recorded"] = count
    reports = find_reports(outdir, summary)

    theory_path = os.path.join(outdir, "theory.csv")
    config_path = os.path.join(outdir, "config.resolved.toml")
    theory = None
    # A run into the folder replaces its files but keeps theory.csv: one older than the run's
    # config is another run's theory.
    stale = os.path.exists(theory_path) and os.path.exists(config_path) and \
        os.path.getmtime(theory_path) < os.path.getmtime(config_path)
    if stale:
        print(f"ifsim_plot: {theory_path} is older than the run in {outdir}: not used "
              "(run 'ifsim theory' again, or pass --ifsim)", file=sys.stderr)
    if os.path.exists(theory_path) and not stale:
        theory = read_theory(theory_path)
    elif args.ifsim:
        theory = theory_from_ifsim(args.ifsim, outdir)

    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {name: palette[i % len(palette)] for i, name in enumerate(
        list(spikes) + [k for k in (theory or {}) if k not in spikes])}

    panels = []
    if spikes:
        panels += ["raster", "rate"]
    trace_groups = group_by_variable(reports)
    panels += [("traces", variable) for variable in trace_groups]
    if theory:
        panels.append("fi")
    if not panels:
        sys.exit(f"ifsim_plot: nothing to plot in {outdir} (no spikes.h5, reports or theory.csv)")

    heights = {"raster": 3.2, "rate": 2.0, "traces": 2.2, "fi": 3.0}
    kind = [p[0] if isinstance(p, tuple) else p for p in panels]
    fig = plt.figure(figsize=(11, sum(heights[k] for k in kind) + 0.6), layout="constrained")
    grid = fig.add_gridspec(len(panels), 1, height_ratios=[heights[k] for k in kind])
    time_axes = []
    for i, panel in enumerate(panels):
        share = time_axes[0] if time_axes and panel != "fi" else None
        ax = fig.add_subplot(grid[i], sharex=share)
        if panel == "raster":
            plot_raster(ax, spikes, colors)
        elif panel == "rate":
            dt_ms = summary.get("dt_ms")
            plot_rates(ax, spikes, colors, t_end,
                       float(dt_ms) if isinstance(dt_ms, (int, float)) else 0.0)
        elif isinstance(panel, tuple):
            plot_traces(ax, trace_groups[panel[1]])
        else:
            plot_fi(ax, spikes, theory, colors, t_end)
        if panel != "fi":
            time_axes.append(ax)
    for ax in time_axes:
        ax.set_xlim(0, t_end)
    if time_axes:
        time_axes[-1].set_xlabel("time (ms)")
    for ax in time_axes[:-1]:
        plt.setp(ax.get_xticklabels(), visible=False)
    fig.suptitle(headline(summary, outdir), fontsize=11)
    fig.savefig(png, dpi=110, bbox_inches="tight")
    print(png)

    for _, f in reports:
        f.close()
    if spike_file is not None:
        spike_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
