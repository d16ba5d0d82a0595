#!/usr/bin/env bash
# Quick start (1): set up, build, and run the main example, Brunel's network (12,500 LIF neurons,
# 15.6 million synapses, 1 s) — on the GPU when one is usable, else on the CPU — then its
# mean-field theory, the plot and its statistics beside the theory. Outputs: out/brunel/{spikes.h5, summary.json, theory.csv, plot.png}.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
IFSIM_BUILD_TARGET=ifsim tools/build.sh  # the CLI only: tools/test.sh builds the tests
bin=${IFSIM_BUILD_DIR:-build}/tools/ifsim
example=examples/brunel.toml
out=out/brunel
"$bin" run "$example" --out "$out" --backend auto
"$bin" theory "$out/config.resolved.toml" --out "$out/theory.csv"
/usr/bin/python3 tools/ifsim_plot.py "$out" --png "$out/plot.png" --from 100
"$bin" stats "$out" --from 100  # after the start-up transient: rates and CVs beside the mean field
echo "quickstart: wrote $out/spikes.h5, $out/summary.json, $out/theory.csv and $out/plot.png"
