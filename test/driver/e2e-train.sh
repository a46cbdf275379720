#!/usr/bin/env bash
# End to end: a short sparse training run on a Fashion-MNIST subset reaches
# clearly-above-chance accuracy (chance is 10%), keeps its sparsity, and writes
# metrics, a checkpoint and an exported model that --eval-only reads back.
# Usage: e2e-train.sh TRAIN_BINARY WORK_DIR
set -euo pipefail
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
common=(--train-limit 4096 --test-limit 1024 --epochs 3 --threads 2 --quiet)
"$bin" "${common[@]}" --out "$work/run" > "$work/log.txt"
cat "$work/log.txt"
acc=$(sed -n 's/.*final test accuracy \([0-9.]*\)%.*/\1/p' "$work/log.txt")
sparsity=$(sed -n 's/.*sparsity \([0-9.]*\) overall.*/\1/p' "$work/log.txt")
echo "accuracy $acc sparsity $sparsity"
awk -v a="$acc" 'BEGIN { exit !(a > 50.0) }' || { echo "FAIL: accuracy $acc% is not above 50%"; exit 1; }
awk -v s="$sparsity" 'BEGIN { exit !(s > 0.80) }' || { echo "FAIL: sparsity $sparsity"; exit 1; }
test "$(wc -l < "$work/run/metrics.jsonl")" -eq 3 || { echo "FAIL: expected 3 metrics lines"; exit 1; }
grep -q '"layer_sparsity"' "$work/run/metrics.jsonl"
"$bin" --eval-only "$work/run/model.mest" --test-limit 1024 | tee "$work/eval.txt"
grep -q "accuracy $acc" "$work/eval.txt" || { echo "FAIL: --eval-only disagrees with the run"; exit 1; }
echo PASS
