"""What the scripts that write the committed PyTorch exports share (run by hand;
needs python3-torch): batch norms far from the identity, and the two export modes."""
import torch


def perturb_batch_norm(m):
    """Batch-norm statistics and affine parameters far from the identity, so
    that folding or dropping any of them shows in the logits."""
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.3, 0.3)


def export_both(m, x, eval_path, preserve_path):
    """m on the example batch x in eval mode (batch norm folded, dynamic batch)
    and with TrainingMode.PRESERVE / do_constant_folding=False (batch norm kept)."""
    torch.onnx.export(m, x, eval_path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}})
    torch.onnx.export(m, x, preserve_path, input_names=["image"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def record_sgd(m, x, y, out, lr, momentum, weight_decay, steps, before_step=None, extra=None):
    """PyTorch autograd's record of `steps` SGD steps of m on (x, y) in float64,
    training mode: each step's loss, then the eval-mode logits of the updated
    network (OUT/logits-after.npy) and OUT/expected.json (the hyper-parameters,
    `extra`, the losses). `before_step(k)` runs before step k."""
    import json
    import numpy as np
    m = m.double()
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    losses = []
    for k in range(steps):
        if before_step:
            before_step(k)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x.double()), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    m.eval()
    with torch.no_grad():
        np.save(out / "logits-after.npy", m(x.double()).numpy())
    record = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "steps": steps}
    record.update(extra or {})
    record["losses"] = losses
    (out / "expected.json").write_text(json.dumps(record, indent=1) + "\n")
    print("losses", losses)
