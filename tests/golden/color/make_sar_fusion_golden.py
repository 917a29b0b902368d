"""Reference for the SAR / optical Lab fusion (Imaging/Color/SarFusion.cs) from scikit-image 0.19, on a 24 x 24
crop of a real Sentinel-1 / Sentinel-2 pair (../shared/data/sar-optical, pair 003) and on dB-scaled values.
Run from the repository root with /usr/bin/python3:
    /usr/bin/python3 tests/golden/color/make_sar_fusion_golden.py
Writes tests/golden/color/sar_fusion.json: inputs as float32-representable numbers, references in float64."""
import json
import os

import numpy as np
import skimage
from skimage.color import lab2rgb, rgb2lab
from skimage.io import imread

assert skimage.__version__.startswith("0.19"), skimage.__version__
SHARED = os.path.join("..", "shared", "data", "sar-optical")
sar = imread(os.path.join(SHARED, "sar", "003.png"))[400:424, 500:524, 0].astype(np.float64)   # R = G = B
opt = imread(os.path.join(SHARED, "optical", "003.png"))[400:424, 500:524, :3].astype(np.float64) / 255


def fuse(scaled, rgb):
    lab = rgb2lab(rgb)
    lab[..., 0] = 100 * scaled
    return lab2rgb(lab)


# Linear sigma0 (power) drawn over the usual land range, scaled from [-25, 0] dB.
rng = np.random.default_rng(7)
linear = np.asarray(10 ** (rng.uniform(-30, 3, (24, 24)) / 10), dtype=np.float32).astype(np.float64)
linear_scaled = np.clip((10 * np.log10(np.maximum(linear, 1e-10)) + 25) / 25, 0, 1)
out = {
    "width": 24, "height": 24,
    "sar_8bit": sar.ravel().tolist(),
    "optical_rgb": np.moveaxis(opt, -1, 0).ravel().tolist(),
    "fused_from_8bit": np.moveaxis(fuse(sar / 255, opt), -1, 0).ravel().tolist(),
    "sar_linear": linear.ravel().tolist(),
    "linear_scaled": linear_scaled.ravel().tolist(),
    "fused_from_linear": np.moveaxis(fuse(linear_scaled, opt), -1, 0).ravel().tolist(),
}
with open(os.path.join("tests", "golden", "color", "sar_fusion.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("sar_fusion.json", os.path.getsize(os.path.join("tests", "golden", "color", "sar_fusion.json")), "bytes")
