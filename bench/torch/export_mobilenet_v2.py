#!/usr/bin/python3
"""The MobileNetV2 of make bench as ONNX for mest-import: torchvision's
mobilenet_v2 (width 1.0, 10 classes, make_network's seed) at 3x32x32, exported
from training mode with TrainingMode.PRESERVE so that its classifier's
Dropout(0.2) is in the file and trains in mest as in PyTorch.
Usage: export_mobilenet_v2.py OUT.onnx BATCH"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_step import make_network  # noqa: E402

out, batch = sys.argv[1], int(sys.argv[2])
model = make_network("mobilenet_v2")
torch.onnx.export(model, torch.randn(batch, 3, 32, 32), out, input_names=["image"],
                  output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
