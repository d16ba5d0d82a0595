#!/usr/bin/env bash
# Installs what ifsim needs to build, test and plot, from Debian's packages. Idempotent: installs
# only what is missing, so a second run costs a second. Needs root (or sudo) the first time.
#   tools/setup.sh           build + test + plot dependencies
#   tools/setup.sh --bench   also the peers the CPU benchmarks compare against: Brian2, and the venv
#                            tool that bench/microcircuit_cpu.sh installs NEST (PyPI) with
set -euo pipefail

packages=(cmake g++ make pkg-config libcli11-dev libtomlplusplus-dev libhdf5-dev libgtest-dev
          python3 python3-numpy python3-matplotlib python3-h5py)
if [[ "${1:-}" == "--bench" ]]; then packages+=(python3-brian python3-scipy python3-venv); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
