#!/usr/bin/env python3
"""Runs the Python examples of docs/output.md ("Reading with h5py") against a real run and checks
what they compute against the files read independently, so that the documented way of reading
the outputs keeps working. Exit 77 (skipped) without h5py.

    docs_output_snippets.py IFSIM_BINARY SOURCE_DIR SCRATCH_DIR
"""
import pathlib
import re
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

ifsim, source, scratch = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
shutil.rmtree(scratch, ignore_errors=True)
scratch.mkdir(parents=True)
out = scratch / "run1"
# Recorded neurons listed out of order, so that node_ids are not sorted.
subprocess.run([ifsim, "run", str(source / "examples/noisy_lif.toml"), "--out", str(out),
                "--set", "simulation.duration=250ms", "--set", "population.E.size=100",
                "--set", "record.E_V_m.neurons=[7, 2, 50]"], check=True, stderr=subprocess.DEVNULL)

text = (source / "docs/output.md").read_text()
section = text.split("## Reading with h5py", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
assert len(blocks) == 2, f"expected two python blocks in 'Reading with h5py', found {len(blocks)}"

names = {}
code = blocks[0].replace('out = "run1"', f"out = {str(out)!r}", 1)
assert code != blocks[0], "the first block no longer sets out = \"run1\""
exec(code, names)
exec(blocks[1], names)

with h5py.File(out / "spikes.h5", "r") as f:
    ids = f["spikes/E/node_ids"][:]
    ts = f["spikes/E/timestamps"][:]
assert len(ids) > 0 and np.any((ts >= 100.0) & (ts < 200.0)), "the run made no spikes in the window"
T_s = 0.25
expected_rate = np.array([np.count_nonzero(ids == i) for i in range(100)]) / T_s
assert np.array_equal(names["rate"], expected_rate), "per-neuron rates differ"

with h5py.File(out / "E_V_m.h5", "r") as f:
    data = f["report/E/data"][:]
    assert list(f["report/E/mapping/node_ids"][:]) == [7, 2, 50]
assert np.array_equal(names["v"], data[:, 1]), "the trace read for node 2 is not node 2's column"
assert len(names["t"]) == data.shape[0]

window = (ts >= 100.0) & (ts < 200.0)
assert np.array_equal(names["window_ids"], ids[window]), "the time window's ids differ"
print("docs/output.md examples: rates, node 2's trace and the window read as documented")
