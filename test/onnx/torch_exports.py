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
