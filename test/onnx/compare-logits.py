#!/usr/bin/python3
"""Compares mest's logits with references: PyTorch's (a .npy file) and OpenCV's
DNN module running the ONNX file itself (an ONNX runtime independent of mest
and of PyTorch). Usage: compare-logits.py MEST.npy IMAGES.npy MODEL.onnx [TORCH.npy [TOL]]
Passes when every reference is within TOL (default 1e-4) relative error (of the
largest logit). With MEST_SKIP_OPENCV=REASON set, OpenCV is not run (a file it
cannot parse), and the reason is printed; PyTorch's logits must then be given."""
import os
import sys
import tempfile
import cv2
import numpy as np
import onnx
from onnx import helper, numpy_helper


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


mest = np.load(sys.argv[1])
images = np.load(sys.argv[2]).astype(np.float32)
# OpenCV fixes the batch when it reads the file (a symbolic one to 1): run
# the images in chunks of the exported batch.
def opencv_readable(model):
    """OpenCV 4.6 reads Clip only in its opset-6 form (bounds as attributes):
    Clips whose bounds are initializers or Constant nodes are rewritten so;
    and it cannot read an Identity of an initializer (PyTorch writes those for
    parameters of equal values): their readers read the initializer itself.
    Nothing else changes."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in model.graph.node
             if n.op_type == "Identity" and n.input[0] in inits}
    for n in [n for n in model.graph.node if n.op_type == "Identity" and n.output[0] in alias]:
        model.graph.node.remove(n)
    for n in model.graph.node:
        for i, name in enumerate(n.input):
            if name in alias:
                n.input[i] = alias[name]
    for n in model.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            inits[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    for n in model.graph.node:
        if n.op_type == "Clip" and len(n.input) > 1:
            bounds = [float(inits[b]) if b else None for b in list(n.input[1:]) + [""] * (3 - len(n.input))]
            del n.input[1:]
            for name, v in zip(("min", "max"), bounds):
                if v is not None:
                    n.attribute.append(helper.make_attribute(name, v))
    return model


def opencv_logits(path):
    model = onnx.load(path)
    graph_input = model.graph.input[0]
    batch = graph_input.type.tensor_type.shape.dim[0].dim_value or 1
    with tempfile.NamedTemporaryFile(suffix=".onnx") as f:
        f.write(opencv_readable(model).SerializeToString())
        f.flush()
        net = cv2.dnn.readNetFromONNX(f.name)
    chunks = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch]
        pad = batch - len(x)
        net.setInput(np.concatenate([x, np.zeros((pad,) + x.shape[1:], np.float32)]) if pad else x)
        chunks.append(net.forward()[:len(x)])
    return np.concatenate(chunks)


refs = {}
skip = os.environ.get("MEST_SKIP_OPENCV")
if skip:
    if len(sys.argv) <= 4:
        sys.exit("MEST_SKIP_OPENCV needs PyTorch's logits as the reference")
    print(f"{sys.argv[3]}: OpenCV not run: {skip}")
else:
    refs["opencv"] = opencv_logits(sys.argv[3])
if len(sys.argv) > 4:
    refs["torch"] = np.load(sys.argv[4])
tolerance = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-4
ok = True
for name, ref in refs.items():
    if ref.shape != mest.shape:
        print(f"FAIL: {name} logits {ref.shape}, mest {mest.shape}")
        ok = False
        continue
    e = rel(mest, ref)
    print(f"{sys.argv[3]}: mest vs {name}: relative error {e:.3g}")
    ok &= e <= tolerance
sys.exit(0 if ok else 1)
