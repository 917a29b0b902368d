#!/usr/bin/python3
"""PyTorch golden references for the ILGpuSat engine.

Run with Debian's interpreter (it has torch 1.13):  /usr/bin/python3 tests/golden/make_golden.py

Writes, next to this script:
  ops/manifest.json + ops/*.npy             one case per op configuration: inputs, forward output,
                                            a random upstream gradient and the gradient of every input
  optim/manifest.json + optim/*.npy         optimizer / schedule / clipping trajectories
  state_dict/model.safetensors + *.npy/json a small Sequential model, its input and eval-mode output

Inputs are drawn as float32 from fixed seeds; references are computed in float64 from those exact
float32 values and stored as float32, so the stored answer is as close to the true one as float32
allows and the engine's own rounding is all the tests measure. The output is deterministic: running
the script twice gives identical files.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OPS_DIR = os.path.join(HERE, "ops")
OPTIM_DIR = os.path.join(HERE, "optim")
STATE_DIR = os.path.join(HERE, "state_dict")

# Every op the engine's F must match; the C# tests assert the manifest covers exactly this list.
REQUIRED_OPS = [
    "conv2d", "conv_transpose2d", "batch_norm_train", "batch_norm_eval", "prelu", "relu",
    "leaky_relu", "add", "mul", "scale", "cat", "narrow", "interpolate_bilinear",
    "interpolate_nearest", "max_pool2d", "sum", "mean", "softmax", "log_softmax", "mse_loss",
    "soft_cross_entropy", "instance_norm", "reshape", "conv3d", "dynamic_conv2d", "spatial_mean", "reflect_pad2d",
    "exp", "log", "sigmoid", "softplus", "linear", "binary_cross_entropy_with_logits", "gaussian_kl", "logsumexp",
    "gaussian_mixture_nll", "weighted_mse_loss", "gradient_loss",
]


def reset_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def f32(shape, gen, scale=1.0, offset=0.0):
    """Standard-normal float32 values (then scaled), as a float64 tensor holding float32 values."""
    t = torch.randn(tuple(shape), generator=gen, dtype=torch.float32) * scale + offset
    return t.to(torch.float32).to(torch.float64)


def save_npy(folder, name, t):
    arr = t.detach().to(torch.float32).contiguous().numpy()
    np.save(os.path.join(folder, name), arr, allow_pickle=False)
    return name


class OpCases:
    """Collects op cases: each runs a float64 PyTorch function on leaf tensors and records grads."""

    def __init__(self):
        self.cases = []
        self.names = set()

    def add(self, name, op, params, inputs, fn, seed, differentiable=None, extra=None):
        """inputs: ordered dict name -> float64 tensor (float32-representable).
        fn(**leaves) -> output tensor. differentiable: names whose gradients are recorded
        (default: all). extra(leaves) -> dict of extra reference tensors to store (e.g. running stats)."""
        assert name not in self.names, name
        self.names.add(name)
        gen = torch.Generator().manual_seed(seed + 7919)
        diff = list(inputs.keys()) if differentiable is None else differentiable
        leaves = {k: v.clone().requires_grad_(k in diff) for k, v in inputs.items()}
        out = fn(**leaves)
        # Random upstream gradient (never all ones, so a backward that ignores dy cannot pass).
        if out.dim() > 0:
            gout = f32(tuple(out.shape), gen)
        else:
            gout = torch.tensor(0.5 + float(torch.rand(1, generator=gen)), dtype=torch.float64)
            gout = gout.to(torch.float32).to(torch.float64)
        out.backward(gout)

        case = {"name": name, "op": op, "params": params, "inputs": {}, "grads": {}}
        for k, v in inputs.items():
            case["inputs"][k] = save_npy(OPS_DIR, f"{name}.in.{k}.npy", v)
        case["output"] = save_npy(OPS_DIR, f"{name}.out.npy", out)
        case["grad_output"] = save_npy(OPS_DIR, f"{name}.gout.npy", gout)
        for k in diff:
            g = leaves[k].grad
            assert g is not None, (name, k)
            case["grads"][k] = save_npy(OPS_DIR, f"{name}.grad.{k}.npy", g)
        if extra is not None:
            case["extra"] = {k: save_npy(OPS_DIR, f"{name}.extra.{k}.npy", v) for k, v in extra(leaves).items()}
        self.cases.append(case)


def gen_for(seed):
    return torch.Generator().manual_seed(seed)


def make_ops():
    reset_dir(OPS_DIR)
    c = OpCases()
    seed = [1000]

    def nxt():
        seed[0] += 1
        return seed[0]

    # ---- conv2d (weight OIHW) ------------------------------------------------------------------
    conv_cfgs = [
        # name,               x shape,        out_c, k, stride, pad, dil, bias
        ("k3_s1_p1_bias",      (2, 3, 7, 9),   4, 3, 1, 1, 1, True),
        ("k3_s1_p0_c1_nobias", (1, 1, 5, 6),   1, 3, 1, 0, 1, False),
        ("k1_to313_bias",      (1, 5, 3, 4), 313, 1, 1, 0, 1, True),
        ("k3_from313_p1",      (1, 313, 3, 3), 2, 3, 1, 1, 1, True),
        ("k3_s2_p1_bias",      (3, 2, 9, 7),   3, 3, 2, 1, 1, True),
        ("k4_s2_p1_nobias",    (1, 3, 8, 8),   2, 4, 2, 1, 1, False),
        ("k3_d2_p2_bias",      (2, 3, 9, 9),   4, 3, 1, 2, 2, True),
        ("k3_s2_d2_p0_nobias", (3, 2, 11, 10), 3, 3, 2, 0, 2, False),
        ("k4_s1_p0_odd",       (1, 2, 7, 9),   3, 4, 1, 0, 1, True),
    ]
    for tag, xs, oc, k, s, p, d, bias in conv_cfgs:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32(xs, g), "weight": f32((oc, xs[1], k, k), g, scale=1.0 / np.sqrt(xs[1] * k * k))}
        if bias:
            inputs["bias"] = f32((oc,), g, scale=0.5)
        params = {"stride": s, "padding": p, "dilation": d, "bias": bias}
        c.add(f"conv2d_{tag}", "conv2d", params, inputs,
              lambda x, weight, bias=None, s=s, p=p, d=d: F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d), sd)

    # ---- conv_transpose2d (weight IOHW) ------------------------------------------------------
    convt_cfgs = [
        # name,                  x shape,       out_c, k, stride, pad, out_pad, dil, bias
        ("k4_s2_p1_bias",        (2, 3, 4, 5),   2, 4, 2, 1, 0, 1, True),
        ("k3_s2_p1_op1_nobias",  (1, 2, 5, 4),   3, 3, 2, 1, 1, 1, False),
        ("k1_s1_p0_bias",        (3, 4, 3, 3),   2, 1, 1, 0, 0, 1, True),
        ("k3_s1_p1_c1_bias",     (1, 1, 7, 9),   1, 3, 1, 1, 0, 1, True),
        ("k3_s2_p0_op1_bias",    (2, 3, 3, 4),   4, 3, 2, 0, 1, 1, True),
        ("k4_s2_p1_from313",     (1, 313, 2, 2), 2, 4, 2, 1, 0, 1, False),
        ("k3_s1_p2_d2_bias",     (1, 2, 5, 6),   3, 3, 1, 2, 0, 2, True),
    ]
    for tag, xs, oc, k, s, p, op_, d, bias in convt_cfgs:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32(xs, g), "weight": f32((xs[1], oc, k, k), g, scale=1.0 / np.sqrt(xs[1] * k * k))}
        if bias:
            inputs["bias"] = f32((oc,), g, scale=0.5)
        params = {"stride": s, "padding": p, "output_padding": op_, "dilation": d, "bias": bias}
        c.add(f"conv_transpose2d_{tag}", "conv_transpose2d", params, inputs,
              lambda x, weight, bias=None, s=s, p=p, op_=op_, d=d:
              F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op_, dilation=d), sd)

    # ---- batch norm ----------------------------------------------------------------------------
    momentum, eps = 0.1, 1e-5
    bn_train = [
        ("n2_c4_7x9", (2, 4, 7, 9), True),
        ("n3_c1_5x5", (3, 1, 5, 5), True),
        ("n3_c313_2x2", (3, 313, 2, 2), True),
        ("n1_c3_7x9", (1, 3, 7, 9), True),
        ("n2_c3_4x4_nostats", (2, 3, 4, 4), False),
    ]
    for tag, xs, stats in bn_train:
        sd = nxt()
        g = gen_for(sd)
        C = xs[1]
        # Non-zero channel means and non-unit scales so normalisation really does something.
        x = f32(xs, g) * f32((1, C, 1, 1), g, scale=0.5, offset=1.5).abs().to(torch.float32).to(torch.float64) \
            + f32((1, C, 1, 1), g, scale=2.0)
        x = x.to(torch.float32).to(torch.float64)
        inputs = {"x": x, "weight": f32((C,), g, scale=0.5, offset=1.0), "bias": f32((C,), g, scale=0.5)}
        rm = f32((C,), g, scale=0.3)
        rv = f32((C,), g, scale=0.3, offset=1.0).abs().to(torch.float32).to(torch.float64) + 0.25
        rv = rv.to(torch.float32).to(torch.float64)
        if stats:
            inputs["running_mean"] = rm
            inputs["running_var"] = rv
        state = {}

        def fn(x, weight, bias, running_mean=None, running_var=None, state=state):
            # F.batch_norm updates the running buffers in place; work on copies so the inputs stay intact.
            rm_ = None if running_mean is None else running_mean.detach().clone()
            rv_ = None if running_var is None else running_var.detach().clone()
            state["rm"], state["rv"] = rm_, rv_
            return F.batch_norm(x, rm_, rv_, weight, bias, training=True, momentum=momentum, eps=eps)

        extra = (lambda leaves, state=state: {"running_mean": state["rm"], "running_var": state["rv"]}) if stats else None
        c.add(f"batch_norm_train_{tag}", "batch_norm_train",
              {"momentum": momentum, "eps": eps, "running_stats": stats}, inputs, fn, sd,
              differentiable=["x", "weight", "bias"], extra=extra)

    for tag, xs in [("n2_c4_7x9", (2, 4, 7, 9)), ("n1_c313_2x3", (1, 313, 2, 3)), ("n3_c1_5x4", (3, 1, 5, 4))]:
        sd = nxt()
        g = gen_for(sd)
        C = xs[1]
        rv = (f32((C,), g, scale=0.3, offset=1.0).abs() + 0.25).to(torch.float32).to(torch.float64)
        inputs = {"x": f32(xs, g, scale=2.0, offset=0.5), "weight": f32((C,), g, scale=0.5, offset=1.0),
                  "bias": f32((C,), g, scale=0.5), "running_mean": f32((C,), g, scale=0.5), "running_var": rv}

        def fn(x, weight, bias, running_mean, running_var):
            return F.batch_norm(x, running_mean, running_var, weight, bias, training=False, momentum=momentum, eps=eps)

        c.add(f"batch_norm_eval_{tag}", "batch_norm_eval", {"momentum": momentum, "eps": eps}, inputs, fn, sd,
              differentiable=["x", "weight", "bias"])

    # ---- activations -----------------------------------------------------------------------------
    for tag, xs, wn in [("per_channel_c4", (2, 4, 5, 6), 4), ("single_c3", (3, 3, 7, 9), 1),
                        ("per_channel_c1", (1, 1, 4, 5), 1), ("per_channel_c313", (1, 313, 2, 2), 313)]:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32(xs, g), "weight": f32((wn,), g, scale=0.2, offset=0.25)}
        c.add(f"prelu_{tag}", "prelu", {"num_parameters": wn}, inputs, lambda x, weight: F.prelu(x, weight), sd)

    for tag, xs in [("n2_c3_7x9", (2, 3, 7, 9)), ("n1_c313_2x2", (1, 313, 2, 2))]:
        sd = nxt()
        c.add(f"relu_{tag}", "relu", {}, {"x": f32(xs, gen_for(sd))}, lambda x: F.relu(x), sd)
    for tag, xs, slope in [("s001_n2_c3_7x9", (2, 3, 7, 9), 0.01), ("s02_n1_c1_5x5", (1, 1, 5, 5), 0.2)]:
        sd = nxt()
        c.add(f"leaky_relu_{tag}", "leaky_relu", {"negative_slope": slope}, {"x": f32(xs, gen_for(sd))},
              lambda x, slope=slope: F.leaky_relu(x, negative_slope=slope), sd)

    # ---- elementwise -------------------------------------------------------------------------------
    for tag, xs in [("n2_c3_5x7", (2, 3, 5, 7)), ("n1_c313_2x2", (1, 313, 2, 2))]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"add_{tag}", "add", {}, {"a": f32(xs, g), "b": f32(xs, g)}, lambda a, b: a + b, sd)
        sd = nxt()
        g = gen_for(sd)
        c.add(f"mul_{tag}", "mul", {}, {"a": f32(xs, g), "b": f32(xs, g)}, lambda a, b: a * b, sd)
    for tag, xs, s in [("neg037_n2_c3_5x7", (2, 3, 5, 7), -0.37), ("x2p5_n1_c1_7x9", (1, 1, 7, 9), 2.5)]:
        sd = nxt()
        c.add(f"scale_{tag}", "scale", {"scalar": s}, {"x": f32(xs, gen_for(sd))}, lambda x, s=s: x * s, sd)

    # ---- layout ----------------------------------------------------------------------------------
    for tag, n, chans, hw in [("three_n2", 2, [1, 3, 2], (3, 4)), ("two_n1_313", 1, [313, 2], (2, 3)),
                              ("two_n3_odd", 3, [2, 1], (7, 9))]:
        sd = nxt()
        g = gen_for(sd)
        inputs = {f"x{i}": f32((n, ci) + hw, g) for i, ci in enumerate(chans)}
        c.add(f"cat_{tag}", "cat", {"dim": 1, "count": len(chans)}, inputs,
              lambda **xs: torch.cat([xs[f"x{i}"] for i in range(len(xs))], dim=1), sd)
    for tag, xs, start, length in [("n2_c6_s2_l3", (2, 6, 3, 4), 2, 3), ("n1_c3_s0_l1", (1, 3, 7, 9), 0, 1),
                                   ("n3_c313_s311_l2", (3, 313, 2, 1), 311, 2), ("n1_c4_full", (1, 4, 2, 2), 0, 4)]:
        sd = nxt()
        c.add(f"narrow_{tag}", "narrow", {"dim": 1, "start": start, "length": length}, {"x": f32(xs, gen_for(sd))},
              lambda x, start=start, length=length: torch.narrow(x, 1, start, length), sd)

    # ---- resampling ----------------------------------------------------------------------------
    interp_cfgs = [
        ("up2_4x5_to_8x10", (2, 3, 4, 5), (8, 10)),
        ("up4_3x4_to_12x16", (1, 2, 3, 4), (12, 16)),
        ("down2_8x10_to_4x5", (2, 2, 8, 10), (4, 5)),
        ("mixed_7x9_to_5x13", (1, 3, 7, 9), (5, 13)),
        ("up4_c313_2x2_to_8x8", (1, 313, 2, 2), (8, 8)),
    ]
    for mode in ["bilinear", "nearest"]:
        for tag, xs, (oh, ow) in interp_cfgs:
            if mode == "nearest" and xs[1] == 313:
                continue
            sd = nxt()
            x = f32(xs, gen_for(sd))
            kw = {"align_corners": False} if mode == "bilinear" else {}
            if mode == "nearest":
                # PyTorch 1.13 computes the source index as floorf(dst * (float)(in/out)); the engine
                # uses the exact floor(dst*in/out). Only keep sizes where both agree.
                for n_in, n_out in [(xs[2], oh), (xs[3], ow)]:
                    sc = np.float32(n_in / n_out)
                    for o in range(n_out):
                        assert min(int(np.floor(np.float32(o) * sc)), n_in - 1) == (o * n_in) // n_out, (tag, o)
            c.add(f"interpolate_{mode}_{tag}", f"interpolate_{mode}",
                  {"out_h": oh, "out_w": ow, "mode": mode, "align_corners": False}, {"x": x},
                  lambda x, oh=oh, ow=ow, mode=mode, kw=kw: F.interpolate(x, size=(oh, ow), mode=mode, **kw), sd)

    for tag, xs in [("n2_c3_8x8", (2, 3, 8, 8)), ("odd_n1_c2_7x9", (1, 2, 7, 9)), ("n1_c313_2x4", (1, 313, 2, 4)),
                    ("n3_c1_3x2", (3, 1, 3, 2))]:
        sd = nxt()
        c.add(f"max_pool2d_{tag}", "max_pool2d", {"kernel_size": 2, "stride": 2}, {"x": f32(xs, gen_for(sd))},
              lambda x: F.max_pool2d(x, 2), sd)

    # ---- reductions -------------------------------------------------------------------------------
    for tag, xs in [("n2_c3_4x5", (2, 3, 4, 5)), ("n1_c313_2x2", (1, 313, 2, 2)), ("n1_c1_1x1", (1, 1, 1, 1))]:
        sd = nxt()
        c.add(f"sum_{tag}", "sum", {}, {"x": f32(xs, gen_for(sd))}, lambda x: x.sum(), sd)
        sd = nxt()
        c.add(f"mean_{tag}", "mean", {}, {"x": f32(xs, gen_for(sd))}, lambda x: x.mean(), sd)

    # ---- softmax over channels ---------------------------------------------------------------------
    sm_cfgs = [("n2_c5_3x4", (2, 5, 3, 4), 1.0), ("n1_c313_2x3", (1, 313, 2, 3), 3.0), ("n3_c1_2x2", (3, 1, 2, 2), 1.0),
               ("large_logits_n1_c4_3x3", (1, 4, 3, 3), 60.0)]
    for tag, xs, sc in sm_cfgs:
        sd = nxt()
        c.add(f"softmax_{tag}", "softmax", {"dim": 1}, {"x": f32(xs, gen_for(sd), scale=sc)},
              lambda x: F.softmax(x, dim=1), sd)
        sd = nxt()
        c.add(f"log_softmax_{tag}", "log_softmax", {"dim": 1}, {"x": f32(xs, gen_for(sd), scale=sc)},
              lambda x: F.log_softmax(x, dim=1), sd)

    # ---- losses --------------------------------------------------------------------------------------
    for tag, xs in [("n2_c3_5x7", (2, 3, 5, 7)), ("n1_c1_7x9", (1, 1, 7, 9))]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"mse_loss_{tag}", "mse_loss", {"reduction": "mean"}, {"input": f32(xs, g), "target": f32(xs, g)},
              lambda input, target: F.mse_loss(input, target), sd)

    def soft_ce(logits, target, weights=None):
        per_pixel = -(target * F.log_softmax(logits, dim=1)).sum(dim=1, keepdim=True)  # [N,1,H,W]
        if weights is not None:
            per_pixel = per_pixel * weights
        return per_pixel.mean()

    for tag, xs, weighted, sc in [("n2_c313_3x4_weighted", (2, 313, 3, 4), True, 3.0),
                                  ("n1_c5_7x9_unweighted", (1, 5, 7, 9), False, 1.0),
                                  ("n3_c4_2x2_weighted", (3, 4, 2, 2), True, 1.0),
                                  ("large_logits_n1_c6_2x3_weighted", (1, 6, 2, 3), True, 50.0)]:
        sd = nxt()
        g = gen_for(sd)
        n, C, h, w = xs
        # Soft targets: a proper distribution over channels per pixel (like the Gaussian-smoothed
        # ab-bin encoding), sharp enough that most mass sits on a few bins.
        z = F.softmax(f32(xs, g, scale=4.0), dim=1).to(torch.float32).to(torch.float64)
        inputs = {"logits": f32(xs, g, scale=sc), "target": z}
        if weighted:
            inputs["weights"] = (torch.rand(n, 1, h, w, generator=g, dtype=torch.float32) * 2 + 0.1).to(torch.float64)
        c.add(f"soft_cross_entropy_{tag}", "soft_cross_entropy", {"weighted": weighted}, inputs, soft_ce, sd)

    # Appended last so the seeds of the cases above stay as they were: stride 1 with output_padding
    # below the dilation, where the padded rows/columns get only the bias.
    for tag, xs, oc, k, s_, p, op_, d in [("k3_s1_p1_op1_d2_bias", (1, 2, 5, 6), 3, 3, 1, 1, 1, 2)]:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32(xs, g), "weight": f32((xs[1], oc, k, k), g, scale=1.0 / np.sqrt(xs[1] * k * k)),
                  "bias": f32((oc,), g, scale=0.5)}
        params = {"stride": s_, "padding": p, "output_padding": op_, "dilation": d, "bias": True}
        c.add(f"conv_transpose2d_{tag}", "conv_transpose2d", params, inputs,
              lambda x, weight, bias=None, s=s_, p=p, op_=op_, d=d:
              F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op_, dilation=d), sd)

    # ---- multi-image SR additions (appended, so the seeds above stay as they were) -------------------------
    # instance_norm: per-sample statistics (DeepSUM); frames of different brightness and contrast in one batch.
    for tag, xs, affine in [("n3_c4_5x7_affine", (3, 4, 5, 7), True), ("n2_c3_6x4_plain", (2, 3, 6, 4), False),
                            ("n1_c2_1x9_affine", (1, 2, 1, 9), True), ("n4_c313_2x2_affine", (4, 313, 2, 2), True)]:
        sd = nxt()
        g = gen_for(sd)
        n, C = xs[0], xs[1]
        scale = f32((n, C, 1, 1), g, scale=0.5, offset=1.5).abs().to(torch.float32).to(torch.float64)
        x = (f32(xs, g) * scale + f32((n, C, 1, 1), g, scale=2.0)).to(torch.float32).to(torch.float64)
        inputs = {"x": x}
        if affine:
            inputs["weight"] = f32((C,), g, scale=0.5, offset=1.0)
            inputs["bias"] = f32((C,), g, scale=0.5)
        c.add(f"instance_norm_{tag}", "instance_norm", {"eps": 1e-5, "affine": affine}, inputs,
              lambda x, weight=None, bias=None: F.instance_norm(x, weight=weight, bias=bias, eps=1e-5), sd)
    # reshape: a frames axis into the batch and back ([N, T, C, H, W] <-> [N*T, C, H, W]), and -1 inference.
    for tag, xs, shape in [("ntchw_to_nt_chw", (2, 3, 4, 5, 6), [6, 4, 5, 6]), ("nchw_to_frames", (6, 2, 3, 3), [2, 3, 2, 3, 3]),
                           ("infer", (2, 3, 4, 5), [-1, 20])]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"reshape_{tag}", "reshape", {"shape": shape}, {"x": f32(xs, g)}, lambda x, shape=shape: x.reshape(shape), sd)

    # conv3d on the frames-major layout [N, T, C, H, W]: torch's conv3d of x.permute(0, 2, 1, 3, 4), permuted back.
    # Stride 1, no temporal padding (FusionNet), optional spatial padding.
    for tag, xs, oc, kt, k, pad, bias in [("t5_k3x3x3_p0_bias", (2, 5, 3, 6, 7), 4, 3, 3, 0, True),
                                          ("t3_k3x3x3_p1_nobias", (1, 3, 2, 5, 5), 3, 3, 3, 1, False),
                                          ("t4_k2x1x1_bias", (2, 4, 4, 3, 4), 2, 2, 1, 0, True),
                                          ("t9_k3x3x3_p1_c8", (1, 9, 8, 4, 4), 8, 3, 3, 1, True)]:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32(xs, g), "weight": f32((oc, xs[2], kt, k, k), g, scale=1.0 / np.sqrt(xs[2] * kt * k * k))}
        if bias:
            inputs["bias"] = f32((oc,), g, scale=0.5)
        c.add(f"conv3d_{tag}", "conv3d", {"padding": pad, "bias": bias, "layout": "NTCHW"}, inputs,
              lambda x, weight, bias=None, pad=pad:
              F.conv3d(x.permute(0, 2, 1, 3, 4), weight, bias, padding=(0, pad, pad)).permute(0, 2, 1, 3, 4).contiguous(), sd)

    # dynamic_conv2d: each sample's own K x K filter (softmax over taps, as RegNet's) on all its channels, padding K//2.
    def dynamic_conv(x, filters):
        k = filters.shape[-1]
        return torch.cat([F.conv2d(x[i:i + 1].transpose(0, 1), filters[i:i + 1], padding=k // 2).transpose(0, 1)
                          for i in range(x.shape[0])], dim=0)

    for tag, xs, k in [("n2_c3_k3", (2, 3, 6, 7), 3), ("n3_c2_k5", (3, 2, 7, 7), 5), ("n1_c4_k9", (1, 4, 10, 9), 9)]:
        sd = nxt()
        g = gen_for(sd)
        n = xs[0]
        filters = F.softmax(f32((n, k * k), g, scale=2.0), dim=1).reshape(n, 1, k, k).to(torch.float32).to(torch.float64)
        c.add(f"dynamic_conv2d_{tag}", "dynamic_conv2d", {"k": k}, {"x": f32(xs, g), "filters": filters}, dynamic_conv, sd)

    for tag, xs in [("n2_c81_5x6", (2, 81, 5, 6)), ("n3_c2_1x7", (3, 2, 1, 7))]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"spatial_mean_{tag}", "spatial_mean", {}, {"x": f32(xs, g)}, lambda x: F.adaptive_avg_pool2d(x, 1), sd)
    for tag, xs, p_ in [("p1_n2_c3_5x6", (2, 3, 5, 6), 1), ("p4_n1_c2_9x10", (1, 2, 9, 10), 4), ("p2_n3_c1_3x4", (3, 1, 3, 4), 2)]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"reflect_pad2d_{tag}", "reflect_pad2d", {"padding": p_}, {"x": f32(xs, g)},
              lambda x, p_=p_: F.pad(x, [p_, p_, p_, p_], mode="reflect"), sd)

    def dynamic_conv_reflect(x, filters):
        k = filters.shape[-1]
        return torch.cat([F.conv2d(F.pad(x[i:i + 1].transpose(0, 1), [k // 2] * 4, mode="reflect"), filters[i:i + 1]).transpose(0, 1)
                          for i in range(x.shape[0])], dim=0)

    for tag, xs, k in [("n2_c3_k5_reflect", (2, 3, 6, 7), 5), ("n1_c2_k9_reflect", (1, 2, 10, 11), 9)]:
        sd = nxt()
        g = gen_for(sd)
        n = xs[0]
        filters = F.softmax(f32((n, k * k), g, scale=2.0), dim=1).reshape(n, 1, k, k).to(torch.float32).to(torch.float64)
        c.add(f"dynamic_conv2d_{tag}", "dynamic_conv2d", {"k": k, "reflect": True}, {"x": f32(xs, g), "filters": filters},
              dynamic_conv_reflect, sd)

    # The generative colorizers' ops (issue 11): pointwise functions over their whole range, dense layers, the GAN's
    # and the VAE's losses, and the mixture density network's negative log-likelihood.
    for tag, xs, scale, offset in [("n2_c3_4x5", (2, 3, 4, 5), 3.0, 0.0), ("wide_n1_c1_1x64", (1, 1, 1, 64), 12.0, 0.0)]:
        for name, fn in [("exp", torch.exp), ("sigmoid", torch.sigmoid), ("softplus", lambda x: F.softplus(x, beta=1, threshold=1000))]:
            sd = nxt()
            c.add(f"{name}_{tag}", name, {}, {"x": f32(xs, gen_for(sd), scale=scale if name != "exp" else min(scale, 4.0), offset=offset)}, fn, sd)
        sd = nxt()
        positive = (f32(xs, gen_for(sd)).abs() * 2 + 0.05).to(torch.float32).to(torch.float64)
        c.add(f"log_{tag}", "log", {}, {"x": positive}, torch.log, sd)
    for tag, n, fin, fout, bias in [("n4_in6_out3", 4, 6, 3, True), ("n1_in17_out5_nobias", 1, 17, 5, False), ("n3_in1024_out1", 3, 1024, 1, True)]:
        sd = nxt()
        g = gen_for(sd)
        inputs = {"x": f32((n, fin), g), "weight": f32((fout, fin), g, scale=fin ** -0.5)}
        if bias:
            inputs["bias"] = f32((fout,), g)
        c.add(f"linear_{tag}", "linear", {}, inputs, lambda x, weight, bias=None: F.linear(x, weight, bias), sd)
    for tag, xs in [("n8_1", (8, 1)), ("n2_c3_4x4", (2, 3, 4, 4))]:
        sd = nxt()
        g = gen_for(sd)
        target = (torch.rand(xs, generator=g) > 0.5).to(torch.float64)
        c.add(f"bce_with_logits_{tag}", "binary_cross_entropy_with_logits", {}, {"logits": f32(xs, g, scale=4.0), "target": target},
              lambda logits, target: F.binary_cross_entropy_with_logits(logits, target), sd, differentiable=["logits"])
    for tag, xs in [("n4_z8", (4, 8)), ("n2_z64", (2, 64))]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"gaussian_kl_{tag}", "gaussian_kl", {"batch": xs[0]}, {"mu": f32(xs, g), "logvar": f32(xs, g, scale=0.5)},
              lambda mu, logvar, b=xs[0]: 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - 1 - logvar) / b, sd)
    for tag, xs in [("n3_c8", (3, 8)), ("n2_c5_3x4", (2, 5, 3, 4)), ("n2_c4_far", (2, 4))]:
        sd = nxt()
        g = gen_for(sd)
        x = f32(xs, g, scale=40.0 if tag.endswith("far") else 2.0)
        c.add(f"logsumexp_{tag}", "logsumexp", {}, {"x": x}, lambda x: torch.logsumexp(x, dim=1, keepdim=True), sd)

    def mixture_nll(z, weight_logits, means, log_std):
        mix = torch.distributions.Categorical(logits=weight_logits)
        comp = torch.distributions.Independent(torch.distributions.Normal(means, torch.exp(log_std)), 1)
        return -torch.distributions.MixtureSameFamily(mix, comp).log_prob(z).mean()

    for tag, n, k, d in [("n4_k3_d2", 4, 3, 2), ("n2_k8_d64", 2, 8, 64), ("n3_k1_d5", 3, 1, 5)]:
        sd = nxt()
        g = gen_for(sd)
        c.add(f"gaussian_mixture_nll_{tag}", "gaussian_mixture_nll", {},
              {"z": f32((n, d), g), "weight_logits": f32((n, k), g), "means": f32((n, k, d), g), "log_std": f32((n, k, d), g, scale=0.3)},
              mixture_nll, sd)

    # divcolor's decoder losses: the colour-rebalanced L2 (per-value weights) and the gradient loss.
    for tag, xs in [("n2_c2_5x6", (2, 2, 5, 6)), ("n1_c2_8x8", (1, 2, 8, 8))]:
        sd = nxt()
        g = gen_for(sd)
        weights = (f32(xs, g).abs() + 0.1).to(torch.float32).to(torch.float64)
        c.add(f"weighted_mse_loss_{tag}", "weighted_mse_loss", {}, {"input": f32(xs, g), "target": f32(xs, g), "weights": weights},
              lambda input, target, weights: torch.mean(weights * (input - target) ** 2), sd, differentiable=["input", "target"])
        sd = nxt()
        g = gen_for(sd)

        def gradient_loss(input, target):
            dh = lambda x: x[..., :, 1:] - x[..., :, :-1]
            dv = lambda x: x[..., 1:, :] - x[..., :-1, :]
            return F.mse_loss(dh(input), dh(target)) + F.mse_loss(dv(input), dv(target))

        c.add(f"gradient_loss_{tag}", "gradient_loss", {}, {"input": f32(xs, g), "target": f32(xs, g)}, gradient_loss, sd)

    ops_seen = sorted({case["op"] for case in c.cases})
    assert ops_seen == sorted(REQUIRED_OPS), (ops_seen, REQUIRED_OPS)
    manifest = {
        "generator": "tests/golden/make_golden.py",
        "torch": torch.__version__,
        "reference_dtype": "float64 computed from float32 inputs, stored as float32",
        "required_ops": REQUIRED_OPS,
        "cases": c.cases,
    }
    with open(os.path.join(OPS_DIR, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    return len(c.cases)


# ---------------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------------

def make_optim():
    reset_dir(OPTIM_DIR)
    cases = []
    param_shapes = [(3, 4), (5,)]
    steps = 6

    def run(name, kind, hyper, sched=None, clip=None, grad_scale=1.0, seed=0):
        g = gen_for(5000 + seed)
        inits = [f32(s, g) for s in param_shapes]
        grads = [[f32(s, g, scale=grad_scale) for s in param_shapes] for _ in range(steps)]
        params = [torch.nn.Parameter(p.clone()) for p in inits]
        if kind == "sgd":
            opt = torch.optim.SGD(params, **hyper)
        elif kind == "adam":
            opt = torch.optim.Adam(params, **hyper)
        elif kind == "adamw":
            opt = torch.optim.AdamW(params, **hyper)
        else:
            raise ValueError(kind)
        scheduler = torch.optim.lr_scheduler.StepLR(opt, **sched) if sched else None
        after = [[] for _ in param_shapes]
        used_grads = [[] for _ in param_shapes]
        lrs, norms = [], []
        for k in range(steps):
            for p, gr in zip(params, grads[k]):
                p.grad = gr.clone()
            if clip is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip)))
            for i, p in enumerate(params):
                used_grads[i].append(p.grad.detach().clone())
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            if scheduler:
                scheduler.step()
            for i, p in enumerate(params):
                after[i].append(p.detach().clone())
        case = {"name": name, "optimizer": kind, "hyper": hyper, "steps": steps,
                "params": [], "grads": [], "after": [], "lrs": lrs}
        if sched:
            case["step_lr"] = sched
        if clip is not None:
            case["clip_max_norm"] = clip
            case["total_norms"] = norms
            case["clipped_grads"] = []
        for i in range(len(param_shapes)):
            case["params"].append(save_npy(OPTIM_DIR, f"{name}.p{i}.init.npy", inits[i]))
            case["grads"].append(save_npy(OPTIM_DIR, f"{name}.p{i}.grads.npy", torch.stack([gr[i] for gr in grads])))
            case["after"].append(save_npy(OPTIM_DIR, f"{name}.p{i}.after.npy", torch.stack(after[i])))
            if clip is not None:
                case["clipped_grads"].append(save_npy(OPTIM_DIR, f"{name}.p{i}.clipped.npy", torch.stack(used_grads[i])))
        cases.append(case)

    run("sgd_plain", "sgd", {"lr": 0.1}, seed=1)
    run("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}, seed=2)
    run("sgd_momentum_dampening", "sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, seed=3)
    run("sgd_weight_decay", "sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}, seed=4)
    run("sgd_nesterov", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.001, "nesterov": True}, seed=5)
    run("adam", "adam", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8}, seed=6)
    run("adam_weight_decay", "adam", {"lr": 2e-2, "betas": [0.8, 0.95], "eps": 1e-6, "weight_decay": 0.1}, seed=7)
    run("adamw", "adamw", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1}, seed=8)
    run("steplr_sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}, sched={"step_size": 2, "gamma": 0.5}, seed=9)
    run("steplr_adam", "adam", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8}, sched={"step_size": 3, "gamma": 0.1}, seed=10)
    # Global norm of these gradients is ~4-12, so clipping to 1.0 acts on every step.
    run("clip_norm_sgd", "sgd", {"lr": 0.1, "momentum": 0.9}, clip=1.0, grad_scale=2.0, seed=11)
    # Gradients small enough that clipping to 10 leaves them alone (coefficient clamped to 1).
    run("clip_norm_noop_adam", "adam", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8}, clip=10.0, grad_scale=0.3, seed=12)
    with open(os.path.join(OPTIM_DIR, "manifest.json"), "w") as fh:
        json.dump({"generator": "tests/golden/make_golden.py", "torch": torch.__version__,
                   "note": "grads/after/clipped npy files are stacked over steps: [steps, *param_shape]; "
                           "lrs[k] is the learning rate used by step k; after[k] is the parameter after step k",
                   "cases": cases}, fh, indent=1)
    return len(cases)


# ---------------------------------------------------------------------------------------------------
# State dict (safetensors written by hand)
# ---------------------------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """safetensors: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
    then the raw little-endian data, tensors back to back in header order."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype, raw = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.int64:
            dtype, raw = "I64", t.numpy().astype("<i8").tobytes()
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # pad so the data starts 8-byte aligned (as the reference writer does)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hjson)))
        fh.write(hjson)
        for b in blobs:
            fh.write(b)


def read_safetensors(path):
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        data = fh.read()
    out = {}
    for name, meta in header.items():
        a, b = meta["data_offsets"]
        dt = {"F32": "<f4", "I64": "<i8"}[meta["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(meta["shape"])
    return out


def make_state_dict():
    reset_dir(STATE_DIR)
    torch.manual_seed(2024)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, kernel_size=3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.PReLU(4),
        torch.nn.ConvTranspose2d(4, 2, kernel_size=4, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1, dilation=1, bias=False),
        torch.nn.BatchNorm2d(3),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(3, 2, kernel_size=1),
    )
    with torch.no_grad():
        # Non-default affine and PReLU parameters so loading them wrongly shows in the output.
        for idx in (1, 6):
            model[idx].weight.copy_(torch.rand(model[idx].weight.shape) + 0.5)
            model[idx].bias.copy_(torch.randn(model[idx].bias.shape) * 0.3)
        model[2].weight.copy_(torch.rand(4) * 0.5)
    model.train()
    with torch.no_grad():
        for _ in range(3):  # training-mode forwards move the running statistics away from 0/1
            model(torch.randn(2, 3, 6, 5) * 2 + 0.7)
    model.eval()
    x = torch.randn(2, 3, 6, 5)
    with torch.no_grad():
        y = model(x)
    sd = model.state_dict()
    write_safetensors(os.path.join(STATE_DIR, "model.safetensors"), sd)  # includes I64 num_batches_tracked
    only_f32 = {k: v for k, v in sd.items() if v.dtype == torch.float32}
    write_safetensors(os.path.join(STATE_DIR, "model_f32.safetensors"), only_f32)
    # Self-check: the file reads back bit-exactly.
    back = read_safetensors(os.path.join(STATE_DIR, "model.safetensors"))
    for k, v in sd.items():
        assert np.array_equal(back[k], v.numpy()), k
    np.save(os.path.join(STATE_DIR, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(STATE_DIR, "output_eval.npy"), y.numpy().astype(np.float32))
    layers = []
    for i, m in enumerate(model):
        d = {"index": i, "type": type(m).__name__}
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            d.update(in_channels=m.in_channels, out_channels=m.out_channels, kernel_size=m.kernel_size[0],
                     stride=m.stride[0], padding=m.padding[0], dilation=m.dilation[0], bias=m.bias is not None)
            if isinstance(m, torch.nn.ConvTranspose2d):
                d["output_padding"] = m.output_padding[0]
        elif isinstance(m, torch.nn.BatchNorm2d):
            d.update(num_features=m.num_features, eps=m.eps, momentum=m.momentum)
        elif isinstance(m, torch.nn.PReLU):
            d.update(num_parameters=m.num_parameters)
        elif isinstance(m, torch.nn.LeakyReLU):
            d.update(negative_slope=m.negative_slope)
        layers.append(d)
    meta = {
        "generator": "tests/golden/make_golden.py", "torch": torch.__version__,
        "layers": layers,
        "state_dict": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in sd.items()},
        "files": {"with_num_batches_tracked": "model.safetensors", "float32_only": "model_f32.safetensors",
                  "input": "input.npy", "output_eval": "output_eval.npy"},
    }
    with open(os.path.join(STATE_DIR, "model.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
    return len(sd)


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    n_ops = make_ops()
    n_opt = make_optim()
    n_sd = make_state_dict()
    total = 0
    for d in (OPS_DIR, OPTIM_DIR, STATE_DIR):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"op cases: {n_ops}, optimizer cases: {n_opt}, state-dict tensors: {n_sd}, total bytes: {total}")
    if total > 4 * 1024 * 1024:
        sys.exit("golden data exceeds 4 MB")


if __name__ == "__main__":
    main()
