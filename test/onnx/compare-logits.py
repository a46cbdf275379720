#!/usr/bin/python3
"""Compares mest's logits with references: PyTorch's (a .npy file) and OpenCV's
DNN module running the ONNX file itself (an ONNX runtime independent of mest
and of PyTorch). Usage: compare-logits.py MEST.npy IMAGES.npy MODEL.onnx [TORCH.npy]
Passes when every reference is within 1e-4 relative error (of the largest logit)."""
import sys
import cv2
import numpy as np
import onnx


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


mest = np.load(sys.argv[1])
images = np.load(sys.argv[2]).astype(np.float32)
# OpenCV fixes the batch when it reads the file (a symbolic one to 1): run
# the images in chunks of the exported batch.
graph_input = onnx.load(sys.argv[3]).graph.input[0]
batch = graph_input.type.tensor_type.shape.dim[0].dim_value or 1
net = cv2.dnn.readNetFromONNX(sys.argv[3])
chunks = []
for i in range(0, len(images), batch):
    x = images[i:i + batch]
    pad = batch - len(x)
    net.setInput(np.concatenate([x, np.zeros((pad,) + x.shape[1:], np.float32)]) if pad else x)
    chunks.append(net.forward()[:len(x)])
refs = {"opencv": np.concatenate(chunks)}
if len(sys.argv) > 4:
    refs["torch"] = np.load(sys.argv[4])
ok = True
for name, ref in refs.items():
    if ref.shape != mest.shape:
        print(f"FAIL: {name} logits {ref.shape}, mest {mest.shape}")
        ok = False
        continue
    e = rel(mest, ref)
    print(f"{sys.argv[3]}: mest vs {name}: relative error {e:.3g}")
    ok &= e <= 1e-4
sys.exit(0 if ok else 1)
