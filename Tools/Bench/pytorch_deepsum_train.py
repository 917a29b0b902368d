#!/usr/bin/env python3
"""Times one DeepSUM training step with PyTorch for `ilgpusat bench train --model deepsum`: the definition in
torch_deepsum.py (the same network, names and readings as Networks/Misr), a synthetic batch of the same shapes
(frames [B, T, 1, S, S], masks with a cloud block in frames 1 and 2), MSE against a target, backward, Adam (lr 1e-4).
Prints one JSON object: step_ms, forward_ms, backward_ms, optimizer_ms (medians), parameters, torch, peak_bytes
(process peak RSS growth on the CPU)."""
import argparse, json, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_deepsum as td  # noqa: E402
from process_memory import reset_peak_rss, rss_bytes  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--config", required=True)
p.add_argument("--batch", type=int, default=2)
p.add_argument("--size", type=int, default=48)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=0)
p.add_argument("--device", default="cpu")
a = p.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)
c = json.loads(a.config)
before = rss_bytes("VmRSS")
reset = reset_peak_rss()
dev = torch.device(a.device)
net = td.DeepSum(frames=c["frames"], filters=c["filters"], sisr_layers=c["sisrLayers"], filter_size=c["filterSize"],
                 fusion_layers=c["fusionLayers"], use_regnet=c.get("useRegNet", True), eps=c.get("normEps", 1e-3), slope=c.get("slope", 0.2)).to(dev)
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
g = torch.Generator().manual_seed(5)
b, t, s = a.batch, c["frames"], a.size
frames = (torch.rand(b, t, 1, s, s, generator=g) * 2 - 1).to(dev)
masks = torch.ones(b, t, 1, s, s)
masks[:, 1:3, :, s // 4:s // 2, s // 4:s // 2] = 0
masks = masks.to(dev)
target = (torch.rand(b, 1, s, s, generator=g) * 2 - 1).to(dev)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


fw, bw, op = [], [], []
for i in range(a.warmup + a.steps):
    opt.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    loss = F.mse_loss(net(frames, masks)[0], target)
    sync()
    t1 = time.perf_counter()
    loss.backward()
    sync()
    t2 = time.perf_counter()
    opt.step()
    sync()
    t3 = time.perf_counter()
    if i >= a.warmup:
        fw.append((t1 - t0) * 1e3)
        bw.append((t2 - t1) * 1e3)
        op.append((t3 - t2) * 1e3)
steps = [x + y + z for x, y, z in zip(fw, bw, op)]
peak = max(0, rss_bytes("VmHWM") - before) if reset and dev.type == "cpu" else None
print(json.dumps({"torch": torch.__version__, "step_ms": statistics.median(steps), "forward_ms": statistics.median(fw),
                  "backward_ms": statistics.median(bw), "optimizer_ms": statistics.median(op),
                  "parameters": sum(q.numel() for q in net.parameters()), "peak_bytes": peak, "loss": float(loss)}))
