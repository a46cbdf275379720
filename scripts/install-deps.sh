#!/usr/bin/env bash
# Installs mest's toolchain and data set from Debian 12 packages. Idempotent and
# non-interactive: packages already present are not touched, apt-get runs only when
# something is missing. Usage: scripts/install-deps.sh [--bench | --fuzz]
# ONNX (import, export, ONNX's node tests; OpenCV's DNN as the independent runtime
# that checks exported files), OpenMPI (data-parallel training). Also the aarch64 cross build and its emulation (make test runs the aarch64 tests
# under qemu-user): the cross C/C++ libraries, arm64 zlib and fmt from Debian's
# multiarch, and libomp for arm64 unpacked into /opt/mest/aarch64-linux-gnu/lib
# (its package cannot be installed next to the host's: both own the same path).
set -euo pipefail

pkgs=(llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld ninja-build cmake
      libhalide14-0-dev catch2 libfmt-dev zlib1g-dev libomp-19-dev python3 make
      dataset-fashion-mnist file python3-numpy
      qemu-user libc6-dev-arm64-cross libstdc++-12-dev-arm64-cross libgcc-12-dev-arm64-cross
      zlib1g-dev:arm64 libfmt-dev:arm64
      libonnx-dev libprotobuf-dev libonnx-testdata python3-onnx python3-opencv
      libopenmpi-dev openmpi-bin)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(libdnnl-dev python3-torch python3-torchvision python3-matplotlib)
fi
if [[ "${1:-}" == "--fuzz" ]]; then  # libFuzzer and the sanitizer runtimes of clang-19
  pkgs+=(libclang-rt-19-dev)
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
updated=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "mest: enabling the arm64 architecture (multiarch) for the aarch64 cross build"
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
  updated=1
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "mest: installing ${missing[*]}"
  [[ $updated -eq 1 ]] || $sudo apt-get update -qq
  updated=1
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

omp=/opt/mest/aarch64-linux-gnu/lib
if [[ ! -e $omp/libomp.so ]]; then
  echo "mest: unpacking libomp5-19:arm64 into $omp"
  [[ $updated -eq 1 ]] || $sudo apt-get update -qq
  tmp=$(mktemp -d)
  chmod 777 "$tmp"  # apt-get download writes as the _apt user
  (cd "$tmp" && apt-get download -qq libomp5-19:arm64 && dpkg-deb -x libomp5-19_*_arm64.deb root)
  $sudo mkdir -p "$omp"
  $sudo cp "$tmp/root/usr/lib/llvm-19/lib/libomp.so.5" "$omp/"
  $sudo ln -sf libomp.so.5 "$omp/libomp.so"
  rm -rf "$tmp"
fi

# SparseProp 0.1.14 (Nikdan et al., ICML 2023), the peer baseline of `make bench`
# (bench/sparseprop/): --bench only. A venv at /opt/mest/sparseprop-venv made with
# --system-site-packages over Debian's python3-torch, numpy, scipy and pybind11, then
# `pip install --no-build-isolation --no-deps` (its setup.py runs `pip install pybind11` and
# `python3 -m pybind11 --includes` itself, so the venv's bin/ goes first on PATH). Source: the
# copy of the 0.1.14 release vendored in third_party/sparseprop-0.1.14 (Apache-2.0; github
# IST-DASLab/sparseprop at 24bed6b, the commit that set 0.1.14; sources unchanged since) as the
# one path that works offline and builds the same code everywhere; PyPI's sparseprop==0.1.14
# only if that copy is missing. Built in a temporary copy (pip builds in-tree) with -march=native
# as upstream does. A failure warns loudly, leaves no venv and does not fail this script.
sparseprop_venv=/opt/mest/sparseprop-venv
sparseprop_src=$(cd "$(dirname "$0")/.." && pwd)/third_party/sparseprop-0.1.14
install_sparseprop() {
  local p missing=() tmp
  for p in python3-venv python3-dev python3-pybind11 python3-scipy g++; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "mest: installing ${missing[*]} (for SparseProp)"
    if [[ $updated -eq 0 ]]; then $sudo apt-get update -qq || return 1; updated=1; fi
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
  fi
  echo "mest: installing SparseProp 0.1.14 into $sparseprop_venv"
  $sudo mkdir -p /opt/mest && $sudo rm -rf "$sparseprop_venv" &&
    $sudo /usr/bin/python3 -m venv --system-site-packages "$sparseprop_venv" || return 1
  local env=(env PATH="$sparseprop_venv/bin:$PATH" VIRTUAL_ENV="$sparseprop_venv"
             PIP_DISABLE_PIP_VERSION_CHECK=1)
  if [[ -f $sparseprop_src/setup.py ]]; then
    tmp=$(mktemp -d) && cp -r "$sparseprop_src" "$tmp/src" || return 1
    $sudo "${env[@]}" PIP_NO_INDEX=1 pip install -q --no-build-isolation --no-deps "$tmp/src"
    p=$?; $sudo rm -rf "$tmp"; [[ $p -eq 0 ]] || return 1
  else
    $sudo "${env[@]}" pip install -q --timeout 15 --retries 1 --no-build-isolation --no-deps \
      sparseprop==0.1.14 || return 1
  fi
  "$sparseprop_venv/bin/python" -c "import sparseprop.utils" || return 1
}
if [[ "${1:-}" == "--bench" ]] &&
   ! "$sparseprop_venv/bin/python" -c "import importlib.metadata as m, sparseprop.utils
assert m.version('sparseprop') == '0.1.14'" 2>/dev/null; then
  if ! install_sparseprop; then
    $sudo rm -rf "$sparseprop_venv"  # no half-made venv for make bench to find
    echo "mest: WARNING ==========================================================" >&2
    echo "mest: WARNING: SparseProp 0.1.14 could not be installed into $sparseprop_venv:" >&2
    echo "mest: WARNING: make bench will have no SparseProp row (see the messages above)." >&2
    echo "mest: WARNING ==========================================================" >&2
  fi
fi
