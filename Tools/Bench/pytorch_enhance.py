#!/usr/bin/env python3
"""Times enhancing one grey image with PyTorch, for `ilgpusat bench enhance`: the same weights file, the same
input and the same pipeline as ILGpuSat.Inference's Enhancer.

Pipeline (per input, timed end to end, the input already in memory as a float32 grey plane 0..1):
  sRGB grey -> CIE L* (skimage's constants, D65); for models that read the bicubic picture, MATLAB-style bicubic x4
  (torch_models.bicubic_upsample: Keys a = -0.5, symmetric borders, the engine's kernel); normalise with the file's
  ilgpusat.normalization; the network in eval mode under no_grad; SR L* denormalised and clamped to 0..100; colour
  logits -> annealed mean (softmax(logits / T), T = 0.38) over the 313 bin centres, bilinear x4 (half-pixel centres,
  edge clamp: MATLAB's bilinear without antialiasing); regressed a*b* divided by the ab scale; Lab -> sRGB clipped.
Tiling: with --tile 0 each image runs whole. Larger inputs do not fit in memory whole (a 2048x2048 input is an 8192x8192
output), so with --tile T the LR image is cut into T x T cores, each read with --context C LR pixels of reflected
context on every side and cropped back to its core (the Enhancer's geometry, TileGrid.cs), without the Enhancer's
raised-cosine blend of overlapping cores (cores here do not overlap, which costs PyTorch slightly less work).

Weights: the safetensors file's metadata names the model (ilgpusat.model) and its config (ilgpusat.config); F16
weights are widened to float32. Read with the `safetensors` package when installed, else parsed here (8-byte
little-endian header length, JSON header, raw little-endian data).

Peak memory: on CUDA max_memory_allocated; on the CPU the growth of the peak resident set over the timed runs
(VmHWM after resetting it, minus VmRSS before), as pytorch_train.py measures it.

Prints one JSON object: {"torch", "device", "threads", "model", "config", "dtype", "rows": [{"width", "height", "ms",
"runs_ms", "peak_bytes"}]}.
"""
import argparse, json, os, statistics, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402
from process_memory import reset_peak_rss, rss_bytes  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": None}


def read_safetensors(path):
    """(state dict of float32 tensors, metadata dict, set of stored dtypes)."""
    try:
        from safetensors import safe_open  # type: ignore
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
        dtypes = {str(t.dtype).replace("torch.float16", "F16").replace("torch.float32", "F32") for t in state.values()}
        return {k: t.float() for k, t in state.items()}, meta, dtypes
    except ImportError:
        pass
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n:]
    state, dtypes = {}, set()
    for key, info in header.items():
        dt = DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError(f"{path}: tensor '{key}' has dtype {info['dtype']}, not F32/F16/F64")
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(dt).newbyteorder("<")).reshape(info["shape"])
        state[key] = torch.from_numpy(arr.astype(np.float32))
        dtypes.add(info["dtype"])
    return state, meta, dtypes


def srgb_grey_to_l(g):
    lin = torch.where(g <= 0.04045, g / 12.92, ((g + 0.055) / 1.055) ** 2.4)
    f = torch.where(lin > 0.008856, lin.clamp_min(1e-12) ** (1 / 3), 7.787 * lin + 16 / 116)
    return 116 * f - 16


def lab_to_srgb(l, a, b):
    fy = (l + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def finv(t):
        return torch.where(t > 0.2068966, t ** 3, (t - 16 / 116) / 7.787)

    x, y, z = 0.95047 * finv(fx), finv(fy), (1.08883 * finv(fz)).clamp_min(0)
    r = 3.24048134 * x - 1.53715152 * y - 0.49853633 * z
    g = -0.96925495 * x + 1.87599 * y + 0.04155593 * z
    bl = 0.05564664 * x - 0.20404134 * y + 1.05731107 * z
    rgb = torch.stack([r, g, bl])
    rgb = torch.where(rgb > 0.0031308, 1.055 * rgb.clamp_min(1e-12) ** (1 / 2.4) - 0.055, 12.92 * rgb)
    return rgb.clamp(0, 1)


def enhance(model, kind, norm, centres, temperature, grey):
    """grey: [h, w] float32 on the device -> RGB [3, 4h, 4w]."""
    l = srgb_grey_to_l(grey)[None, None]
    if kind == "bicubic":
        l = torch_models.bicubic_upsample(l, 4)
    x = l * norm["lScale"] + norm["lOffset"]
    sr, logits, ab = model(x)
    big = (sr[0, 0] - norm["lOffset"]) / norm["lScale"] if sr is not None else l[0, 0] if kind == "bicubic" \
        else torch_models.bicubic_upsample(l, 4)[0, 0]
    big = big.clamp(0, 100)
    if logits is not None:
        p = torch.softmax(logits / temperature, dim=1)
        a = torch.einsum("nqhw,q->nhw", p, centres[:, 0])[:, None]
        b = torch.einsum("nqhw,q->nhw", p, centres[:, 1])[:, None]
        ab_up = F.interpolate(torch.cat([a, b], 1), size=big.shape, mode="bilinear", align_corners=False)[0]
        a, b = ab_up[0], ab_up[1]
    elif ab is not None:
        a, b = ab[0, 0] / norm["abScale"], ab[0, 1] / norm["abScale"]
    else:
        a = b = torch.zeros_like(big)
    return lab_to_srgb(big, a, b)


def enhance_tiled(model, kind, norm, centres, temperature, grey, tile, context):
    h, w = grey.shape
    if tile <= 0 or (h <= tile and w <= tile):
        return enhance(model, kind, norm, centres, temperature, grey)
    out = torch.empty(3, 4 * h, 4 * w, device=grey.device)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            ch, cw = min(tile, h - y0), min(tile, w - x0)
            ys = torch.tensor([reflect(i, h) for i in range(y0 - context, y0 + ch + context)], device=grey.device)
            xs = torch.tensor([reflect(i, w) for i in range(x0 - context, x0 + cw + context)], device=grey.device)
            rgb = enhance(model, kind, norm, centres, temperature, grey[ys][:, xs])
            c = 4 * context
            out[:, 4 * y0:4 * (y0 + ch), 4 * x0:4 * (x0 + cw)] = rgb[:, c:c + 4 * ch, c:c + 4 * cw]
    return out


def reflect(i, n):
    """numpy 'reflect' (the edge not repeated), as TileAxis.Reflect."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    i %= period
    return i if i < n else period - i


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--bins", required=True, help=".npy of the 313 ab bin centres, [313, 2]")
    ap.add_argument("--input", action="append", required=True,
                    help="PATH:RUNS[:TILE:CONTEXT], a .npy grey plane [h, w] float32 0..1, its timed runs and, optionally, "
                         "its own tile core and context (else --tile and --context) (repeatable)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs on the first input only (later inputs run in the warm process)")
    ap.add_argument("--temperature", type=float, default=0.38)
    ap.add_argument("--tile", type=int, default=0, help="LR core side of a tile; 0 = whole image")
    ap.add_argument("--context", type=int, default=32, help="LR pixels of reflected context around each tile core")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    state, meta, dtypes = read_safetensors(args.weights)
    for key in ("ilgpusat.model", "ilgpusat.config"):
        if key not in meta:
            raise SystemExit(f"{args.weights}: metadata has no '{key}'")
    name, config = meta["ilgpusat.model"], json.loads(meta["ilgpusat.config"])
    norm = json.loads(meta.get("ilgpusat.normalization", '{"lScale":0.01,"lOffset":-0.5,"abScale":0.00909090909}'))
    kind = torch_models.CATALOG[name][2]
    model = torch_models.build(name, config)
    model.load_state_dict(state, strict=True)
    model.eval().to(device)
    centres = torch.from_numpy(np.load(args.bins).astype(np.float32)).to(device)

    rows = []
    with torch.no_grad():
        for index, spec in enumerate(args.input):
            parts = spec.split(":")
            if len(parts) == 4:
                path, runs, tile, context = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
            else:
                path, runs, tile, context = ":".join(parts[:-1]), int(parts[-1]), args.tile, args.context
            grey = torch.from_numpy(np.load(path).astype(np.float32)).to(device)
            for _ in range(args.warmup if index == 0 else 0):
                enhance_tiled(model, kind, norm, centres, args.temperature, grey, tile, context)
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = 0
            else:
                base = rss_bytes("VmRSS")
                reset_peak_rss()
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                out = enhance_tiled(model, kind, norm, centres, args.temperature, grey, tile, context)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times.append((time.perf_counter() - t0) * 1000)
                del out
            peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else max(0, rss_bytes("VmHWM") - base)
            rows.append({"width": grey.shape[1], "height": grey.shape[0], "ms": statistics.median(times),
                         "runs_ms": times, "peak_bytes": peak,
                         "tile": tile, "context": context, "tiled": tile > 0 and max(grey.shape) > tile})
    print(json.dumps({"torch": torch.__version__, "device": args.device, "threads": torch.get_num_threads(),
                      "model": name, "config": config, "dtype": sorted(dtypes), "tile": args.tile, "context": args.context,
                      "rows": rows}))


if __name__ == "__main__":
    main()
