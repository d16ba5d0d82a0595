#!/usr/bin/env python3
"""Runs tools/ifsim_plot.py on small runs it makes and checks what it draws: a valid PNG, the rate
histogram's bins over a spike record's window, an F-I panel for an AdEx scan that has no theory,
--from leaving a start-up transient out of the rates, the plot of an interrupted run, the
message and exit code on a killed run's folder, and on files altered after the run. Exit 77 (skipped) without numpy, matplotlib or h5py.

    test_plot.py IFSIM_BINARY SOURCE_DIR SCRATCH_DIR
"""
import csv
import importlib.util
import io
import json
import pathlib
import shutil
import signal
import subprocess
import sys
import time

missing = [m for m in ("numpy", "matplotlib", "h5py") if importlib.util.find_spec(m) is None]
if missing:
    print(f"skipped: no {', '.join(missing)}")
    sys.exit(77)
import matplotlib.image
import numpy as np

ifsim, source, scratch = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
shutil.rmtree(scratch, ignore_errors=True)
scratch.mkdir(parents=True)
script = source / "tools/ifsim_plot.py"

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
spec = importlib.util.spec_from_file_location("ifsim_plot", script)
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)

LIF_PARAMS = ('{ C_m = "200 pF", g_L = "10 nS", E_L = "-70 mV", V_th = "-50 mV", '
              'V_reset = "-60 mV", t_ref = "2 ms" }')

# Noisy LIF neurons whose spikes are recorded from 100 ms on, in a 300 ms run.
WINDOWED = f"""
[simulation]
duration = "300 ms"
seed = 1

[[population]]
name = "E"
size = 50
model = "lif"
params = {LIF_PARAMS}
init = {{ V_m = {{ uniform = ["-60 mV", "-50 mV"] }} }}
input = {{ I_e = "180 pA", noise = {{ sigma_V = "4 mV" }} }}

[[record]]
spikes = "E"
start = "100 ms"

[[record]]
state = "V_m"
population = "E"
neurons = [0, 1]
"""

# An AdEx scan of I_e (no theory: ifsim has none for the AdEx), whose rates fall as w builds up,
# beside a LIF scan that has one.
SCANS = f"""
[simulation]
duration = "300 ms"
seed = 2

[[population]]
name = "adex"
size = 40
model = "adex"
input = {{ I_e = {{ linspace = ["700 pA", "1500 pA"] }} }}

[population.params]  # Brette & Gerstner (2005), as examples/adaptation.toml
C_m = "281 pF"
g_L = "30 nS"
E_L = "-70.6 mV"
V_T = "-50.4 mV"
Delta_T = "2 mV"
V_reset = "-70.6 mV"
t_ref = "0 ms"
a = "4 nS"
b = "80.5 pA"
tau_w = "144 ms"

[[population]]
name = "lif"
size = 20
model = "lif"
params = {LIF_PARAMS}
input = {{ I_e = {{ linspace = ["0 pA", "500 pA"] }} }}

[[record]]
spikes = ["adex", "lif"]
"""

# Long enough to be stopped while it runs (a few hundred ms of it run before the signal).
LONG = f"""
[simulation]
duration = "60 s"
seed = 3

[[population]]
name = "E"
size = 10000
model = "lif"
params = {LIF_PARAMS}
input = {{ I_e = "180 pA", noise = {{ sigma_V = "4 mV" }} }}

[[record]]
spikes = "E"
"""


def write_config(name, text):
    path = scratch / f"{name}.toml"
    path.write_text(text)
    return path


def ifsim_command(config, out):
    return [ifsim, "run", str(config), "--out", str(out), "--backend", "cpu", "--threads", "1",
            "-q"]


def run_ifsim(name, text):
    out = scratch / name
    subprocess.run(ifsim_command(write_config(name, text), out), check=True)
    return out


def stopped_run(name, sig):
    """The folder of LONG, stopped with signal sig once its files are open."""
    out = scratch / name
    process = subprocess.Popen(ifsim_command(write_config(name, LONG), out))
    deadline = time.monotonic() + 30
    try:
        while not (out / "spikes.h5.part").exists():
            assert process.poll() is None, f"{name}: ifsim exited ({process.returncode}) early"
            assert time.monotonic() < deadline, f"{name}: no spikes.h5.part after 30 s"
            time.sleep(0.02)
    except AssertionError:
        process.kill()  # not left running after the test
        raise
    time.sleep(0.3)  # into the simulation loop
    process.send_signal(sig)
    process.wait(timeout=60)
    return out, process.returncode


def run_plot(out, *options):
    return subprocess.run([sys.executable, str(script), str(out), *options],
                          capture_output=True, text=True)


def check_png(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    image = matplotlib.image.imread(path)  # decodes it whole
    assert image.shape[0] > 100 and image.shape[1] > 100, f"{path}: {image.shape}"
    assert np.ptp(image) > 0, f"{path} is blank"


def plotted(out, *options):
    """Runs the plot and checks that it made its PNG and said where."""
    result = run_plot(out, *options)
    assert result.returncode == 0, f"plot of {out} failed:\n{result.stderr}"
    png = out / "plot.png"
    assert result.stdout.strip() == str(png), result.stdout
    check_png(png)
    return result


def stats_rate(out, *options):
    """ifsim stats' rate_Hz per population."""
    text = subprocess.run([ifsim, "stats", str(out), "--csv", *options], check=True,
                          capture_output=True, text=True).stdout
    return {row["population"]: float(row["rate_Hz"]) for row in csv.DictReader(io.StringIO(text))}


# 1. A spike record with a window: the histogram's bins cover the window only, and hold every
#    recorded spike.
out = run_ifsim("windowed", WINDOWED)
plotted(out)
run = plot.load_run(str(out))
bin_ms, histograms = plot.rate_histograms(run)
edges, rates = histograms["E"]
assert edges[0] == 100.0 and edges[-1] == 300.0, f"bins from {edges[0]} to {edges[-1]} ms"
assert np.allclose(np.diff(edges)[:-1], bin_ms), "bins of unequal width inside the window"
spikes_in_bins = np.sum(rates * np.diff(edges) * 1e-3 * 50)
assert round(spikes_in_bins) == run.spikes["E"]["count"] > 0, \
    f"{spikes_in_bins} spikes in the bins, {run.spikes['E']['count']} recorded"
assert abs(plot.mean_rate_hz(run.spikes["E"]) - stats_rate(out)["E"]) < 1e-9, \
    "the mean rate is not ifsim stats' over the window"
run.close()

# 2. F-I panel for the AdEx scan without theory; the LIF scan's theory curve where asked for.
out = run_ifsim("scans", SCANS)
plotted(out)
run = plot.load_run(str(out))
assert "fi" in plot.choose_panels(run), "no F-I panel for the AdEx scan"
adex = run.fi_tables["adex"]
assert np.allclose(adex[:, 1], np.linspace(700, 1500, 40)) and np.isnan(adex[:, 2]).all()
measured = plot.measured_rates(run.spikes, "adex", np.arange(40))
assert measured[-1] > measured[0] > 0, f"AdEx rates {measured[0]} .. {measured[-1]} Hz"
run.close()
plotted(out, "--ifsim", ifsim)
run = plot.load_run(str(out), ifsim=ifsim)
assert np.isfinite(run.fi_tables["lif"][:, 2]).all(), "no LIF theory from ifsim theory"
assert "adex" in run.fi_tables, "the AdEx scan left out where another population has theory"
run.close()

# 3. --from 150 leaves the adapting start out: the mean rate and the F-I points fall, to ifsim
#    stats' rate.
early, late = plot.load_run(str(out)), plot.load_run(str(out), from_ms=150.0)
rate_early, rate_late = (plot.mean_rate_hz(r.spikes["adex"]) for r in (early, late))
assert rate_late < rate_early, f"--from 150: {rate_late} Hz, from 0: {rate_early} Hz"
assert abs(rate_late - stats_rate(out, "--from", "150")["adex"]) < 1e-9
assert np.all(plot.measured_rates(late.spikes, "adex", np.arange(40)) <=
              plot.measured_rates(early.spikes, "adex", np.arange(40)))
early.close()
late.close()
plotted(out, "--from", "150")

# 4. An interrupted run's files are whole: it is plotted up to where it stopped.
out, code = stopped_run("interrupted", signal.SIGTERM)
assert code == 130, f"ifsim exited {code} on SIGTERM"
result = plotted(out)
assert "Traceback" not in result.stderr, result.stderr
run = plot.load_run(str(out))
assert run.summary["status"] == "interrupted" and 0 < run.t_end < 60000
assert plot.rate_histograms(run)[1]["E"][0][-1] == run.t_end, "bins past where the run stopped"
run.close()

# 5. A killed run's folder: said what is there and why it cannot be read, exit 1, no traceback.
out, code = stopped_run("killed", signal.SIGKILL)
assert code == -signal.SIGKILL and not (out / "summary.json").exists()
result = run_plot(out)
assert result.returncode == 1, f"exit {result.returncode}"
assert "Traceback" not in result.stderr, result.stderr
for words in ("spikes.h5.part", "no summary.json", "killed before it closed its files"):
    assert words in result.stderr, f"'{words}' not in: {result.stderr}"
assert not (out / "plot.png").exists()

# 6. Files altered after the run are refused with the file and the fault named, exit 1, no
#    traceback and no plot of something else (each of these was drawn, or raised, before).
source_run = run_ifsim("altered", WINDOWED)


def altered(name, change, expected):
    out = scratch / name
    shutil.copytree(source_run, out)
    (out / "plot.png").unlink(missing_ok=True)
    change(out)
    result = run_plot(out)
    assert result.returncode == 1, f"{name}: exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr and expected in result.stderr, f"{name}: {result.stderr}"
    assert not (out / "plot.png").exists(), f"{name}: a plot was drawn"


def set_dataset(path, key, values):
    import h5py
    with h5py.File(path, "a") as f:
        del f[key]
        f[key] = values


def spikes_of(out):
    import h5py
    with h5py.File(out / "spikes.h5", "r") as f:
        return f["spikes/E/timestamps"][:], f["spikes/E/node_ids"][:]


t, ids = spikes_of(source_run)
altered("nan_time", lambda out: set_dataset(out / "spikes.h5", "spikes/E/timestamps",
                                            np.where(np.arange(t.size) == 3, np.nan, t)),
        "/spikes/E has a spike at nan ms")
altered("negative_id", lambda out: set_dataset(out / "spikes.h5", "spikes/E/node_ids",
                                               np.where(np.arange(ids.size) == 0, -1, ids.astype(np.int64))),
        "/spikes/E lists node -1")
altered("short_ids", lambda out: set_dataset(out / "spikes.h5", "spikes/E/node_ids", ids[:-1]),
        f"/spikes/E has {t.size} timestamps but {t.size - 1} node ids")
altered("before_window", lambda out: set_dataset(out / "spikes.h5", "spikes/E/timestamps", t - 99.0),
        "before its record's start (100 ms)")
altered("summary_text", lambda out: (out / "summary.json").write_text('{"simulated_ms": "300"}'),
        '"simulated_ms" is "300", not what ifsim writes')
altered("edited_config", lambda out: (out / "config.resolved.toml").write_text(
    (out / "config.resolved.toml").read_text() + "# edited\n"), "is not the config that ran")
altered("infinite_time", lambda out: (out / "summary.json").write_text(
    (out / "summary.json").read_text().replace('"dt_ms": 0.1', '"dt_ms": Infinity')), "Infinity is no JSON number")
altered("truncated", lambda out: (out / "spikes.h5").write_bytes((out / "spikes.h5").read_bytes()[:2000]),
        "cannot read")

# 7. A plot that cannot be written (here past a file-size limit, as on a full disk) is said, exit 1,
#    and leaves an earlier plot as it was (it was truncated, with a traceback).
import resource
out = scratch / "windowed"
before = (out / "plot.png").read_bytes()
result = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True,
                        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000)))
assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
assert "cannot write" in result.stderr and "File too large" in result.stderr, result.stderr
assert (out / "plot.png").read_bytes() == before and not (out / "plot.png.part").exists()

# 8. A failed run's spikes.h5 can hold the block it failed in, past summary.json's simulated_ms:
#    drawn, not refused.
out = scratch / "failed"
shutil.copytree(source_run, out)
summary = json.loads((out / "summary.json").read_text())
summary.update(status="failed", message="a report could not be written", simulated_ms=150.0, steps=1500)
(out / "summary.json").write_text(json.dumps(summary, indent=2))
result = plotted(out)
assert "Traceback" not in result.stderr, result.stderr

print("ifsim_plot: windowed bins, AdEx F-I without theory, --from, interrupted and killed runs, altered files")
