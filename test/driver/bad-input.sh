#!/usr/bin/env bash
# What the training binary does with bad input, each case a defect an outside
# test found: impossible options, places it cannot write, data files that are
# not files, a diverging run, checkpoints with a valid checksum and impossible
# contents, temporaries left by a kill. Every refusal must exit 1 with a message
# naming the problem (never a signal, never exit 0), before training where the
# problem can be known then. Also the reported weight counts, against counts
# made by hand from test/driver/small-cnn.mlir.
# Usage: bad-input.sh TRAIN_BINARY WORK_DIR
set -uo pipefail
bin=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
small=(--train-limit 640 --test-limit 64 --threads 2 --quiet)
fails=0

# expect_error "what it must say" ARGS...: exit status 1 and the message on stderr.
expect_error() {
  local want=$1; shift
  "$bin" "$@" > "$work/out.txt" 2> "$work/err.txt"
  local rc=$?
  if [ $rc -ne 1 ] || ! grep -qF -- "$want" "$work/err.txt"; then
    echo "FAIL: $* -> exit $rc, expected 1 with '$want'; stderr:"; cat "$work/err.txt"
    fails=$((fails + 1))
  fi
}

# Options: each refused with its name before any work.
expect_error "--lr: nan is not a finite number" --lr nan
expect_error "--lr: inf is not a finite number" --lr inf
expect_error "--lr: -0.1 is out of range" --lr -0.1
expect_error "--momentum: 1 is out of range [0, 1)" --momentum 1
expect_error "--momentum: -nan is not a finite number" --momentum -nan
expect_error "--weight-decay: -1 is out of range" --weight-decay -1
expect_error "--lr-gamma: nan is not a finite number" --lr-gamma nan
expect_error "--epochs: 4294967297 is out of range [1, 100000]" --epochs 4294967297
expect_error "--epochs: 2147483647 is out of range [1, 100000]" --epochs 2147483647
expect_error "--threads 10000: this machine runs" --threads 10000
expect_error "--rank-timeout: -1 is out of range [0, 86400]" --rank-timeout -1
expect_error "--rank-timeout: 'soon' is not an integer" --rank-timeout soon
expect_error "--rank-timeout: '1e3' is not an integer" --rank-timeout 1e3
expect_error "--remove: '1.5' is neither a count" --remove-epoch 1 --remove 1.5
expect_error "--remove: 'nan' is neither a count" --remove-epoch 1 --remove nan
expect_error "--mutate-every: -2 is out of range" --mutate-every -2
expect_error "--val-split: -5 is out of range" --val-split -5
expect_error "--train-limit: -1 is out of range" --train-limit -1
expect_error "--test-limit: 0 is out of range" --test-limit 0
expect_error "--decay-epochs: nan is out of range" --decay-epochs nan
expect_error "--out: needs a path, got an empty one" --out=
expect_error "--remove-epoch: -3 is out of range" --remove-epoch -3 --remove 10

# Places the run writes, checked before training (no metrics line is written).
touch "$work/a-file"
expect_error "$work/a-file: exists and is not a directory" "${small[@]}" --out "$work/a-file"
expect_error "--export $work/missing/m.mest: directory $work/missing" "${small[@]}" \
  --out "$work/o1" --export "$work/missing/m.mest"
expect_error "--forgetting-stats $work/missing/f.mest: directory" "${small[@]}" --out "$work/o1" \
  --remove-epoch 1 --remove 10 --epochs 2 --forgetting-stats "$work/missing/f.mest"
expect_error "--plot $work/missing/p.svg: directory" "${small[@]}" --out "$work/o1" \
  --remove-epoch 1 --remove 10 --epochs 2 --plot "$work/missing/p.svg"
expect_error "--remove 630: would leave 10 of 640 training examples, fewer than one batch of 32" \
  "${small[@]}" --out "$work/o1" --remove-epoch 1 --remove 630 --epochs 2
[ -s "$work/o1/metrics.jsonl" ] && { echo "FAIL: a refused run trained"; fails=$((fails + 1)); }
mkdir -p "$work/o2/metrics.jsonl"
expect_error "metrics file $work/o2/metrics.jsonl: is a directory" "${small[@]}" --out "$work/o2"
# A full disk: the first metrics line fails and says so.
mkdir -p "$work/o3" && ln -s /dev/full "$work/o3/metrics.jsonl"
expect_error "metrics.jsonl: write failed: No space left on device" "${small[@]}" --out "$work/o3" --epochs 1

# Data files that are not regular files.
data=$work/data && mkdir -p "$data/dir/train-images-idx3-ubyte" "$data/fifo" "$data/dev"
mkfifo "$data/fifo/train-images-idx3-ubyte"
ln -s /dev/zero "$data/dev/train-images-idx3-ubyte"
for d in dir fifo dev; do
  ln -sf /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz "$data/$d/train-labels-idx1-ubyte.gz"
done
expect_error "train-images-idx3-ubyte: is a directory, expected a data file" --data "fashion-mnist:$data/dir" --out "$work/o4"
expect_error "train-images-idx3-ubyte: is a FIFO, expected a data file" --data "fashion-mnist:$data/fifo" --out "$work/o4"
expect_error "train-images-idx3-ubyte: is a device, expected a data file" --data "fashion-mnist:$data/dev" --out "$work/o4"

# Counts: 1 epoch without mutation; conv1 (16x1x3x3) and fc (10x32) are dense,
# conv2 (32x16x3x3, pattern 0.9) keeps 16 - round(0.775 * 16) = 4 kernels of 4
# taps per filter: 512 weights; conv3 (32x32x3x3, block 4x1 0.9) keeps
# 2304 - round(0.9 * 2304) = 230 blocks: 920 weights. Stored 144 + 512 + 920 +
# 320 = 1896 of 14288: sparsity 0.86730.
"$bin" "${small[@]}" --epochs 1 --mutation none --out "$work/count" > "$work/count.txt" 2>&1 ||
  { echo "FAIL: the counting run failed"; cat "$work/count.txt"; fails=$((fails + 1)); }
python3 - "$work/count/metrics.jsonl" <<'PY' || fails=$((fails + 1))
import json, sys
m = json.loads(open(sys.argv[1]).readline())
want = {"active_weights": 1896, "sparsity": 0.8673}
got = {"active_weights": m["active_weights"], "sparsity": round(m["sparsity"], 4)}
layers = m["layer_sparsity"]
ok = got == want and layers["conv1"] == 0 and layers["fc"] == 0 and \
    layers["conv2"] == round(1 - 512 / 4608, 4) and layers["conv3"] == round(1 - 920 / 9216, 4)
print("counts:", got, layers)
sys.exit(0 if ok else "FAIL: counts differ from the hand count " + str(want))
PY
grep -q "sparsity 0.8673 overall (1896 of 14288" "$work/count.txt" ||
  { echo "FAIL: summary counts"; fails=$((fails + 1)); }

# A diverging run: epoch 1 trains, epoch 2's learning rate (x 1e9) blows up.
# It stops naming the epoch and batch, exits 1, keeps the epoch-1 checkpoint,
# and every metrics line is JSON.
div=(--epochs 3 --lr 0.05 --lr-schedule step --lr-steps 1 --lr-gamma 1e9 --mutation none)
expect_error "training diverged: the loss of batch" "${small[@]}" "${div[@]}" --out "$work/div"
grep -q "in epoch 2 is NaN\|in epoch 2 is infinite" "$work/err.txt" &&
  grep -q "checkpoint.mest holds the last good state (after epoch 1)" "$work/err.txt" ||
  { echo "FAIL: divergence message"; cat "$work/err.txt"; fails=$((fails + 1)); }
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$work/div/metrics.jsonl" ||
  { echo "FAIL: metrics.jsonl is not JSON"; fails=$((fails + 1)); }
[ ! -e "$work/div/model.mest" ] || { echo "FAIL: a diverged run exported"; fails=$((fails + 1)); }
"$bin" "${small[@]}" --eval-only "$work/div/checkpoint.mest" > /dev/null ||
  { echo "FAIL: the last good checkpoint is unreadable"; fails=$((fails + 1)); }

# Checkpoints whose checksum is valid but whose contents are impossible.
ck=(--epochs 3 --mutation none --remove-epoch 1 --remove 64)
"$bin" "${small[@]}" "${ck[@]}" --epochs 3 --checkpoint-every 1 --out "$work/ck" > /dev/null 2>&1
good=$work/ck/checkpoint.mest
before=$(md5sum < "$good")
craft() {  # craft NAME mestfile.py-arguments...
  cp "$good" "$work/$1.mest"; shift_name=$1; shift
  "$here/mestfile.py" "$1" "$work/$shift_name.mest" "${@:2}"
}
craft next-epoch set-i32 RUN 0 -3
expect_error "next epoch -3 is outside the run's epochs" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume-from "$work/next-epoch.mest"
craft no-keep drop KEEP
expect_error "section 'KEEP' is missing, but examples were removed" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume-from "$work/no-keep.mest"
craft keep-range set-i32 KEEP 8 100000
expect_error "kept example 1 is 100000" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume-from "$work/keep-range.mest"
craft state fill STAT 0xff
expect_error "layer conv1: weight 0 is NaN: not a state training this model can produce" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume-from "$work/state.mest"
expect_error "layer conv1: weight 0 is NaN" "${small[@]}" --eval-only "$work/state.mest"
# A model file naming a data set that does not exist (its normalisation for --predict).
cp "$work/ck/model.mest" "$work/data-kind.mest"
"$here/mestfile.py" fill "$work/data-kind.mest" DATA 0x41
/usr/bin/python3 -c "import numpy as np; np.save('$work/two.npy', np.zeros((2, 28, 28), np.uint8))"
expect_error "the model file names an unknown training data set 'AAAA" "${small[@]}" --predict "$work/two.npy" --model "$work/data-kind.mest" --logits "$work/two-logits.npy"
# A bit flip in the header (the fingerprint) is damage, not another model.
cp "$good" "$work/header.mest"
printf '\x01' | dd of="$work/header.mest" bs=1 seek=17 conv=notrunc status=none
expect_error "checksum mismatch" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume-from "$work/header.mest"
[ "$before" = "$(md5sum < "$good")" ] || { echo "FAIL: a refusal changed the checkpoint"; fails=$((fails + 1)); }

# Temporaries of an interrupted write (no such process) are removed and named.
touch "$work/ck/checkpoint.mest.tmp.4194303" "$work/ck/model.mest.tmp.4194302"
"$bin" "${small[@]}" "${ck[@]}" --out "$work/ck" --resume > /dev/null 2> "$work/err.txt"
for f in checkpoint.mest.tmp.4194303 model.mest.tmp.4194302; do
  if [ -e "$work/ck/$f" ] || ! grep -q "removed $work/ck/$f: left by an interrupted write" "$work/err.txt"; then
    echo "FAIL: stale $f"; cat "$work/err.txt"; fails=$((fails + 1))
  fi
done

if [ $fails -ne 0 ]; then echo "$fails FAILED"; exit 1; fi
echo PASS
