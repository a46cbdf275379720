#!/usr/bin/env bash
# Three SGD steps of mest against PyTorch autograd (make-torch-sgd.py, float64,
# committed): a small network with every imported activation, depthwise and
# grouped convolutions and squeeze-and-excitation, imported from its PRESERVE
# export, trained on its batch of 16 (one step an epoch, constant learning
# rate, momentum and weight decay as PyTorch's SGD); each step's loss within
# 2e-5 of PyTorch's and the eval logits of the updated network within 2e-6
# relative (the 3 steps move them by ~30%). CASE dropout is the network of
# make-torch-dropout.py, whose masks PyTorch rebuilt from mest's dropout
# stream for the seed in its expected.json.
# Usage: torch-sgd.sh BIN_DIR SOURCE_DIR WORK_DIR [CASE]
set -euo pipefail
bin=$1 src=$2 work=$3 case=${4:-sgd}
inputs=$src/test/onnx/Inputs/$case
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
cd "$work"
read -r lr momentum wd steps seed < <($py -c "import json; e = json.load(open('$inputs/expected.json')); print(e['lr'], e['momentum'], e['weight_decay'], e['steps'], e.get('seed', 914))")
"$bin/mest-import" "$inputs/model-preserve.onnx" --batch 16 --scheme dense --weights onnx -o model.mlir
"$bin/mestc" model.mlir --emit exe -o model.train
./model.train --init model.init --data "npy:$inputs/data" --epochs "$steps" --lr "$lr" \
  --momentum "$momentum" --weight-decay "$wd" --lr-schedule step --lr-gamma 1 --mutation none \
  --augment off --seed "$seed" --threads 2 --quiet --out run > train.log
./model.train --predict "$inputs/data/x_train.npy" --model run/model.mest --logits after.npy > /dev/null
$py - "$inputs" <<'PY'
import json, sys
import numpy as np
inputs = sys.argv[1]
expected = json.load(open(f"{inputs}/expected.json"))
losses = [json.loads(line)["train_loss"] for line in open("run/metrics.jsonl")]
ok = len(losses) == expected["steps"]
for k, (m, t) in enumerate(zip(losses, expected["losses"])):
    print(f"step {k}: loss mest {m:.5f}, PyTorch {t:.7f}")
    ok &= abs(m - t) <= 2e-5
mest, torch = np.load("after.npy"), np.load(f"{inputs}/logits-after.npy")
e = float(np.abs(mest - torch).max() / np.abs(torch).max())
print(f"logits after {expected['steps']} steps: relative error {e:.3g}")
ok &= e <= 2e-6
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
