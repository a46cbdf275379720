#!/usr/bin/python3
"""Writes what onnx-torch-dropout checks (run by hand; needs python3-torch, so
the outputs are committed): a small network with dropout on a [N, C, H, W]
activation and on the classifier's input, exported from training mode with
TrainingMode.PRESERVE (so the Dropout nodes, with their ratios, are in the
file); a batch of 16 copies of one image and label (so the driver's shuffling
cannot change which example meets which mask); and PyTorch autograd's record
of 3 SGD steps on it in float64, with every dropout mask rebuilt here from the
stream docs/formats.md defines (runtime/formats/DropoutStream.h), then the
eval-mode logits of the updated network, where dropout is off.
Usage: make-torch-dropout.py OUTDIR"""
import pathlib
import sys
import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn
from torch_exports import perturb_batch_norm, record_sgd

LR, MOMENTUM, WEIGHT_DECAY, STEPS, SEED = 0.05, 0.9, 1e-4, 3, 7
M64 = (1 << 64) - 1


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def hash32(x):
    x = (x ^ (x >> np.uint32(16))) * np.uint32(0x21F0AAAD)
    x = (x ^ (x >> np.uint32(15))) * np.uint32(0x735A2D97)
    return x ^ (x >> np.uint32(15))


def keep_mask(shape, ratio, step, index, rank=0):
    """The mask of dropout `index` at `step` (the driver's seed word for --seed)."""
    seed = mix64((mix64(SEED ^ 0x64726F706F7574) + rank) & M64)
    key = mix64((seed + 0x9E3779B97F4A7C15 * ((step << 16) + index + 1)) & M64)
    e = np.arange(int(np.prod(shape)), dtype=np.uint32)
    h = hash32(hash32(e ^ np.uint32(key & 0xFFFFFFFF)) ^ np.uint32(key >> 32))
    threshold = int(round(ratio * (1 << 24)))
    return torch.from_numpy((h >> np.uint32(8)) >= threshold).reshape(shape)


class StreamDropout(nn.Module):
    """Inverted dropout with mest's masks in training (nn.Dropout for export)."""
    def __init__(self, ratio, index):
        super().__init__()
        self.ratio, self.index, self.step = ratio, index, 0
        self.scale = float(np.float32(1.0 / (1.0 - ratio)))  # mest scales in f32
        self.export = nn.Dropout(ratio)

    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            return self.export(x)
        if not self.training:
            return x
        return x * keep_mask(tuple(x.shape), self.ratio, self.step, self.index).to(x.dtype) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.drop1 = StreamDropout(0.25, 0)
        self.body = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.drop2 = StreamDropout(0.5, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.body(self.drop1(self.stem(x)))
        return self.fc(self.drop2(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)))


def main(out):
    out = pathlib.Path(out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(13)
    m = Net()
    perturb_batch_norm(m)
    x = torch.randn(1, 3, 12, 12).repeat(16, 1, 1, 1)
    y = torch.full((16,), 3, dtype=torch.int64)
    m.train()
    torch.onnx.export(m, x, str(out / "model-preserve.onnx"), input_names=["image"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    # The export's training-mode forward moved the running statistics: start
    # from what the file holds.
    with torch.no_grad():
        for init in onnx.load(str(out / "model-preserve.onnx")).graph.initializer:
            if init.name in m.state_dict():
                m.state_dict()[init.name].copy_(torch.from_numpy(numpy_helper.to_array(init)))
    for part in ("train", "test"):
        np.save(out / "data" / f"x_{part}.npy", x.numpy())
        np.save(out / "data" / f"y_{part}.npy", y.numpy())
    def set_step(k):
        for d in (m.drop1, m.drop2):
            d.step = k
    record_sgd(m, x, y, out, LR, MOMENTUM, WEIGHT_DECAY, STEPS, set_step, {"seed": SEED})

if __name__ == "__main__":
    main(sys.argv[1])
