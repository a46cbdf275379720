#!/usr/bin/python3
"""Writes small ONNX models mest-import must refuse, each with one defect, and
one good model (good.onnx) the defects are variations of. Usage: OUTDIR"""
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]


def model(nodes, inits, x_shape=(1, 1, 8, 8), y_shape=(1, 4), extra_inputs=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))
    g = helper.make_graph(nodes, "g", [x, *extra_inputs], [y],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


w = np.ones((4, 1, 3, 3), np.float32)
conv = lambda **kw: helper.make_node("Conv", ["x", "w"], ["c"], name="conv", **kw)
gap = helper.make_node("GlobalAveragePool", ["c"], ["p"], name="gap")
flat = helper.make_node("Flatten", ["p"], ["y"], name="flat")
tail = [gap, flat]
cases = {
    "good": model([conv(pads=[1, 1, 1, 1]), *tail], {"w": w}),
    "unsupported-op": model([conv(), helper.make_node("Tanh", ["c"], ["s"], name="tanh"),
                             helper.make_node("GlobalAveragePool", ["s"], ["p"], name="gap"),
                             flat], {"w": w}),
    # The weight is a second graph input, not an initializer (as in ONNX's node tests).
    "weight-not-initializer": model([conv(), *tail], {}, extra_inputs=[
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 1, 3, 3])]),
    "missing-initializer": model([helper.make_node("Conv", ["x", "w2"], ["c"], name="conv"),
                                  *tail], {"w": w}),
    "weight-rank": model([conv(), *tail], {"w": np.ones((4, 1, 3), np.float32)}),
    "input-rank": model([conv(), *tail], {"w": w}, x_shape=(1, 8, 8)),
    "group": model([conv(group=3), *tail], {"w": np.ones((4, 1, 3, 3), np.float32)},
                   x_shape=(1, 2, 8, 8)),
    "asymmetric-pads": model([conv(pads=[0, 0, 1, 1]), *tail], {"w": w}),
    "dilations": model([conv(dilations=[2, 2]), *tail], {"w": w}),
    "count-include-pad": model([conv(), helper.make_node(
        "AveragePool", ["c"], ["a"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
        count_include_pad=1), helper.make_node("GlobalAveragePool", ["a"], ["p"], name="gap"),
        flat], {"w": w}),
    "output-rank": model([conv()], {"w": w}, y_shape=(1, 4, 6, 6)),
    "nan-weight": model([conv(), *tail], {"w": np.full((4, 1, 3, 3), np.nan, np.float32)}),
    # Mul: of an activation by a constant; of two activations, neither a gate
    # of the other nor a channel scale.
    "mul-constant": model([conv(), helper.make_node("Mul", ["c", "k"], ["m"], name="mul"),
                           helper.make_node("GlobalAveragePool", ["m"], ["p"], name="gap"),
                           flat], {"w": w, "k": np.float32(2.0)}),
    "mul-shapes": model([conv(), helper.make_node("Mul", ["c", "c"], ["m"], name="mul"),
                         helper.make_node("GlobalAveragePool", ["m"], ["p"], name="gap"),
                         flat], {"w": w}),
    # ceil_mode whose last window would start in the trailing padding (5x5, 2x2 stride 2, pad 1).
    "ceil-in-padding": model([conv(), helper.make_node(
        "MaxPool", ["c"], ["m"], name="pool", kernel_shape=[2, 2], strides=[2, 2],
        pads=[1, 1, 1, 1], ceil_mode=1), helper.make_node("GlobalAveragePool", ["m"], ["p"], name="gap"),
        flat], {"w": w}, x_shape=(1, 1, 7, 7)),
    # A Transpose that is not the middle of a channel shuffle.
    "transpose": model([conv(), helper.make_node("Transpose", ["c"], ["t"], name="tr",
                                                 perm=[0, 1, 3, 2]),
                        helper.make_node("GlobalAveragePool", ["t"], ["p"], name="gap"), flat],
                       {"w": w}),
    # A Slice across H instead of channels.
    "slice-rows": model([conv(), helper.make_node("Slice", ["c", "s0", "s1", "ax"], ["s"], name="sl"),
                         helper.make_node("GlobalAveragePool", ["s"], ["p"], name="gap"), flat],
                        {"w": w, "s0": np.array([0], np.int64), "s1": np.array([2], np.int64),
                         "ax": np.array([2], np.int64)}),
    # A 3x3 Conv on a global pool's [N, C, 1, 1] (squeeze-and-excitation takes 1x1).
    "pool-conv-kernel": model([conv(), gap, helper.make_node(
        "Conv", ["p", "w3"], ["q"], name="fc", pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["q"], ["y"], name="flat")],
        {"w": w, "w3": np.ones((4, 4, 3, 3), np.float32)}),
}
cases["output-rank"].graph.output[0].name = "c"
for name, m in cases.items():
    onnx.save(m, f"{out}/{name}.onnx")
good = open(f"{out}/good.onnx", "rb").read()
open(f"{out}/truncated.onnx", "wb").write(good[: len(good) // 2])
open(f"{out}/text.onnx", "w").write("this is not a protobuf\n")
