#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
ctest --test-dir "${IFSIM_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 900
