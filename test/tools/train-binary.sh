#!/usr/bin/env bash
# scripts/train-binary.sh, the documented one command, makes a training binary
# of a model for aarch64 that runs (under qemu-user here), and refuses bad
# arguments with a message.
# Usage: train-binary.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export BUILD=$build
"$src/scripts/train-binary.sh" "$src/test/driver/small-cnn.mlir" --target aarch64-linux-gnu \
  -o "$work/train" > "$work/log.txt"
file -b "$work/train" | grep -q "ARM aarch64" || { echo "FAIL: not an aarch64 binary"; exit 1; }
qemu-aarch64 -L /usr/aarch64-linux-gnu \
  -E LD_LIBRARY_PATH=/opt/mest/aarch64-linux-gnu/lib:/usr/lib/aarch64-linux-gnu \
  "$work/train" --help > "$work/help.txt"
grep -q "train the compiled model 'small_cnn'" "$work/help.txt"  # not a pipe: grep -q would end it early
if "$src/scripts/train-binary.sh" "$work/none.mlir" -o "$work/x" 2> "$work/err.txt"; then
  echo "FAIL: a missing model was accepted"; exit 1
fi
grep -q "no such file" "$work/err.txt"
if "$src/scripts/train-binary.sh" "$src/test/driver/small-cnn.mlir" --target riscv64 -o "$work/x" \
    2> "$work/err.txt"; then
  echo "FAIL: an unsupported target was accepted"; exit 1
fi
grep -q "supported are" "$work/err.txt"
echo "train-binary.sh: aarch64 binary built and runs; bad arguments refused"
