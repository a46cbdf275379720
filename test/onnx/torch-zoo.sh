#!/usr/bin/env bash
# A torchvision model (make-torch-zoo.py, random weights) exported both ways
# imports, compiles and, from the ONNX weights, gives PyTorch's logits (1e-5
# relative) and OpenCV's; then, imported sparse by the default policy (90%
# unstructured; grouped and depthwise convolutions dense, one made unstructured
# by --override), it trains on a few Fashion-MNIST images padded to 3x32x32,
# and the exported trained model gives OpenCV the logits mest predicts.
# Usage: torch-zoo.sh BIN_DIR SOURCE_DIR WORK_DIR MODEL [GROUPED_LAYER]
set -euo pipefail
bin=$1 src=$2 work=$3 model=$4 grouped=${5:-}
inputs=$src/test/onnx/Inputs/zoo
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
cd "$work"
for mode in eval preserve; do
  # A model without batch norm has one export (make-torch-zoo.py).
  [[ -f $inputs/$model-$mode.onnx ]] || { echo "$model: no $mode export (no batch norm to fold)"; continue; }
  "$bin/mest-import" "$inputs/$model-$mode.onnx" --batch 4 --scheme dense --weights onnx -o $mode.mlir
  "$bin/mestc" $mode.mlir --emit exe -o $mode.train
  ./$mode.train --predict "$inputs/$model-images.npy" --init $mode.init --logits $mode.logits.npy
  # OpenCV 4.6 cannot parse the shape arithmetic of PyTorch's ShuffleNetV2 export
  # (an Add of constants in its channel split); PyTorch's logits still are the
  # reference there, and OpenCV reads mest's own export of it below.
  skip=""
  [[ $model == shufflenet ]] && skip="OpenCV 4.6 does not parse this export's shape arithmetic"
  MEST_SKIP_OPENCV=$skip $py "$src/test/onnx/compare-logits.py" $mode.logits.npy \
    "$inputs/$model-images.npy" "$inputs/$model-$mode.onnx" "$inputs/$model-logits.npy" 1e-5
done
# Sparse training from the PRESERVE export's weights.
$py - <<'PY'
import gzip, pathlib
import numpy as np
src = pathlib.Path("/usr/share/datasets/fashion-mnist")
def idx(base, offset, n, shape):
    p = src / base
    p = p if p.exists() else src / (base + ".gz")
    raw = gzip.open(p).read() if p.suffix == ".gz" else p.read_bytes()
    return np.frombuffer(raw, np.uint8, offset=offset)[: n * int(np.prod(shape))].reshape((n,) + shape)
d = pathlib.Path("data")
d.mkdir()
for part, prefix, n in (("train", "train", 256), ("test", "t10k", 64)):
    x = (idx(prefix + "-images-idx3-ubyte", 16, n, (28, 28)).astype(np.float32) / 255 - 0.286) / 0.353
    x = np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2)))[:, None], 3, axis=1)  # 3x32x32
    np.save(d / f"x_{part}.npy", x.astype(np.float32))
    np.save(d / f"y_{part}.npy", idx(prefix + "-labels-idx1-ubyte", 8, n, ()).astype(np.int64))
PY
override=()
[[ -n $grouped ]] && override=(--override "$grouped=unstructured:0.5")
"$bin/mest-import" "$inputs/$model-preserve.onnx" --batch 16 --scheme unstructured --sparsity 0.9 \
  "${override[@]}" --weights onnx -o sparse.mlir 2> notes.txt
grep -q "#mest.sparsity<unstructured, target = 0.9>" sparse.mlir \
  || { echo "FAIL: no layer made sparse"; exit 1; }
if [[ -n $grouped ]]; then
  grep -q "stays dense: a grouped convolution" notes.txt || { echo "FAIL: no grouped-conv note"; cat notes.txt; exit 1; }
  grep -q "@\"\?$grouped\"\?(.*groups = .*sparsity = #mest.sparsity<unstructured, target = 0.5>" sparse.mlir \
    || { echo "FAIL: --override $grouped not applied"; exit 1; }
fi
"$bin/mestc" sparse.mlir --emit exe -o sparse.train
./sparse.train --init sparse.init --data npy:data --epochs 2 --lr 0.02 --threads 2 --quiet --out run > train.log
cat train.log
grep -qi "nan" train.log && { echo "FAIL: the loss is not a number"; exit 1; }
./sparse.train --export-onnx trained.onnx --model run/model.mest
./sparse.train --predict "$inputs/$model-images.npy" --model run/model.mest --logits trained.npy
$py "$src/test/onnx/compare-logits.py" trained.npy "$inputs/$model-images.npy" trained.onnx
echo PASS
