#!/usr/bin/python3
"""PyTorch golden references for the ILGpuSat model catalog (Networks/, tests/ILGpuSat.Networks.Tests).

Run with Debian's interpreter (it has torch 1.13):  /usr/bin/python3 tests/golden/make_network_golden.py

For every architecture of Tools/Bench/torch_models.py, at a small width and a tiny input, writes to
networks/<name>/:
  model.safetensors     the state dict (PyTorch's, with int64 num_batches_tracked), every parameter and
                        buffer randomised (zero-initialised heads included, so no gradient is trivially 0)
  input.npy             the network input (float32)
  eval_<out>.npy        each output in eval mode (running statistics), computed before any training step
  train_<out>.npy       each output in train mode (batch statistics)
  target_*.npy          random loss targets: MSE on sr, rebalanced soft cross-entropy on color_logits (random
                        soft distributions and pixel weights), MSE on ab
  grads.safetensors     gradients of the summed losses with respect to a few named parameters
  buffers_after.safetensors  every batch norm's running statistics after that one train-mode forward
and networks/manifest.json (configs, shapes, loss values, parameter counts at the golden, default and
quarter widths, state-dict keys in order). As make_golden.py: inputs and weights are float32 values, the
references are computed in float64 from them and stored as float32, so the tests see the engine's own
error only. Deterministic (fixed seeds, one thread): running it twice gives identical files.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "networks")
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tools", "Bench"))
sys.path.insert(0, HERE)

import torch_models as tm  # noqa: E402
from make_golden import write_safetensors  # noqa: E402

# name, config (camelCase, as ModelCatalog.ConfigJson), input shape, parameters whose gradients are stored
CASES = [
    ("liu2018", {"trunkWidth": 0.015625, "srWidth": 0.0625}, (2, 1, 24, 16),
     ["stem.0.conv.weight", "stem.0.bn.weight", "trunk.conv1.0.weight", "trunk.conv1.0.bias", "trunk.conv5.6.weight",
      "trunk.conv8.0.weight", "trunk.logits.weight", "feedback.0.deconv.weight", "feedback.1.prelu.weight",
      "encoder.e3.2.bn.weight", "decoder3.0.deconv.weight", "decoder1.out.weight", "decoder3.out.bias"]),
    ("liu2018-sr", {"width": 0.125}, (2, 1, 20, 12),
     ["stem.0.conv.weight", "stem.1.bn.weight", "encoder.e1.0.conv.weight", "encoder.e2.0.prelu.weight",
      "decoder2.3.deconv.weight", "decoder1.out.weight", "decoder3.out.weight"]),
    ("liu2018-color", {"width": 0.015625}, (1, 1, 24, 16),
     ["trunk.conv1.0.weight", "trunk.conv1.4.weight", "trunk.conv6.2.weight", "trunk.conv8.0.weight",
      "trunk.logits.weight", "trunk.logits.bias"]),
    ("srcnn", {"width": 0.125}, (2, 1, 20, 12), ["conv1.weight", "conv2.bias", "conv3.weight", "conv3.bias"]),
    ("recurrent-residual", {"width": 0.125, "recursions": 3}, (2, 1, 20, 12),
     ["head.conv.weight", "head.bn.weight", "unit.conv1.weight", "unit.prelu.weight", "norms.0.bn1.weight",
      "norms.2.bn2.bias", "tail.weight"]),
    ("regression-ed", {"width": 0.03125}, (2, 1, 16, 16),
     ["encoder.0.conv.weight", "encoder.5.bn.weight", "decoder.0.conv.weight", "decoder.6.bn.weight",
      "head_l.weight", "head_ab.weight", "head_ab.bias"]),
]

INITIAL_BATCHES_TRACKED = 5


def reset_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def save_npy(folder, name, t):
    np.save(os.path.join(folder, name), t.detach().to(torch.float32).contiguous().numpy(), allow_pickle=False)
    return name


def f32(t):
    """A float64 tensor holding float32 values."""
    return t.to(torch.float32).to(torch.float64)


def randomise(model, gen):
    """Every parameter and buffer to random float32 values of a sensible scale."""
    def normal(shape, std):
        return torch.randn(tuple(shape), generator=gen) * std

    def uniform(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(tuple(shape), generator=gen)

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                k = m.kernel_size[0] * m.kernel_size[1]
                if isinstance(m, nn.ConvTranspose2d):
                    fan_in = m.in_channels * k / (m.stride[0] * m.stride[1])
                else:
                    fan_in = m.in_channels * k
                m.weight.copy_(normal(m.weight.shape, 1.0 / math.sqrt(fan_in)))
                if m.bias is not None:
                    m.bias.copy_(normal(m.bias.shape, 0.1))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(uniform(m.weight.shape, 0.5, 1.5))
                m.bias.copy_(normal(m.bias.shape, 0.2))
                m.running_mean.copy_(normal(m.running_mean.shape, 0.2))
                m.running_var.copy_(uniform(m.running_var.shape, 0.5, 2.0))
                m.num_batches_tracked.fill_(INITIAL_BATCHES_TRACKED)
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(uniform(m.weight.shape, 0.05, 0.45))


def soft_targets(shape, gen):
    """Random distributions over dim 1 (float32 values), like the 5-nearest-bin soft encoding but dense."""
    z = torch.rand(tuple(shape), generator=gen, dtype=torch.float64) ** 4
    return f32(z / z.sum(1, keepdim=True))


def bn_buffers(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


def make_case(index, name, config, shape, grad_names):
    folder = os.path.join(OUT_DIR, name)
    reset_dir(folder)
    seed = 1000 + index
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = tm.build(name, config)
    randomise(model, gen)
    state = model.state_dict()
    write_safetensors(os.path.join(folder, "model.safetensors"), state)
    keys = list(state.keys())
    params_golden = tm.parameter_count(model)

    model = model.double()
    lo, hi = (-0.5, 0.5)
    x = f32(lo + (hi - lo) * torch.rand(shape, generator=gen))
    files = {"model": "model.safetensors", "input": save_npy(folder, "input.npy", x)}

    model.eval()
    with torch.no_grad():
        eval_out = model(x)
    model.train()
    train_out = model(x)
    outputs = {}
    for out_name, e, t in zip(("sr", "color_logits", "ab"), eval_out, train_out):
        if e is None:
            continue
        outputs[out_name] = list(e.shape)
        files[f"eval_{out_name}"] = save_npy(folder, f"eval_{out_name}.npy", e)
        files[f"train_{out_name}"] = save_npy(folder, f"train_{out_name}.npy", t)

    sr, logits, ab = train_out
    losses, total = {}, 0
    if sr is not None:
        target = f32(sr.detach() + 0.1 * torch.randn(sr.shape, generator=gen, dtype=torch.float64))
        files["target_sr"] = save_npy(folder, "target_sr.npy", target)
        loss = F.mse_loss(sr, target)
        losses["sr_mse"], total = loss.item(), total + loss
    if logits is not None:
        z = soft_targets(logits.shape, gen)
        w = f32(0.2 + 1.8 * torch.rand((logits.shape[0], 1) + tuple(logits.shape[2:]), generator=gen, dtype=torch.float64))
        files["target_color"] = save_npy(folder, "target_color.npy", z)
        files["weights_color"] = save_npy(folder, "weights_color.npy", w)
        loss = (w * -(z * F.log_softmax(logits, 1)).sum(1, keepdim=True)).mean()
        losses["color_soft_ce"], total = loss.item(), total + loss
    if ab is not None:
        target = f32(0.3 * torch.randn(ab.shape, generator=gen, dtype=torch.float64))
        files["target_ab"] = save_npy(folder, "target_ab.npy", target)
        loss = F.mse_loss(ab, target)
        losses["ab_mse"], total = loss.item(), total + loss
    losses["total"] = total.item()
    total.backward()

    named = dict(model.named_parameters())
    grads = {}
    for g in grad_names:
        assert g in named, f"{name}: no parameter {g}"
        grad = named[g].grad
        assert grad is not None and grad.abs().max() > 0, f"{name}: {g} has no gradient"
        grads[g] = grad.to(torch.float32)
    write_safetensors(os.path.join(folder, "grads.safetensors"), grads)
    after = {k: (v.to(torch.float32) if v.dtype.is_floating_point else v) for k, v in bn_buffers(model).items()}
    write_safetensors(os.path.join(folder, "buffers_after.safetensors"), after)
    files["grads"] = "grads.safetensors"
    files["buffers_after"] = "buffers_after.safetensors"

    return {
        "name": name,
        "config": config,
        "seed": seed,
        "input_shape": list(shape),
        "outputs": outputs,
        "losses": losses,
        "grads": grad_names,
        "files": files,
        "state_dict_keys": keys,
        "initial_num_batches_tracked": INITIAL_BATCHES_TRACKED,
        "parameter_count": params_golden,
        "parameter_count_default": tm.parameter_count(tm.build(name)),
        "parameter_count_quarter_width": tm.parameter_count(tm.build(name, quarter_width(name))),
    }


def quarter_width(name):
    """Every width multiplier of the default config at 0.25 (ModelConfig.WithWidth(0.25))."""
    defaults = tm.CATALOG[name][0]
    return {k: (0.25 if k.lower().endswith("width") else v) for k, v in defaults.items()}


def matlab_bicubic_up(img, factor):
    """MATLAB imresize(img, factor, 'bicubic') for upsampling, written from its definition (contributions with
    symmetric index extension), separable, in float64: the check that bicubic_upsample is that function."""
    def weights(n_in):
        n_out = n_in * factor
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            u = (o + 1) / factor + 0.5 * (1 - 1 / factor)  # 1-based
            left = math.floor(u - 2)
            for k in range(6):
                ind = left + k
                w = tm.cubic(u - ind)
                j = (ind - 1) % (2 * n_in)
                j = j if j < n_in else 2 * n_in - 1 - j
                m[o, j] += w
        return m / m.sum(1, keepdims=True)
    return weights(img.shape[0]) @ img @ weights(img.shape[1]).T


def check_bicubic():
    gen = torch.Generator().manual_seed(7)
    for h, w in ((16, 16), (5, 9), (2, 3)):
        x = torch.rand((1, 1, h, w), generator=gen, dtype=torch.float64)
        ours = tm.bicubic_upsample(x, 4)[0, 0].numpy()
        ref = matlab_bicubic_up(x[0, 0].numpy(), 4)
        err = np.abs(ours - ref).max()
        assert err < 1e-6, f"bicubic_upsample differs from MATLAB's imresize by {err} at {h}x{w}"


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    check_bicubic()
    reset_dir(OUT_DIR)
    cases = [make_case(i, *c) for i, c in enumerate(CASES)]
    assert [c["name"] for c in cases] == list(tm.CATALOG), "every catalog model has a golden case"
    with open(os.path.join(OUT_DIR, "manifest.json"), "w") as fh:
        json.dump({"generator": "tests/golden/make_network_golden.py", "torch": torch.__version__,
                   "note": "references in float64 from float32 inputs and weights; eval outputs are computed "
                           "before the train-mode forward; losses use the train-mode outputs; grads are of the "
                           "sum of the losses",
                   "cases": cases}, fh, indent=1)
    total = 0
    for root, _, names in os.walk(OUT_DIR):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in names)
    print(f"network cases: {len(cases)}, total bytes: {total}")
    for c in cases:
        print(f"  {c['name']}: {c['parameter_count']} parameters (default {c['parameter_count_default']}), losses {c['losses']}")
    if total > 1024 * 1024:
        sys.exit("network golden data exceeds 1 MB")


if __name__ == "__main__":
    main()
