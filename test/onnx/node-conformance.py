#!/usr/bin/python3
"""Runs ONNX's own backend node tests (Debian's libonnx-testdata) whose ops
mest imports, through mest-import, mestc --emit exe and the inference entry
(--predict --init), and compares with the expected outputs they ship.

A case is adapted only as mest's model contract needs: inputs after the first
(weights, in these tests) become initializers with the test's values, and a
4-D output is flattened to [N, C*H*W] logits (a reshape, no arithmetic). A case
outside mest's semantics (1-D/3-D data, dilations, asymmetric padding, ...)
must be refused by mest-import with a diagnostic; every case is printed with
its outcome and reason. Fails when a case that must pass does not, when a
refusal is not a diagnostic (a crash), or when an unexpected case passes or
fails. Usage: node-conformance.py BIN_DIR WORK_DIR [DATA_DIR]"""
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

BIN, WORK = sys.argv[1], sys.argv[2]
DATA = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/libonnx-testdata/data"
OPS = {"Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Mul", "Concat", "Slice", "Split",
       "Add", "MaxPool", "AveragePool", "ReduceMean",
       "GlobalAveragePool", "Flatten", "Gemm", "MatMul", "Reshape"}
TOLERANCE = 1e-4  # relative to the largest expected magnitude

# The cases that must pass; every other candidate must be refused with a reason.
with open(os.path.join(os.path.dirname(__file__), "node-conformance.expected")) as f:
    MUST_PASS = {line.strip() for line in f if line.strip() and not line.startswith("#")}


def load_tensor(path):
    t = onnx.TensorProto()
    t.ParseFromString(open(path, "rb").read())
    return numpy_helper.to_array(t)


def adapt(model, inputs):
    """The case as a mest model, or (None, reason)."""
    g = model.graph
    inits = {t.name for t in g.initializer}
    data = [i for i in g.input if i.name not in inits]
    if len(g.output) != 1:
        return None, f"{len(g.output)} outputs; a mest model returns one tensor"
    if inputs[0].ndim not in (2, 4) or inputs[0].dtype != np.float32:
        return None, (f"input of rank {inputs[0].ndim} ({inputs[0].dtype}); mest models take "
                      "float [N, C, H, W] images or [N, features] vectors")
    # They stay listed as graph inputs too, as IR version 3 (pytorch-converted) requires.
    for vi, value in zip(data[1:], inputs[1:]):
        g.initializer.append(numpy_helper.from_array(value, vi.name))
    out = g.output[0]
    rank = len(out.type.tensor_type.shape.dim)
    if rank == 4:
        flat = out.name + "_mest_flat"
        g.node.append(helper.make_node("Flatten", [out.name], [flat], name="mest_flatten"))
        del out.type.tensor_type.shape.dim[:]
        out.name = flat
    return model, None


def run_case(case_dir, work):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    ops = {n.op_type for n in model.graph.node}
    sets = sorted(glob.glob(os.path.join(case_dir, "test_data_set_0")))
    inputs = [load_tensor(p) for p in sorted(glob.glob(os.path.join(sets[0], "input_*.pb")))]
    expected = [load_tensor(p) for p in sorted(glob.glob(os.path.join(sets[0], "output_*.pb")))]
    model, reason = adapt(model, inputs)
    if model is None:
        return "not applicable", reason
    os.makedirs(work, exist_ok=True)
    onnx.save(model, f"{work}/model.onnx")
    imp = subprocess.run([f"{BIN}/mest-import", f"{work}/model.onnx", "--batch",
                          str(inputs[0].shape[0]), "--scheme", "dense", "--weights", "onnx",
                          "-o", f"{work}/model.mlir"], capture_output=True, text=True)
    if imp.returncode != 0:
        msg = imp.stderr.strip().splitlines()[-1] if imp.stderr.strip() else ""
        if imp.returncode != 1 or "error:" not in msg:
            return "crash", f"mest-import exit {imp.returncode}: {imp.stderr.strip()}"
        return "refused", msg.split(": ", 3)[-1]
    for cmd in ([f"{BIN}/mestc", f"{work}/model.mlir", "--emit", "exe", "-o", f"{work}/train"],
                [f"{work}/train", "--predict", f"{work}/x.npy", "--init", f"{work}/model.init",
                 "--logits", f"{work}/y.npy"]):
        if cmd[0].endswith("train"):
            x = inputs[0]  # vectors go in as [N, F, 1, 1] images
            np.save(f"{work}/x.npy", x.reshape(x.shape + (1, 1)) if x.ndim == 2 else x)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return "failed", f"{os.path.basename(cmd[0])}: {r.stderr.strip()[-400:]}"
    got = np.load(f"{work}/y.npy")
    want = expected[0].reshape(got.shape[0], -1)
    if got.shape != want.shape:
        return "failed", f"shape {got.shape}, expected {want.shape}"
    err = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
    if err > TOLERANCE:
        return "failed", f"relative error {err:.3g}"
    return "pass", f"relative error {err:.2g}"


def main():
    cases = []
    for d in sorted(glob.glob(os.path.join(DATA, "node", "test_*")) +
                    glob.glob(os.path.join(DATA, "pytorch-converted", "test_*"))):
        try:
            ops = {n.op_type for n in onnx.load(os.path.join(d, "model.onnx")).graph.node}
        except Exception:
            continue
        if ops and ops <= OPS:
            cases.append(d)
    results = {}
    for d in cases:
        name = os.path.basename(d)
        outcome, why = run_case(d, os.path.join(WORK, name))
        results[name] = outcome
        print(f"{outcome:15s} {name}: {why}", flush=True)
    bad = [n for n, o in results.items() if o == "crash"]
    bad += [n for n in MUST_PASS if results.get(n) != "pass"]
    bad += [n for n, o in results.items() if o == "pass" and n not in MUST_PASS]
    bad += [n for n, o in results.items() if o == "failed"]
    passed = sum(o == "pass" for o in results.values())
    print(f"{passed} of {len(results)} node tests pass; "
          f"{sum(o == 'refused' for o in results.values())} refused with a diagnostic, "
          f"{sum(o == 'not applicable' for o in results.values())} not applicable")
    if bad:
        print("FAIL: " + ", ".join(sorted(set(bad))) +
              " (a must-pass case that does not pass, an unexpected pass to add to "
              "node-conformance.expected, a wrong result or a crash)")
        sys.exit(1)


if __name__ == "__main__":
    main()
