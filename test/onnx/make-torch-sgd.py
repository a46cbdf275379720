#!/usr/bin/python3
"""Writes what onnx-torch-sgd checks (run by hand; needs python3-torch, which
`make test` does not install, so the outputs are committed): a small network
that uses every activation mest imports (ReLU, ReLU6, hard swish, SiLU,
sigmoid, hard sigmoid), a depthwise and a grouped convolution, two
squeeze-and-excitation blocks, a fire module (Concat), a max pool in ceil
mode and a ShuffleNetV2 unit (channel split, Concat, channel shuffle),
exported with TrainingMode.PRESERVE; a batch of
16 images with labels; and PyTorch autograd's record of 3 SGD steps on that
batch in training mode (loss of each step, then the eval-mode logits of the
updated network), float64 so that the reference carries no float32 noise.
Usage: make-torch-sgd.py OUTDIR"""
import pathlib
import sys
import numpy as np
import torch
from torch import nn
from torch_exports import perturb_batch_norm, record_sgd

LR, MOMENTUM, WEIGHT_DECAY, STEPS = 0.05, 0.9, 1e-4, 3


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeezed, gate):
        super().__init__()
        self.fc1 = nn.Conv2d(c, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, c, 1)
        self.gate = gate

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc2(torch.relu(self.fc1(s))))


class Fire(nn.Module):
    """SqueezeNet's: a 1x1 squeeze, then 1x1 and 3x3 expands side by side."""
    def __init__(self, c, squeezed, expanded):
        super().__init__()
        self.squeeze = nn.Conv2d(c, squeezed, 1)
        self.e1 = nn.Conv2d(squeezed, expanded, 1)
        self.e3 = nn.Conv2d(squeezed, expanded, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.e1(s)), torch.relu(self.e3(s))], 1)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's stride-1 unit: half the channels pass, the other half
    through 1x1, depthwise 3x3, 1x1; concatenated, then shuffled in 2 groups."""
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.branch = nn.Sequential(nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
                                    nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False),
                                    nn.BatchNorm2d(h), nn.Conv2d(h, h, 1, bias=False),
                                    nn.BatchNorm2d(h), nn.ReLU())

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        y = torch.cat((a, self.branch(b)), 1)
        n, c, hh, ww = y.shape
        return y.view(n, 2, c // 2, hh, ww).transpose(1, 2).contiguous().view(n, c, hh, ww)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=False),
                                nn.BatchNorm2d(8), nn.SiLU())
        self.se1 = SqueezeExcite(8, 4, nn.Hardsigmoid())
        self.grouped = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, groups=2, bias=False),
                                     nn.BatchNorm2d(16), nn.ReLU6())
        self.fire = Fire(16, 8, 8)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # 8x8 -> 4x4 (floor: 3x3)
        self.se2 = SqueezeExcite(16, 4, nn.Sigmoid())
        self.pw = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.unit = ShuffleUnit(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.se1(self.dw(self.stem(x)))
        x = self.pw(self.se2(self.pool(self.fire(self.grouped(x)))))
        x = self.unit(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main(out):
    out = pathlib.Path(out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(11)
    m = Net()
    perturb_batch_norm(m)
    x = torch.randn(16, 3, 16, 16)
    y = torch.randint(0, 10, (16,))
    torch.onnx.export(m, x, str(out / "model-preserve.onnx"), input_names=["image"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    for part in ("train", "test"):
        np.save(out / "data" / f"x_{part}.npy", x.numpy())
        np.save(out / "data" / f"y_{part}.npy", y.numpy().astype(np.int64))
    record_sgd(m, x, y, out, LR, MOMENTUM, WEIGHT_DECAY, STEPS)

if __name__ == "__main__":
    main(sys.argv[1])
