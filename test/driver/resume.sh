#!/usr/bin/env bash
# Killing a run at any moment loses at most the work since the last checkpoint,
# and --resume continues bit-identically: the model exported by a run killed
# with SIGKILL mid-way and resumed equals the one of an uninterrupted run.
# A corrupt checkpoint is refused and left untouched.
# Usage: resume.sh TRAIN_BINARY WORK_DIR
set -euo pipefail
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
common=(--train-limit 3200 --test-limit 320 --epochs 4 --threads 2 --quiet --mutation ems --seed 7)
"$bin" "${common[@]}" --out "$work/whole" > /dev/null

"$bin" "${common[@]}" --out "$work/killed" > /dev/null &
pid=$!
# Wait for the first checkpoint, then kill during the next epoch.
for _ in $(seq 1 600); do
  [ -f "$work/killed/checkpoint.mest" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
sleep 0.3
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
[ -f "$work/killed/checkpoint.mest" ] || { echo "FAIL: no checkpoint before the kill"; exit 1; }
if [ -f "$work/killed/model.mest" ]; then echo "note: the run finished before the kill"; fi
"$bin" "${common[@]}" --out "$work/killed" --resume > /dev/null
cmp "$work/whole/model.mest" "$work/killed/model.mest" || { echo "FAIL: resumed run differs"; exit 1; }
echo "resumed run is bit-identical"

# Corruption: flip a byte in the middle; resume must refuse and keep the file.
cp "$work/killed/checkpoint.mest" "$work/corrupt.mest"
size=$(stat -c %s "$work/corrupt.mest")
printf '\xff' | dd of="$work/corrupt.mest" bs=1 seek=$((size / 2)) conv=notrunc status=none
before=$(md5sum < "$work/corrupt.mest")
if "$bin" "${common[@]}" --out "$work/killed" --resume-from "$work/corrupt.mest" 2> "$work/err.txt"; then
  echo "FAIL: a corrupt checkpoint was accepted"; exit 1
fi
cat "$work/err.txt"
grep -q "checksum mismatch" "$work/err.txt"
[ "$before" = "$(md5sum < "$work/corrupt.mest")" ] || { echo "FAIL: the corrupt file changed"; exit 1; }
# Truncation.
head -c $((size - 100)) "$work/killed/checkpoint.mest" > "$work/short.mest"
if "$bin" "${common[@]}" --out "$work/killed" --resume-from "$work/short.mest" 2> "$work/err.txt"; then
  echo "FAIL: a truncated checkpoint was accepted"; exit 1
fi
grep -q "truncated" "$work/err.txt"
echo PASS
