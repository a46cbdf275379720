#!/usr/bin/env bash
# Data efficiency end to end: phase 1 counts forgetting events, at --remove-epoch
# the least-forgotten examples are dropped and the remaining epochs visit only
# the kept ones; the statistics file, the report and the plot; a second run that
# loads the statistics removes the same examples from epoch 0.
# Usage: data-efficiency.sh TRAIN_BINARY WORK_DIR
set -euo pipefail
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
# 4096 examples, batch 32: epoch 0 uses 128 batches, epochs 1-2 use 3072 / 32 = 96.
common=(--train-limit 4096 --test-limit 512 --epochs 3 --threads 2 --quiet --seed 3)
"$bin" "${common[@]}" --remove-epoch 1 --remove 1024 --forgetting-stats "$work/stats.mest" \
  --plot "$work/hist.svg" --out "$work/run" > "$work/log.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
cat "$work/log.txt"
last=$(tail -n 1 "$work/run/metrics.jsonl")
echo "$last" | grep -q '"examples_used": 3072' || { echo "FAIL: examples_used"; exit 1; }
echo "$last" | grep -q '"examples_processed": 10240' || { echo "FAIL: examples_processed"; exit 1; }
head -n 1 "$work/run/metrics.jsonl" | grep -q '"examples_used": 4096'
grep -q "final test accuracy" "$work/log.txt"
[ -s "$work/stats.mest" ] && grep -q "<svg" "$work/hist.svg"

"$bin" --report "$work/stats.mest" --remove 1024 > "$work/report.txt"
cat "$work/report.txt"
grep -q "4096 examples" "$work/report.txt"
grep -q "forgetting events: 0:" "$work/report.txt"

# Phase 1 skipped: load the statistics and remove at epoch 0 (file unchanged).
before=$(md5sum < "$work/stats.mest")
"$bin" "${common[@]}" --epochs 2 --remove-epoch 0 --remove 1024 \
  --forgetting-stats "$work/stats.mest" --out "$work/run2" > "$work/log2.txt"
[ "$before" = "$(md5sum < "$work/stats.mest")" ] || { echo "FAIL: statistics overwritten"; exit 1; }
head -n 1 "$work/run2/metrics.jsonl" | grep -q '"examples_used": 3072' || { echo "FAIL: run2"; exit 1; }
# A statistics file of another data set size is refused.
if "$bin" "${common[@]}" --train-limit 2048 --remove-epoch 0 --remove 10 \
     --forgetting-stats "$work/stats.mest" --out "$work/run3" 2> "$work/err3.txt"; then
  echo "FAIL: mismatched statistics accepted"; exit 1
fi
grep -q "statistics of 4096 examples, but the training set has 2048" "$work/err3.txt"
echo PASS
