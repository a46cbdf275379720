#!/usr/bin/env bash
# A PyTorch model exported both ways (eval: batch norm folded; PRESERVE: kept)
# imports, compiles to a training binary and, started from the ONNX weights,
# gives PyTorch's and OpenCV's logits; then, with every scheme, imports sparse
# and trains from those weights on a Fashion-MNIST subset.
# Usage: torch-import.sh BIN_DIR SOURCE_DIR WORK_DIR PART
# PART: logits (both exports' logits and the refused --init directories), or
# train-preserve / train-eval (every scheme from that export; preserve also
# imports its exported file back); three ctest tests that run side by side.
set -euo pipefail
bin=$1 src=$2 work=$3 part=$4
inputs=$src/test/onnx/Inputs
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
cd "$work"
case $part in
  logits|train-preserve|train-eval) ;;
  *) echo "torch-import.sh: unknown part '$part'" >&2; exit 2 ;;
esac
if [[ $part == logits ]]; then
for mode in eval preserve; do
  "$bin/mest-import" "$inputs/torch-$mode.onnx" --batch 4 --scheme dense --weights onnx -o $mode.mlir
  "$bin/mestc" $mode.mlir --emit exe -o $mode.train
  ./$mode.train --predict "$inputs/images.npy" --init $mode.init --logits $mode.logits.npy
  /usr/bin/python3 "$src/test/onnx/compare-logits.py" $mode.logits.npy "$inputs/images.npy" \
    "$inputs/torch-$mode.onnx" "$inputs/torch-logits.npy"
done
# Both modes name the layers alike (PyTorch's module names).
diff <(grep -oE 'mest\.(conv2d|linear) @[A-Za-z0-9_.]*' preserve.mlir) \
     <(grep -oE 'mest\.(conv2d|linear) @[A-Za-z0-9_.]*' eval.mlir) || { echo "FAIL: layer names differ"; exit 1; }
# A bad --init directory is refused, naming the file and the problem.
refuse() {  # refuse EXPECTED DIR: --predict from DIR fails with EXPECTED
  if ./preserve.train --predict "$inputs/images.npy" --init "$2" --logits bad.npy > bad.txt 2>&1; then
    echo "FAIL: --init $2 was accepted"; exit 1
  fi
  grep -q -- "$1" bad.txt || { echo "FAIL: expected '$1', got:"; cat bad.txt; exit 1; }
  test ! -e bad.npy || { echo "FAIL: logits written from a refused --init"; exit 1; }
}
cp -r preserve.init missing && rm missing/layer1.bn1.var.npy
refuse "no layer1.bn1.var.npy for layer layer1.bn1" missing
cp -r preserve.init shape && $py -c "import numpy as np; np.save('shape/fc1.weight.npy', np.zeros((32, 145), np.float32))"
refuse "shape/fc1.weight.npy: shape \[32x145\], but layer fc1.weight has \[32x144\]" shape
cp -r preserve.init extra && cp extra/fc1.bias.npy extra/fc3.bias.npy
refuse "fc3.bias.npy belongs to no layer of model" extra
cp -r preserve.init nan && $py -c "import numpy as np; a = np.load('nan/stem.weight.npy'); a[0, 0, 1, 1] = np.nan; np.save('nan/stem.weight.npy', a)"
refuse "nan/stem.weight.npy: element 4 is nan" nan
cp -r preserve.init negvar && $py -c "import numpy as np; np.save('negvar/bn.var.npy', -np.ones(8, np.float32))"
refuse "negative running variance" negvar
cp -r preserve.init int && $py -c "import numpy as np; np.save('int/bn.mean.npy', np.zeros(8, np.int32))"
refuse "int/bn.mean.npy: dtype int32" int
refuse "no such file or directory\|No such file" absent.init
if ./preserve.train --init preserve.init --resume --out r > bad.txt 2>&1; then echo "FAIL: --init with --resume"; exit 1; fi
grep -q -- "--init starts a run" bad.txt || { cat bad.txt; exit 1; }
echo PASS
exit 0
fi
# Every scheme, from both exports: train one short epoch from the ONNX weights,
# export, and OpenCV's logits of the exported file are mest's. The eval export
# has no batch norm left (folded into the convolutions), which PyTorch too trains
# slowly (32% after this epoch, measured): its accuracy only has to beat chance.
mode=${part#train-}
for scheme in pattern block unstructured channel; do
  m=$mode-$scheme
  "$bin/mest-import" "$inputs/torch-$mode.onnx" --batch 32 --scheme $scheme --sparsity 0.8 \
    --override layer2.conv2=unstructured:0.7 --weights onnx -o $m.mlir
  grep -q "@layer1.conv1(.*sparsity = #mest.sparsity<$scheme, target = 0.8>" $m.mlir \
    || { echo "FAIL: $scheme not applied to layer1.conv1"; exit 1; }
  grep -q "@layer2.conv2(.*sparsity = #mest.sparsity<unstructured, target = 0.7>" $m.mlir \
    || { echo "FAIL: --override not applied"; exit 1; }
  "$bin/mestc" $m.mlir --emit exe -o $m.train
  ./$m.train --init $m.init --train-limit 2048 --test-limit 512 --epochs 1 \
    --threads 2 --quiet --out run-$m > $m.log
  cat $m.log
  acc=$(sed -n 's/.*final test accuracy \([0-9.]*\)%.*/\1/p' $m.log)
  least=40.0; [[ $mode == eval ]] && least=11.0
  awk -v a="$acc" -v l=$least 'BEGIN { exit !(a > l) }' || { echo "FAIL: $m accuracy $acc%"; exit 1; }
  # Export the trained sparse model: OpenCV's logits of the file are mest's.
  trained=run-$m/model.mest
  ./$m.train --export-onnx $m.onnx --model $trained
  ./$m.train --export-onnx $m-sparse.onnx --model $trained --sparse-initializers
  ./$m.train --predict "$inputs/images.npy" --model $trained --logits $m.logits.npy
  $py "$src/test/onnx/compare-logits.py" $m.logits.npy "$inputs/images.npy" $m.onnx
  $py "$src/test/onnx/check-sparse-export.py" $m.onnx $m-sparse.onnx
done
[[ $mode == preserve ]] || { echo PASS; exit 0; }
# The exported file imports back: same layers, same logits.
"$bin/mest-import" preserve-pattern.onnx --batch 4 --scheme dense --weights onnx -o back.mlir
diff <(grep -oE 'mest\.(conv2d|linear|batch_norm) @[A-Za-z0-9_.]*' back.mlir) \
     <(grep -oE 'mest\.(conv2d|linear|batch_norm) @[A-Za-z0-9_.]*' preserve-pattern.mlir) \
  || { echo "FAIL: the exported model imports with other layers"; exit 1; }
"$bin/mestc" back.mlir --emit exe -o back.train
./back.train --predict "$inputs/images.npy" --init back.init --logits back.npy
$py "$src/test/onnx/compare-logits.py" back.npy "$inputs/images.npy" preserve-pattern.onnx
echo PASS
