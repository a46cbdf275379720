#!/usr/bin/env bash
# MobileNetV2 trained sparse on Fashion-MNIST, against the dense run of the same
# network (docs/accuracy.md, "MobileNetV2"): torchvision's mobilenet_v2 (width
# 1.0, 10 classes) with its first convolution taking one channel, exported by
# PyTorch from training mode (TrainingMode.PRESERVE: its classifier's Dropout(0.2)
# is in the file and trains), imported by mest-import dense and at 90%
# unstructured (the default policy: the first and the depthwise convolutions and
# the classifier stay dense), linked by `mestc --emit exe`, trained on
# Fashion-MNIST as .npy files (`--data npy`, uint8 28x28, scaled to [0, 1]) with
# the training binary's defaults (cosine schedule, the default mutation for the
# sparse run) but a learning rate of 0.05: at the default 0.1 the sparse run
# diverged in its first epoch (a batch-norm variance overflowed).
# Needs python3-torch and python3-torchvision (scripts/install-deps.sh --bench).
# Rerunning resumes unfinished runs (each checkpoints every epoch).
# Usage: scripts/mobilenet-fashion.sh BUILD_DIR
#   MEST_MN_EPOCHS (default 20), MEST_MN_SEED (default 914), MEST_MN_LR (0.05), MEST_MN_THREADS
#   (default: all cores), MEST_MN_DIR (default BUILD_DIR/mobilenet-fashion)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
epochs=${MEST_MN_EPOCHS:-20}
seed=${MEST_MN_SEED:-914}
lr=${MEST_MN_LR:-0.05}
threads=${MEST_MN_THREADS:-$(nproc)}
dir=${MEST_MN_DIR:-$build/mobilenet-fashion}
mkdir -p "$dir" && cd "$dir"
if [[ ! -f model.onnx ]]; then
  /usr/bin/python3 - <<'PY'
import torch, torchvision
torch.manual_seed(0)
m = torchvision.models.mobilenet_v2(num_classes=10)
m.features[0][0] = torch.nn.Conv2d(1, 32, 3, 2, 1, bias=False)
m.train()
torch.onnx.export(m, torch.randn(64, 1, 28, 28), "model.onnx", input_names=["image"],
                  output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
PY
fi
if [[ ! -f data/y_test.npy ]]; then
  /usr/bin/python3 - <<'PY'
import gzip, pathlib
import numpy as np
src = pathlib.Path("/usr/share/datasets/fashion-mnist")
def idx(base, offset):
    p = src / base
    p = p if p.exists() else src / (base + ".gz")
    raw = gzip.open(p).read() if p.suffix == ".gz" else p.read_bytes()
    return np.frombuffer(raw, np.uint8, offset=offset)
d = pathlib.Path("data")
d.mkdir(exist_ok=True)
for part, base in (("train", "train"), ("test", "t10k")):
    np.save(d / f"x_{part}.npy", idx(f"{base}-images-idx3-ubyte", 16).reshape(-1, 28, 28))
    np.save(d / f"y_{part}.npy", idx(f"{base}-labels-idx1-ubyte", 8).astype(np.int64))
PY
fi
for run in unstructured-90 dense; do
  if [[ ! -x $run.train ]]; then
    scheme=${run%-90}
    policy=(--scheme "$scheme")
    [[ $scheme == dense ]] || policy+=(--sparsity 0.9)
    "$build/bin/mest-import" model.onnx --batch 64 "${policy[@]}" -o $run.mlir
    "$build/bin/mestc" $run.mlir --emit exe -o $run.train
  fi
  if [[ -f $run/model.mest ]]; then echo "$run: done"; continue; fi
  resume=()
  [[ -f $run/checkpoint.mest ]] && resume=(--resume)
  mutation=()
  [[ $run == dense ]] && mutation=(--mutation none)
  echo "== $run: $epochs epochs"
  /usr/bin/time -v ./$run.train --data npy:data --epochs "$epochs" --seed "$seed" --lr "$lr" \
    --threads "$threads" "${mutation[@]}" "${resume[@]}" --out $run 2> $run.time | tee -a $run.log
  grep -E "Elapsed|Maximum resident" $run.time
done
