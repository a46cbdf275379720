#!/usr/bin/env bash
# The main job of mest, run by `make demo`: a sparse ResNet-20 compiled ahead of
# time (pattern sparsity 0.90, storage for EM&S at 0.85) trains on Fashion-MNIST
# with MEST's elastic mutation and soft memory bound. Short by default;
# MEST_DEMO_ARGS replaces the run's options, e.g.
#   MEST_DEMO_ARGS="--epochs 30" make demo
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=${MEST_DEMO_DIR:-$build/demo}
args=${MEST_DEMO_ARGS:---epochs 3 --train-limit 20000 --test-limit 5000}
model=examples/resnet20-fmnist-pattern90-ems.mlir
train=$build/examples/mest-train-resnet20-fmnist

echo "== 1. the model: $model, compiled into $train by mestc"
cmake --build "$build" --target mest-train-resnet20-fmnist | tail -1
"$build/bin/mest-opt" --mest-plan --mest-report-cost -o /dev/null "$model" 2>/dev/null | tail -2
echo
echo "== 2. sparse training on Fashion-MNIST: $args"
# shellcheck disable=SC2086
"$train" $args --out "$out/run"
