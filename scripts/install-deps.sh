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
  pkgs+=(libdnnl-dev python3-torch python3-matplotlib)
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
