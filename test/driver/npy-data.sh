#!/usr/bin/env bash
# --data npy:DIR against the IDX loader as the independent reference: the
# Fashion-MNIST files converted by numpy into .npy (float32 [N, 1, 28, 28]
# normalised as the IDX loader does, and uint8 [N, 28, 28, 1] channels-last)
# train like the IDX files; each malformed file is refused, named, with exit 1.
# Usage: npy-data.sh TRAIN_BINARY WORK_DIR
set -euo pipefail
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
py=/usr/bin/python3
$py - "$work" <<'PY'
import gzip, sys, pathlib
import numpy as np
work = pathlib.Path(sys.argv[1])
src = pathlib.Path("/usr/share/datasets/fashion-mnist")
def idx(name, offset, n, shape):
    p = src / name
    raw = gzip.open(p).read() if name.endswith(".gz") else p.read_bytes()
    return np.frombuffer(raw, np.uint8, offset=offset)[: n * int(np.prod(shape))].reshape((n,) + shape)
def find(base):
    return base if (src / base).exists() else base + ".gz"
sets = {}
for part, prefix, n in (("train", "train", 640), ("test", "t10k", 128)):
    x = idx(find(prefix + "-images-idx3-ubyte"), 16, n, (28, 28))
    y = idx(find(prefix + "-labels-idx1-ubyte"), 8, n, ()).astype(np.int64)
    sets[part] = (x, y)
def save(d, x_train, x_test):
    d = work / d
    d.mkdir()
    np.save(d / "x_train.npy", x_train); np.save(d / "y_train.npy", sets["train"][1])
    np.save(d / "x_test.npy", x_test);   np.save(d / "y_test.npy", sets["test"][1])
    return d
norm = lambda x: ((x.astype(np.float32) / 255 - np.float32(0.2860)) / np.float32(0.3530))[:, None]
save("float", norm(sets["train"][0]), norm(sets["test"][0]))
# For --predict: 100 test images, not a multiple of the batch (32).
p100 = save("p100", norm(sets["train"][0]), norm(sets["test"][0])[:100])
np.save(p100 / "y_test.npy", sets["test"][1][:100])
np.save(work / "wrong-shape.npy", np.zeros((4, 3, 28, 28), np.float32))
save("uint8", sets["train"][0][..., None], sets["test"][0][..., None])
scaled = lambda x: (x.astype(np.float32) * np.float32(1 / np.float32(255)))[:, None]  # the loader's arithmetic
save("scaled", scaled(sets["train"][0]), scaled(sets["test"][0]))
# Malformed variants, one defect each.
def variant(name, **files):
    d = work / name
    d.mkdir()
    base = {"x_train.npy": norm(sets["train"][0]), "y_train.npy": sets["train"][1],
            "x_test.npy": norm(sets["test"][0]), "y_test.npy": sets["test"][1]}
    base.update(files)
    for f, a in base.items():
        if isinstance(a, bytes): (d / f).write_bytes(a)
        else: np.save(d / f, a)
x = norm(sets["train"][0])
variant("int16", **{"x_train.npy": x.astype(np.int16)})
variant("fortran", **{"x_train.npy": np.asfortranarray(x[:, 0])})
variant("count", **{"y_train.npy": sets["train"][1][:-1]})
bad = sets["train"][1].copy(); bad[5] = 10
variant("label", **{"y_train.npy": bad})
nan = x.copy(); nan[3, 0, 0, 0] = np.nan
variant("nan", **{"x_train.npy": nan})
variant("shape", **{"x_train.npy": x[:, 0, 0]})
variant("magic", **{"x_train.npy": b"not an npy file at all"})
import io
buf = io.BytesIO(); np.save(buf, x); raw = buf.getvalue()
variant("truncated", **{"x_train.npy": raw[: len(raw) // 2]})
PY
common=(--epochs 2 --threads 1 --quiet --mutation ems --seed 7 --augment off)
"$bin" "${common[@]}" --train-limit 640 --test-limit 128 --out "$work/idx-run" > /dev/null
"$bin" "${common[@]}" --data "npy:$work/float" --out "$work/float-run" > /dev/null
"$bin" "${common[@]}" --data "npy:$work/uint8" --out "$work/uint8-run" > /dev/null
"$bin" "${common[@]}" --data "npy:$work/scaled" --out "$work/scaled-run" > /dev/null
$py - "$work" <<'PY'
import json, sys
w = sys.argv[1]
read = lambda r: [json.loads(l) for l in open(f"{w}/{r}/metrics.jsonl")]
def same(a_runs, b_runs, what):
    assert len(a_runs) == len(b_runs) == 2, (len(a_runs), len(b_runs))
    for a, b in zip(a_runs, b_runs):
        for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            if abs(a[k] - b[k]) > 1e-4 * max(1, abs(a[k])):
                sys.exit(f"FAIL: epoch {a['epoch']} {k}: {what}: {a[k]} vs {b[k]}")
same(read("idx-run"), read("float-run"), "IDX vs npy float32")
# uint8 channels-last is scaled to [0, 1]: as float32 x / 255 channels-first.
same(read("scaled-run"), read("uint8-run"), "npy float32 x/255 vs npy uint8 NHWC")
print("npy float32 run equals the IDX run; uint8 NHWC equals float32 x/255:",
      [round(r["train_loss"], 5) for r in read("float-run")])
PY
expect() {  # variant, words the message must hold
  local v=$1 words=$2
  if "$bin" "${common[@]}" --data "npy:$work/$v" --out "$work/run-$v" 2> "$work/err-$v.txt" > /dev/null; then
    echo "FAIL: npy variant '$v' was accepted"; exit 1
  fi
  grep -q -- "$words" "$work/err-$v.txt" || { echo "FAIL: '$v': expected \"$words\" in:"; cat "$work/err-$v.txt"; exit 1; }
  head -1 "$work/err-$v.txt"
}
expect int16 "dtype int16"
expect fortran "Fortran-ordered"
expect count "holds 640 images but"
expect label "label 10 of example 5 is outside \[0, 10)"
expect nan "non-finite"
expect shape "images of shape"
expect magic "not an .npy file"
expect truncated "truncated"
# --predict: the logits of the trained model, a batch at a time (the last one
# partial), give the loss and accuracy --eval-only reports on the same images.
"$bin" --predict "$work/p100/x_test.npy" --model "$work/float-run/model.mest" \
  --logits "$work/logits.npy" --data "npy:$work/p100" --threads 1 > /dev/null
"$bin" --eval-only "$work/float-run/model.mest" --data "npy:$work/p100" --threads 1 > "$work/eval.txt"
$py - "$work" <<'PY'
import re, sys
import numpy as np
w = sys.argv[1]
logits, y = np.load(f"{w}/logits.npy"), np.load(f"{w}/p100/y_test.npy")
assert logits.shape == (100, 10) and logits.dtype == np.float32, (logits.shape, logits.dtype)
z = logits.astype(np.float64)
lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
loss, acc = float((lse - z[np.arange(100), y]).mean()), float((z.argmax(1) == y).mean())
m = re.search(r"accuracy ([0-9.]+)% loss ([0-9.]+)", open(f"{w}/eval.txt").read())
ref_acc, ref_loss = float(m.group(1)) / 100, float(m.group(2))
if abs(acc - ref_acc) > 1e-9 or abs(loss - ref_loss) > 1e-4:
    sys.exit(f"FAIL: --predict logits give accuracy {acc} loss {loss}, --eval-only {ref_acc} {ref_loss}")
print(f"--predict: logits [100, 10] give loss {loss:.4f}, accuracy {acc:.2%}, as --eval-only")
PY
# A model trained on npy data remembers it: --predict without --data scales
# uint8 images to [0, 1] as training did (not as fashion-mnist's mean and std).
"$bin" --predict "$work/uint8/x_test.npy" --model "$work/uint8-run/model.mest" \
  --logits "$work/u8.npy" --threads 1 > /dev/null
"$bin" --predict "$work/scaled/x_test.npy" --model "$work/uint8-run/model.mest" \
  --logits "$work/scaled.npy" --threads 1 > /dev/null
$py -c "
import numpy as np, sys
a, b = np.load('$work/u8.npy'), np.load('$work/scaled.npy')
np.array_equal(a, b) or sys.exit('FAIL: --predict normalises uint8 images unlike the training data')
print('--predict of uint8 images without --data: as the npy training data (equal logits)')"
refuse() {  # words, then the arguments
  local words=$1; shift
  if "$bin" "$@" 2> "$work/err.txt" > /dev/null; then echo "FAIL: accepted: $*"; exit 1; fi
  grep -q -- "$words" "$work/err.txt" || { echo "FAIL: expected \"$words\" in:"; cat "$work/err.txt"; exit 1; }
  head -1 "$work/err.txt"
}
refuse "needs one of --model FILE" --predict "$work/p100/x_test.npy"
refuse "goes with --predict" --logits "$work/x.npy"
refuse "but model small_cnn takes 1x28x28" --predict "$work/wrong-shape.npy" --model "$work/float-run/model.mest" --logits "$work/x.npy"
echo "npy data: loads like IDX; 8 malformed variants refused; --predict equals --eval-only"
