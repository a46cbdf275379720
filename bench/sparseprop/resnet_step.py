#!/usr/bin/env python3
"""SparseProp baseline (Nikdan et al., ICML 2023; sparseprop 0.1.14): the training step
of bench/torch/resnet_step.py's ResNet-32 (its classes, imported), pruned per layer by
magnitude to --sparsity unstructured, then sparseprop.utils.swap_modules_with_sparse
(--swap all: every pruned layer swapped, see --help).

--prune 3x3 (default) prunes the 30 3x3 convolutions of the residual blocks; the stem,
the two 1x1 shortcut convolutions and the classifier stay dense, as in the models that
mest-model writes for `make bench` (both widths). --prune convs also prunes the 1x1
shortcuts (every convolution but the stem).

The step is bench/torch/resnet_step.py's: zero_grad, forward, cross entropy, backward,
SGD (lr 0.01, momentum 0.9, weight decay 1e-4) over the swapped model's parameters;
NCHW (SparseProp's kernels read NCHW only). Masks stay fixed: a SparseConv2d holds only
the nonzero weights (W_val is its Parameter, indices are plain tensors), so SGD updates
those and a pruned weight does not exist to grow back; a pruned layer that SparseProp
kept dense (its timing found dense faster) is re-masked after each optimizer step,
inside the timed step. Prints one JSON line on stdout (SparseProp's own messages go to
stderr). Exit code 3 with a message on stderr when sparseprop cannot be imported: run
it with /opt/mest/sparseprop-venv/bin/python (scripts/install-deps.sh --bench)."""
import argparse
import contextlib
import copy
import json
import os
import resource
import sys
import time

VENV = "/opt/mest/sparseprop-venv"
NOT_INSTALLED = 3


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=16, help="stage-1 channels (32: the MEST paper's)")
    p.add_argument("--sparsity", type=float, default=0.9)
    p.add_argument("--prune", choices=["3x3", "convs"], default="3x3")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--swap", choices=["auto", "all"], default="auto",
                   help="auto: swap_modules_with_sparse (a pruned layer stays dense when one "
                        "cold timing finds dense faster); all: every pruned layer becomes a "
                        "SparseConv2d (sparsify_conv2d_auto still picks its vectorization)")
    p.add_argument("--check", action="store_true",
                   help="also compare the swapped model's forward with the masked dense one")
    return p.parse_args()


def main():
    a = parse()
    # Before torch and SparseProp's OpenMP backend start their thread pools.
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    try:
        import importlib.metadata
        import torch
        import sparseprop.utils
        from sparseprop.modules import SparseConv2d, SparseLinear, sparsify_conv2d_auto
        version = importlib.metadata.version("sparseprop")
    except Exception as e:  # ImportError, or a backend built for another CPU
        print(f"bench/sparseprop/resnet_step.py: SparseProp is not installed for "
              f"{sys.executable} ({type(e).__name__}: {e}); scripts/install-deps.sh --bench "
              f"installs it into {VENV}: run {VENV}/bin/python {sys.argv[0]}", file=sys.stderr)
        sys.exit(NOT_INSTALLED)
    import torch.nn as nn
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
    from resnet_step import ResNet

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ResNet(width=a.width)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    # Per-layer magnitude pruning: keep the round((1 - s) * n) largest |w| of each layer.
    masks = {}
    with torch.no_grad():
        for name, m in model.named_modules():
            if not isinstance(m, nn.Conv2d) or name == "conv1":
                continue
            if a.prune == "3x3" and m.kernel_size != (3, 3):
                continue
            w = m.weight
            keep = w.numel() - round(a.sparsity * w.numel())
            mask = torch.zeros(w.numel())
            mask[w.abs().flatten().topk(keep).indices] = 1
            masks[name] = mask.view_as(w)
            w.mul_(masks[name])
    total = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())

    with contextlib.redirect_stdout(sys.stderr):  # its "module ... replaced" lines
        t = time.perf_counter()
        if a.swap == "auto":
            sparse = sparseprop.utils.swap_modules_with_sparse(model, (a.batch, 3, 32, 32))
        else:
            sparse = copy.deepcopy(model)
            shapes, _ = sparseprop.utils.generate_intermediate_shapes(sparse, (3, 32, 32))
            for name in masks:
                conv = dict(sparse.named_modules())[name]
                sparseprop.utils.swap_module(sparse, name, sparsify_conv2d_auto(
                    conv, (a.batch, *shapes[name])))
        swap_s = time.perf_counter() - t
    modules = dict(sparse.named_modules())
    swapped = [n for n, m in modules.items() if isinstance(m, (SparseConv2d, SparseLinear))]
    kept_dense = sorted(set(masks) - set(swapped))
    remask = [(modules[n].weight, masks[n]) for n in kept_dense]

    if a.check:
        with torch.no_grad():
            model.eval(), sparse.eval()
            err = (sparse(x) - model(x)).abs().max().item()
            model.train(), sparse.train()

    opt = torch.optim.SGD(sparse.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(a.warmup + a.steps):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(sparse(x), y)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for w, mask in remask:
                w.mul_(mask)
        if i >= a.warmup:
            times.append((time.perf_counter() - t) * 1000)
    times.sort()

    # The pruned weights are still zero (after warmup + steps updates).
    kept = all(int((modules[n].weight != 0).sum()) <= int(masks[n].sum()) for n in kept_dense) and \
        all(modules[n].weight.numel() == int(masks[n].sum()) for n in masks if n in swapped)
    out = {
        "kind": "sparseprop_step", "sparsity": a.sparsity, "width": a.width,
        "threads": a.threads, "batch": a.batch, "layout": "nchw",
        "median_ms": times[len(times) // 2], "min_ms": times[0], "max_ms": times[-1],
        "steps": a.steps, "swapped_layers": len(swapped), "total_layers": total,
        "pruned": a.prune, "swap": a.swap, "pruned_layers": len(masks), "kept_dense": kept_dense,
        "over_on_layers": sum(getattr(modules[n], "vectorizing_over_on", False) for n in swapped),
        "masks_kept": kept, "swap_s": swap_s, "sparseprop": version, "torch": torch.__version__,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "params": sum(p.numel() for p in sparse.parameters())}
    if a.check:
        out["check_max_abs_err"] = err
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
