#!/usr/bin/python3
"""PyTorch golden reference for Networks/Colorization (tests/ILGpuSat.Networks.Tests/ColorizerGoldenTests.cs), from
the definitions in Tools/Bench/torch_colorizers.py at a tiny size with random weights: the GAN generator's RGB, the
discriminator's logits on it, and the gradients of BCE-with-logits(D(G(x)), 1) + MSE(G(x), target) for every
parameter of both. Float32 inputs, float64 reference stored as float32.
Run: /usr/bin/python3 tests/golden/make_colorizer_golden.py"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "colorizers", "gan")
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tools", "Bench"))
sys.path.insert(0, HERE)
import torch_colorizers as tc  # noqa: E402
from make_golden import write_safetensors, save_npy  # noqa: E402

torch.set_num_threads(1)
CONFIG = {"filters": 4, "mix": 0.3, "discriminatorWidth": 0.0625, "slope": 0.2, "window": 32}


def f32(t):
    return t.to(torch.float32).to(torch.float64)


g = torch.Generator().manual_seed(2018)
gen = tc.GanGenerator(filters=4, mix=0.3).double()
disc = tc.GanDiscriminator(width=0.0625, window=32).double()
with torch.no_grad():
    for p in list(gen.parameters()) + list(disc.parameters()):
        scale = 0.3 if p.dim() == 1 else 1.5 / max(1, p[0].numel()) ** 0.5
        p.copy_(f32(scale * torch.randn(p.shape, generator=g, dtype=torch.float64)))
grey = f32(torch.rand(2, 1, 32, 32, generator=g, dtype=torch.float64))
target = f32(torch.rand(2, 3, 32, 32, generator=g, dtype=torch.float64))
rgb = gen(grey)
logits = disc(rgb)
loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)) + F.mse_loss(rgb, target)
loss.backward()

os.makedirs(OUT, exist_ok=True)
write_safetensors(os.path.join(OUT, "generator.safetensors"), {k: v.detach().float() for k, v in gen.state_dict().items()})
write_safetensors(os.path.join(OUT, "discriminator.safetensors"), {k: v.detach().float() for k, v in disc.state_dict().items()})
write_safetensors(os.path.join(OUT, "grads.safetensors"),
                  {**{"generator." + k: p.grad.float() for k, p in gen.named_parameters()},
                   **{"discriminator." + k: p.grad.float() for k, p in disc.named_parameters()}})
for name, t in [("grey", grey), ("target", target), ("rgb", rgb.detach()), ("logits", logits.detach())]:
    save_npy(OUT, f"{name}.npy", t)
with open(os.path.join(OUT, "manifest.json"), "w") as fh:
    json.dump({"generator": "tests/golden/make_colorizer_golden.py", "torch": torch.__version__, "config": CONFIG,
               "loss": float(loss)}, fh, indent=1)
print("loss", float(loss), "logits", logits.detach().flatten().tolist())

# ---- divcolor at a tiny size: grey features, the VAE's posterior, the decoded ab of z = mu + sigma eps (eps given),
# the MDN's mixture, and the gradients of MSE + gradient loss + KL + the mixture NLL of z (log std fixed at log 0.3).
OUT_DIV = os.path.join(HERE, "colorizers", "divcolor")
DIV = {"size": 16, "widths": [3, 4, 5, 6], "z": 4, "components": 3}
g = torch.Generator().manual_seed(2017)
div = tc.DivColor(size=16, widths=(3, 4, 5, 6), z=4, components=3).double()
with torch.no_grad():
    for name, p in div.named_parameters():
        base = 1.0 if "_bn" in name and name.endswith("weight") else 0.0
        scale = 0.3 if p.dim() == 1 else 1.0 / max(1, p[0].numel()) ** 0.5
        p.copy_(f32(base + scale * torch.randn(p.shape, generator=g, dtype=torch.float64)))
n = 3
grey = f32(torch.rand(n, 1, 16, 16, generator=g, dtype=torch.float64))
ab = f32(0.3 * torch.randn(n, 2, 16, 16, generator=g, dtype=torch.float64))
eps = f32(torch.randn(n, 4, generator=g, dtype=torch.float64))
feats = div.stack("grey", grey)
mu, logvar = div.encode(ab)
z = mu + torch.exp(0.5 * logvar) * eps
out = div.decode(z, feats)
weight_logits, means = div.mixture(feats)
log_std = torch.full_like(means, float(torch.log(torch.tensor(0.3, dtype=torch.float64))))
mix = torch.distributions.Categorical(logits=weight_logits)
comp = torch.distributions.Independent(torch.distributions.Normal(means, torch.exp(log_std)), 1)
nll = -torch.distributions.MixtureSameFamily(mix, comp).log_prob(z).mean()
dh = lambda x: x[..., :, 1:] - x[..., :, :-1]
dv = lambda x: x[..., 1:, :] - x[..., :-1, :]
kl = 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - 1 - logvar) / n
loss = F.mse_loss(out, ab) + F.mse_loss(dh(out), dh(ab)) + F.mse_loss(dv(out), dv(ab)) + kl + nll
loss.backward()
os.makedirs(OUT_DIV, exist_ok=True)
write_safetensors(os.path.join(OUT_DIV, "model.safetensors"), {k: v.detach().float() for k, v in div.state_dict().items()})
write_safetensors(os.path.join(OUT_DIV, "grads.safetensors"), {k: p.grad.float() for k, p in div.named_parameters()})
for name, t in [("grey", grey), ("ab", ab), ("eps", eps), ("decoded", out.detach()), ("mu", mu.detach()), ("logvar", logvar.detach()),
                ("weight_logits", weight_logits.detach()), ("means", means.detach())]:
    save_npy(OUT_DIV, f"{name}.npy", t)
with open(os.path.join(OUT_DIV, "manifest.json"), "w") as fh:
    json.dump({"generator": "tests/golden/make_colorizer_golden.py", "torch": torch.__version__, "config": DIV, "loss": float(loss)}, fh, indent=1)
print("divcolor loss", float(loss))
