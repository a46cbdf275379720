#!/usr/bin/python3
"""Writes the PyTorch exports the ONNX tests import (run by hand; needs
python3-torch, which only `scripts/install-deps.sh --bench` installs, so the
outputs are committed): a small residual CNN for 1x28x28 images (Fashion-MNIST)
exported in eval mode (batch norm folded into the convolutions, dynamic batch)
and with TrainingMode.PRESERVE / do_constant_folding=False (batch norm kept,
the Shape-Gather-Concat chain torch emits for x.view), eight images and PyTorch's
logits for them: the reference mest's inference must reproduce.
Usage: make-torch-models.py OUTDIR"""
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_exports import export_both, perturb_batch_norm


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, 1, 1)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer2(self.layer1(x))
        x = self.avg(self.pool(x))
        x = x.view(x.size(0), -1)
        x = self.drop(F.relu(self.fc1(x)))
        return self.fc2(x)


def main(out):
    torch.manual_seed(7)
    m = Net()
    perturb_batch_norm(m)
    m.eval()
    x = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        logits = m(x)
    np.save(f"{out}/images.npy", x.numpy())
    np.save(f"{out}/torch-logits.npy", logits.numpy())
    export_both(m, x[:2], f"{out}/torch-eval.onnx", f"{out}/torch-preserve.onnx")


if __name__ == "__main__":
    main(sys.argv[1])
