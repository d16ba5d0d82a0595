#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite. CI (.ci/run) runs this, then the
# same suite in a build without CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
IFSIM_BUILD_TARGET= tools/build.sh  # everything, whatever the environment says
ctest --test-dir "${IFSIM_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 900
