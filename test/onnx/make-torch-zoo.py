#!/usr/bin/python3
"""Writes the torchvision classification models the zoo tests import (run by
hand; needs python3-torch and python3-torchvision, which `make test` does not
install, so the outputs are committed): each model with random weights (seeded),
at a small width (or depth) and 3x32x32 images so that the files stay small, batch-norm
statistics and affine parameters far from the identity, exported in eval mode
(batch norm folded into the convolutions) and with TrainingMode.PRESERVE
(batch norm kept; a model without batch norm only so, the two being the same
graph), plus four images and PyTorch's logits for them.
Usage: make-torch-zoo.py OUTDIR [MODEL...]"""
import pathlib
import sys
import numpy as np
import torch
import torchvision
from torchvision.models import efficientnet, regnet
from torchvision.models.googlenet import BasicConv2d, Inception
from torch_exports import export_both, perturb_batch_norm


def regnet_small():
    # regnet_x_400mf's design (X blocks: grouped 3x3 convs of group width 16)
    # at a quarter of its depth and width.
    params = regnet.BlockParams.from_init_params(depth=6, w_0=16, w_a=8.0, w_m=2.0,
                                                 group_width=8)
    return regnet.RegNet(params, num_classes=10)


def efficientnet_small():
    # efficientnet_b0's blocks (SiLU, squeeze-and-excitation with sigmoid
    # gates, stochastic depth) at a quarter of its width and depth.
    settings, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25,
                                                     depth_mult=0.25)
    return efficientnet.EfficientNet(settings, 0.2, num_classes=10, last_channel=last)


def googlenet_small():
    # GoogLeNet from torchvision's own blocks (BasicConv2d, Inception) at a
    # quarter of every width: torchvision fixes the widths (24 MB at full size).
    # Ceil-mode max pools, Concat of four branches.
    m = torchvision.models.GoogLeNet(num_classes=10, aux_logits=False, init_weights=True)
    q = lambda *c: [w // 4 for w in c]
    B, I = BasicConv2d, Inception
    m.conv1 = B(3, 16, kernel_size=7, stride=2, padding=3)
    m.conv2 = B(16, 16, kernel_size=1)
    m.conv3 = B(16, 48, kernel_size=3, padding=1)
    for name, c in [("inception3a", (192, 64, 96, 128, 16, 32, 32)),
                    ("inception3b", (256, 128, 128, 192, 32, 96, 64)),
                    ("inception4a", (480, 192, 96, 208, 16, 48, 64)),
                    ("inception4b", (512, 160, 112, 224, 24, 64, 64)),
                    ("inception4c", (512, 128, 128, 256, 24, 64, 64)),
                    ("inception4d", (512, 112, 144, 288, 32, 64, 64)),
                    ("inception4e", (528, 256, 160, 320, 32, 128, 128)),
                    ("inception5a", (832, 256, 160, 320, 32, 128, 128)),
                    ("inception5b", (832, 384, 192, 384, 48, 128, 128))]:
        setattr(m, name, I(*q(*c)))
    m.fc = torch.nn.Linear(256, 10)
    return m


MODELS = {
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.25),
    "regnet_x": regnet_small,
    # x.mean([2, 3]) exports as ReduceMean.
    "mnasnet": lambda: torchvision.models.MNASNet(0.25, num_classes=10),
    # Hardswish, squeeze-and-excitation with Hardsigmoid gates.
    "mobilenet_v3_small": lambda: torchvision.models.mobilenet_v3_small(num_classes=10,
                                                                        width_mult=0.25),
    "efficientnet": efficientnet_small,
    # Fire modules (Concat), MaxPool with ceil_mode, no batch norm.
    "squeezenet": lambda: torchvision.models.squeezenet1_1(num_classes=10),
    "googlenet": googlenet_small,
    # Channel split (Slice), Concat, channel shuffle (Reshape, Transpose, Reshape).
    "shufflenet": lambda: torchvision.models.shufflenet_v2_x0_5(num_classes=10),
    # densenet121's dense blocks (BN-ReLU-Conv, Concat) and transitions at a
    # small growth rate and depth.
    "densenet": lambda: torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2),
                                                    num_init_features=16, bn_size=2,
                                                    num_classes=10),
}


def main(out, names):
    for name in names or MODELS:
        torch.manual_seed(7)
        m = MODELS[name]()
        perturb_batch_norm(m)
        m.eval()
        x = torch.rand(4, 3, 32, 32)
        with torch.no_grad():
            logits = m(x)
        np.save(f"{out}/{name}-images.npy", x.numpy())
        np.save(f"{out}/{name}-logits.npy", logits.numpy())
        export_both(m, x[:2], f"{out}/{name}-eval.onnx", f"{out}/{name}-preserve.onnx")
        if not any(isinstance(mod, torch.nn.BatchNorm2d) for mod in m.modules()):
            # Nothing to fold: the two exports hold the same graph; keep one.
            pathlib.Path(f"{out}/{name}-eval.onnx").unlink()
        print(name, sum(p.numel() for p in m.parameters()), "parameters")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
