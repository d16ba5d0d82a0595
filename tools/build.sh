#!/usr/bin/env bash
# Configures and builds ifsim (Release) in ${IFSIM_BUILD_DIR:-build}: everything, or only the
# target IFSIM_BUILD_TARGET names (the quick start's `ifsim`, without the tests: half the time).
# The CUDA library is built too when nvcc is on PATH or in /usr/local/cuda; pass extra CMake
# options as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IFSIM_BUILD_DIR:-build}
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" ${IFSIM_BUILD_TARGET:+--target "$IFSIM_BUILD_TARGET"}
