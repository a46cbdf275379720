#!/usr/bin/env bash
# The main job of mest, run by `make demo`. Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=${MEST_DEMO_DIR:-$build/demo}
mkdir -p "$out"
model="$out/resnet20-fmnist-pattern90-ems.mlir"

echo "== 1. generate a ResNet-20 for Fashion-MNIST: pattern sparsity 0.90, capacity 0.85 (EM&S)"
"$build/bin/mest-model" --model resnet20 --input 1x28x28 --batch 64 \
  --scheme pattern --sparsity 0.9 --capacity 0.85 -o "$model"
echo "   wrote $model"
echo
echo "== 2. verify it and report what it will cost"
"$build/bin/mest-opt" --mest-report-cost -o /dev/null "$model"
