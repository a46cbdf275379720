#!/usr/bin/env bash
# Installs mest's toolchain and data set from Debian 12 packages. Idempotent and
# non-interactive: packages already present are not touched, apt-get runs only when
# something is missing. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

pkgs=(llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld ninja-build cmake
      libhalide14-0-dev catch2 libfmt-dev zlib1g-dev libomp-19-dev python3 make
      dataset-fashion-mnist file)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(libdnnl-dev python3-torch python3-matplotlib)
fi
if [[ "${1:-}" == "--fuzz" ]]; then  # libFuzzer and the sanitizer runtimes of clang-19
  pkgs+=(libclang-rt-19-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "mest: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
