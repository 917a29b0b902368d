#!/usr/bin/env python3
"""Times one training step of a catalog model with PyTorch on this machine, for `ilgpusat bench train`.

The step is the engine's (Training/Losses/TrainingLoss.cs): forward, the loss of the model's tasks
(sr: MSE; color: rebalanced soft cross-entropy over the 313 bins, mean over pixels of
w * -sum_q z_q log softmax_q; ab: MSE; total = sr + eta * colour), backward, Adam (lr 1e-3,
betas 0.9/0.999, weight decay 1e-4). The batch is synthetic (same shapes and value ranges as the
engine's bench) and its upload is timed as the data phase.

Transposed convolutions: Debian's CPU build runs ConvTranspose2d through a reference BLAS. Two
forms are timed and the faster one is the reference, named in "form": "native" (every transposed
convolution as nn.ConvTranspose2d) and "conv" (stride-1 ones as the equivalent conv2d, as
torch_models.ConvTranspose2d does; stride-2 ones stay native).

Peak memory: on CUDA max_memory_allocated (live tensors) and max_memory_reserved (the caching
allocator's hold); on the CPU the growth of the process's peak resident set over the step
(VmHWM after resetting it, minus VmRSS before the model was built).

Prints one JSON object.
"""
import argparse, json, os, re, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402
from process_memory import reset_peak_rss, rss_bytes  # noqa: E402


def make_batch(name, n, size, gen):
    kind = torch_models.CATALOG[name][2]
    tasks = torch_models.CATALOG[name][4]
    side = size // 4 if kind == "low_resolution" else size
    t = size // 4
    arrays = {"input": torch.rand(n, 1, side, side, generator=gen) - 0.5}
    if "sr" in tasks:
        arrays["sr"] = torch.rand(n, 1, size, size, generator=gen) - 0.5
    if "color_logits" in tasks:
        arrays["z"] = torch.softmax(torch.randn(n, 313, t, t, generator=gen) * 3, dim=1)
        arrays["w"] = 0.5 + torch.rand(n, 1, t, t, generator=gen)
    if "ab" in tasks:
        arrays["ab"] = (torch.rand(n, 2, size, size, generator=gen) - 0.5) * 0.8
    return arrays


def loss_of(tasks, out, b, eta=1.0):
    sr, logits, ab = out
    terms = []
    if "sr" in tasks:
        terms.append(F.mse_loss(sr, b["sr"]))
    if "color_logits" in tasks:
        ce = -(b["z"] * F.log_softmax(logits, dim=1)).sum(dim=1, keepdim=True)
        terms.append((b["w"] * ce).mean())
    if "ab" in tasks:
        terms.append(F.mse_loss(ab, b["ab"]))
    total = terms[0]
    weight = eta if len(terms) > 1 else 1.0
    for term in terms[1:]:
        total = total + weight * term
    return total


def time_form(args, form, dev, sync):
    if form == "native":
        # torch_models.ConvTranspose2d runs stride-1 cases as conv2d; turn that off for the native form.
        torch_models.ConvTranspose2d.forward = torch.nn.ConvTranspose2d.forward
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    config = json.loads(args.config) if args.config else None
    tasks = torch_models.CATALOG[args.model][4]

    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_bytes("VmRSS")
    can_reset = reset_peak_rss()

    model = torch_models.build(args.model, config).to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)
    host = make_batch(args.model, args.batch, args.size, gen)
    phases = {"data": [], "forward": [], "backward": [], "optimizer": [], "step": []}
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        b = {k: v.to(dev, non_blocking=False).clone() for k, v in host.items()}
        sync()
        t1 = time.perf_counter()
        loss = loss_of(tasks, model(b["input"]), b)
        sync()
        t2 = time.perf_counter()
        loss.backward()
        sync()
        t3 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        float(loss)  # the one host read of a step, as in the engine's trainer
        sync()
        t4 = time.perf_counter()
        if i >= args.warmup:
            for k, a, z in (("data", t0, t1), ("forward", t1, t2), ("backward", t2, t3), ("optimizer", t3, t4), ("step", t0, t4)):
                phases[k].append((z - a) * 1e3)
    result = {k + "_ms": statistics.median(v) for k, v in phases.items()}
    if dev.type == "cuda":
        result["peak_bytes"] = torch.cuda.max_memory_reserved()
        result["peak_allocated_bytes"] = torch.cuda.max_memory_allocated()
        result["peak_kind"] = "cuda max_memory_reserved"
    else:
        result["peak_bytes"] = max(0, rss_bytes("VmHWM") - rss_before) if can_reset else None
        result["peak_kind"] = "process peak RSS growth"
    result["form"] = form
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--config", default=None, help="model config JSON (camelCase keys, as ModelCatalog.ConfigJson)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--form", default="best", choices=["best", "native", "conv"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    forms = ["conv", "native"] if args.form == "best" else [args.form]
    runs = []
    for form in forms:  # "conv" first: "native" patches the class for the rest of the process
        runs.append(time_form(args, form, dev, sync))
    best = min(runs, key=lambda r: r["step_ms"])
    best["forms"] = {r["form"]: r["step_ms"] for r in runs}
    best["torch"] = torch.__version__
    best["threads"] = torch.get_num_threads()
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    best["cpu_capability"] = m.group(1) if m else None
    best["parameters"] = torch_models.parameter_count(torch_models.build(args.model, json.loads(args.config) if args.config else None))
    print(json.dumps(best))


if __name__ == "__main__":
    main()
