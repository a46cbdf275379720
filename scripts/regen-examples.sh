#!/usr/bin/env bash
# Regenerates the checked-in example models with mest-model. A lit test
# (test/tools/examples.test) fails when examples/ and this script disagree.
# Usage: scripts/regen-examples.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
build=${1:-build}
out=${2:-$(dirname "$0")/../examples}
gen="$build/bin/mest-model"
"$gen" --model resnet32 --scheme pattern --sparsity 0.9 --capacity 0.85 -o "$out/resnet32-pattern90-ems.mlir"
"$gen" --model resnet32 --scheme block --sparsity 0.9 -o "$out/resnet32-block90.mlir"
"$gen" --model resnet32 --scheme unstructured --sparsity 0.9 -o "$out/resnet32-unstructured90.mlir"
"$gen" --model resnet32 --scheme dense -o "$out/resnet32-dense.mlir"
"$gen" --model resnet20 --scheme pattern --sparsity 0.9 --capacity 0.85 --input 1x28x28 \
  -o "$out/resnet20-fmnist-pattern90-ems.mlir"
