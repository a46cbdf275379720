#!/usr/bin/python3
"""Checks an ONNX file written with --sparse-initializers against the dense export
of the same model: both pass ONNX's checker, every sparse_initializer, expanded
here with numpy from its values and linear indices, equals the dense file's
initializer of that name, the dense initializers of the sparse layers hold
zeros where the sparse file stores nothing, and the sparse file is smaller.
Usage: check-sparse-export.py DENSE.onnx SPARSE.onnx"""
import os
import sys
import numpy as np
import onnx
from onnx import numpy_helper

dense_path, sparse_path = sys.argv[1], sys.argv[2]
dense, sparse = onnx.load(dense_path), onnx.load(sparse_path)
onnx.checker.check_model(dense)
onnx.checker.check_model(sparse)
ref = {t.name: numpy_helper.to_array(t) for t in dense.graph.initializer}
kept = {t.name: numpy_helper.to_array(t) for t in sparse.graph.initializer}
assert sparse.graph.sparse_initializer, "no sparse initializer in the sparse file"
for s in sparse.graph.sparse_initializer:
    name = s.values.name
    values, index = numpy_helper.to_array(s.values), numpy_helper.to_array(s.indices)
    full = np.zeros(int(np.prod(s.dims)), np.float32)
    full[index] = values
    assert np.array_equal(full.reshape(list(s.dims)), ref[name]), f"{name} differs"
    zeros = 1 - len(values) / full.size
    print(f"{name}: {len(values)} of {full.size} weights stored ({zeros:.0%} zeros)")
for name, v in kept.items():
    assert np.array_equal(v, ref[name]), f"dense initializer {name} differs"
assert set(kept) | {s.values.name for s in sparse.graph.sparse_initializer} == set(ref)
a, b = os.path.getsize(dense_path), os.path.getsize(sparse_path)
print(f"dense file {a} bytes, sparse file {b} bytes")
assert b < a
print("PASS")
