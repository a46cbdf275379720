#!/usr/bin/python3
"""PyTorch dense baseline: the training step of the ResNet-32 that mest-model
writes (stem conv, 3 stages of 5 basic blocks with 1x1 projection shortcuts, global
average pooling, linear), or of torchvision's MobileNetV2 (--network), same batch
and input, SGD with momentum and weight decay.
Median, min and max of --steps steps after --warmup, for NCHW and channels_last,
and the process's peak resident memory. Prints one JSON object per layout.
bench/pairs.py imports make_step and time_steps to interleave it with mest.
Runs under Debian's /usr/bin/python3 (python3-torch 1.13)."""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth=32, width=16, channels=3, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for stage in range(3):
            cout = width << stage
            for i in range(n):
                layers.append(Block(cin, cout, 2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def make_network(network, width=16):
    """The benchmark's networks: mest-model's ResNet-32, or torchvision's
    MobileNetV2 (width 1.0, 10 classes; bench/torch/export_mobilenet_v2.py
    exports the same one for mest). Seeded, in training mode."""
    torch.manual_seed(0)
    if network == "mobilenet_v2":
        import torchvision
        return torchvision.models.mobilenet_v2(num_classes=10).train()
    return ResNet(width=width).train()


def make_step(batch, width=16, layout="channels_last", network="resnet32"):
    """The dense training step of the network (seeded), as a function of no arguments."""
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    model = make_network(network, width).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 32, 32).to(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    step.params = sum(p.numel() for p in model.parameters())
    return step


def time_steps(step, warmup, steps):
    """Sorted step times in ms, after `warmup` untimed steps."""
    times = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        step()
        if i >= warmup:
            times.append((time.perf_counter() - t) * 1000)
    return sorted(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=16, help="stage-1 channels (32: the MEST paper's)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--layout", choices=["nchw", "channels_last", "both"], default="both")
    p.add_argument("--network", choices=["resnet32", "mobilenet_v2"], default="resnet32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    layouts = ["nchw", "channels_last"] if a.layout == "both" else [a.layout]
    for layout in layouts:
        step = make_step(a.batch, a.width, layout, a.network)
        times = time_steps(step, a.warmup, a.steps)
        print(json.dumps({
            "kind": "torch_step", "network": a.network, "layout": layout, "threads": a.threads,
            "batch": a.batch,
            "width": a.width, "median_ms": times[len(times) // 2], "min_ms": times[0],
            "max_ms": times[-1], "steps": a.steps, "torch": torch.__version__,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "params": step.params}), flush=True)


if __name__ == "__main__":
    main()
