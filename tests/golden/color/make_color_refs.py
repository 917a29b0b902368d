"""Reference values for the colour code (Training/Color), from scikit-image 0.19 and a numpy /
scipy re-implementation of Zhang et al. 2016's recipe (soft encoding, prior smoothing,
rebalancing, annealed mean). Run from the repository root with /usr/bin/python3:
    /usr/bin/python3 tests/golden/color/make_color_refs.py
Inputs are float32-representable so the C# side reads exactly the same numbers; references are
computed in float64. Outputs: tests/golden/color/*.json (small)."""
import json, os, warnings
import numpy as np
import scipy.ndimage
import skimage
from skimage.color import rgb2lab, lab2rgb

assert skimage.__version__.startswith("0.19"), skimage.__version__
OUT = "tests/golden/color"
rng = np.random.default_rng(20180216)
pts = np.load("/work/shared/data/color/pts_in_hull.npy").astype(np.float64)   # (313, 2)
prior = np.load("/work/shared/data/color/prior_probs.npy").astype(np.float64)  # (313,)


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


# ---- sRGB -> Lab: random colours, the cube's corners and values around the companding knee.
rgb = f32(rng.random((500, 3)))
corners = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=np.float64)
knee = f32(np.stack([np.linspace(0.03, 0.05, 30)] * 3, axis=1) * [1.0, 0.7, 1.3])
rgb = np.clip(np.concatenate([rgb, corners, knee]), 0, 1)
lab = rgb2lab(rgb[None]).reshape(-1, 3)
# Out-of-range RGB (skimage does not clip float input): negatives take the linear branch.
wild = f32(rng.uniform(-0.2, 1.2, (40, 3)))
dump("rgb2lab.json", {"rgb": np.concatenate([rgb, wild]).tolist(),
                      "lab": np.concatenate([lab, rgb2lab(wild[None]).reshape(-1, 3)]).tolist()})

# ---- Lab -> sRGB: in gamut (from the colours above) and far out of gamut, where skimage clips
# Z at 0 (with a warning) and the final RGB to [0, 1].
lab_in = f32(np.concatenate([
    lab[:200],
    np.stack([rng.uniform(0, 100, 400), rng.uniform(-128, 127, 400), rng.uniform(-128, 127, 400)], 1),
    [[0, 0, 0], [100, 0, 0], [50, 0, 0], [5, 0, 120], [20, -100, 127], [100, 127, -128]],
]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    rgb_out = lab2rgb(lab_in[None]).reshape(-1, 3)
dump("lab2rgb.json", {"lab": lab_in.tolist(), "rgb": rgb_out.tolist()})


# ---- nearest bin and soft encoding over the k nearest bins (Zhang: NearestNeighbors over the
# 313 centres, Gaussian weights of the distances with sigma 5, normalised).
def soft_encode(ab, k, sigma=5.0):
    d2 = ((ab[:, None, :] - pts[None]) ** 2).sum(-1)
    idx = np.argsort(d2, axis=1, kind="stable")[:, :k]
    w = np.exp(-np.take_along_axis(d2, idx, 1) / (2 * sigma ** 2))
    return idx, w / w.sum(1, keepdims=True)

ab = f32(rng.uniform(-120, 120, (300, 2)))
soft = {"ab": ab.tolist(), "nearest": soft_encode(ab, 1)[0][:, 0].tolist()}
for k in (5, 10):
    idx, w = soft_encode(ab, k)
    soft[f"k{k}_index"] = idx.tolist()
    soft[f"k{k}_weight"] = w.tolist()
dump("soft_encoding.json", soft)


# ---- prior: histogram of hard-assigned ab samples, Gaussian smoothing (sigma 5 ab units =
# 0.5 grid cells) on the 10-unit grid with zeros outside the gamut, renormalised; fusion with the
# ImageNet prior; Zhang's PriorFactor (alpha 1, gamma 0.5, uniform over nonzero bins),
# normalised so that sum(p * w) = 1.
centres = np.concatenate([rng.normal([10, 30], [15, 20], (3000, 2)), rng.normal([-20, -5], [8, 8], (2000, 2))])
samples = f32(centres)
counts = np.bincount(soft_encode(samples, 1)[0][:, 0], minlength=313).astype(np.float64)
grid = np.zeros((23, 23))          # a, b in [-110, 110] step 10
gi = ((pts + 110) / 10).astype(int)
grid[gi[:, 0], gi[:, 1]] = counts / counts.sum()
smooth_grid = scipy.ndimage.gaussian_filter(grid, sigma=0.5, mode="constant", truncate=12.0)
smoothed = smooth_grid[gi[:, 0], gi[:, 1]]
smoothed /= smoothed.sum()
mix = 0.5  # weight of the ImageNet prior
fused = (1 - mix) * smoothed + mix * prior

def prior_factor(p, alpha=1.0, gamma=0.5):
    uni = np.zeros_like(p); uni[p != 0] = 1.0; uni /= uni.sum()
    f = ((1 - gamma) * p + gamma * uni) ** -alpha
    return f / np.sum(p * f)

dump("prior.json", {
    "samples": samples.tolist(), "counts": counts.tolist(), "smoothed": smoothed.tolist(),
    "mix": mix, "fused": fused.tolist(),
    "weights_fused": prior_factor(fused).tolist(), "weights_imagenet": prior_factor(prior).tolist(),
})


# ---- annealed mean: softmax(logits / T) (Zhang's demo scales the logits by 1/0.38), expectation
# of the bin centres; from probabilities: p^(1/T) renormalised.
logits = f32(rng.normal(0, 3, (24, 313)))
def annealed(z, T):
    z = z / T
    e = np.exp(z - z.max(1, keepdims=True))
    q = e / e.sum(1, keepdims=True)
    return q @ pts
probs = np.exp(logits - logits.max(1, keepdims=True)); probs /= probs.sum(1, keepdims=True)
dump("annealed_mean.json", {
    "logits": logits.tolist(), "probs": f32(probs).tolist(),
    "T038": annealed(logits, 0.38).tolist(), "T1": annealed(logits, 1.0).tolist(),
    "T038_from_probs": annealed(np.log(f32(probs)), 0.38).tolist(),
})
