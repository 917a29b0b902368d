"""Writes a folder of co-registered GeoTIFF looks simulated from one real GeoTIFF band, for trying
`ilgpusat misr` on a georeferenced scene of a real size (docs/misr.md, "GeoTIFF looks").

Each look: the HR crop shifted by a random sub-pixel amount (up to 1 LR pixel, cubic spline), blurred by a
Gaussian PSF (sigma 0.8 HR px), box-integrated over scale x scale, a gain (1 +- 0.08) and offset (+- 0.03 of the
crop's range), Gaussian noise (0.003), stored in the source's 16-bit units with the source's CRS and a pixel
size times the scale. One look in three has a cloud (a bright blob) marked in NAME_mask.tif. The unshifted HR crop
goes to truth.tif beside the folder, with `misr_demo_score` below computing cPSNR as the challenge does.
These follow Training/Data/MisrSimulator.cs's defaults; the simulator itself is C# and this is an oracle-free demo.

usage: make_misr_looks.py SOURCE.tif OUTDIR [--size 1200] [--scale 3] [--looks 9] [--seed 0]
       make_misr_looks.py --score SR.tif TRUTH.tif     (cPSNR of an SR; with a look instead of an SR, of its
                                                        cubic-spline x3, the single-look reference)
"""
import argparse
import os

import numpy as np
from osgeo import gdal
from scipy import ndimage


def make(source, out, size, scale, looks, seed):
    rng = np.random.default_rng(seed)
    ds = gdal.Open(source)
    band = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    gt = list(ds.GetGeoTransform())
    h, w = band.shape
    size -= size % scale
    y0, x0 = (h - size) // 2, (w - size) // 2
    hr = band[y0:y0 + size, x0:x0 + size]
    lo, hi = np.percentile(hr, [1, 99])
    origin = [gt[0] + x0 * gt[1], gt[1], 0.0, gt[3] + y0 * gt[5], 0.0, gt[5]]
    folder = os.path.join(out, "looks")
    os.makedirs(folder, exist_ok=True)
    write(os.path.join(out, "truth.tif"), hr, origin, ds.GetProjection())
    lr_gt = [origin[0], origin[1] * scale, 0.0, origin[3], 0.0, origin[5] * scale]
    n = size // scale
    for k in range(looks):
        dx, dy = rng.uniform(-1, 1, 2) * scale
        moved = ndimage.shift(hr, (-dy, -dx), order=3, mode="reflect")
        blurred = ndimage.gaussian_filter(moved, 0.8, mode="reflect")
        lr = blurred.reshape(n, scale, n, scale).mean(axis=(1, 3))
        gain, offset = 1 + rng.uniform(-0.08, 0.08), rng.uniform(-0.03, 0.03) * (hi - lo)
        lr = lr * gain + offset + rng.normal(0, 0.003 * 65535, lr.shape)
        clear = np.ones(lr.shape, bool)
        if k % 3 == 2:
            yy, xx = np.mgrid[0:n, 0:n]
            (cy, cx), r = rng.uniform(0.2, 0.8, 2) * n, rng.uniform(0.08, 0.2) * n
            cloud = (yy - cy) ** 2 + (xx - cx) ** 2 < r ** 2
            lr[cloud] = hi * 1.2
            clear &= ~cloud
            write(os.path.join(folder, f"look{k}_mask.tif"), clear.astype(np.uint16) * 255, lr_gt, ds.GetProjection(), gdal.GDT_Byte)
        write(os.path.join(folder, f"look{k}.tif"), lr, lr_gt, ds.GetProjection())
    print(f"{looks} looks of {n}x{n} (x{scale} of a {size}x{size} crop of {source}) in {folder}; truth in {out}/truth.tif")


def write(path, values, gt, projection, dtype=gdal.GDT_UInt16):
    ds = gdal.GetDriverByName("GTiff").Create(path, values.shape[1], values.shape[0], 1, dtype)
    ds.SetGeoTransform(gt)
    ds.SetProjection(projection)
    limit = 255 if dtype == gdal.GDT_Byte else 65535
    ds.GetRasterBand(1).WriteArray(np.clip(np.rint(values), 0, limit))
    ds.FlushCache()


def read(path):
    ds = gdal.Open(path)  # kept alive while its band is read (GDAL's bindings crash otherwise)
    return ds.GetRasterBand(1).ReadAsArray().astype(np.float64)


def score(sr_path, truth_path):
    """cPSNR as the PROBA-V challenge: crop 3 px, 49 offsets, brightness bias removed, intensities / 65535."""
    sr, hr = (read(p) / 65535 for p in (sr_path, truth_path))
    if sr.shape != hr.shape:
        sr = ndimage.zoom(sr, hr.shape[0] / sr.shape[0], order=3, mode="reflect")
    c = sr[3:-3, 3:-3]
    best = -1.0
    for u in range(7):
        for v in range(7):
            window = hr[u:u + c.shape[0], v:v + c.shape[1]]
            d = window - c
            mse = np.mean((d - d.mean()) ** 2)
            best = max(best, -10 * np.log10(mse))
    print(f"cPSNR {best:.2f} dB: {sr_path} against {truth_path}")
    return best


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("paths", nargs=2)
    p.add_argument("--size", type=int, default=1200)
    p.add_argument("--scale", type=int, default=3)
    p.add_argument("--looks", type=int, default=9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--score", action="store_true")
    a = p.parse_args()
    if a.score:
        score(*a.paths)
    else:
        make(a.paths[0], a.paths[1], a.size, a.scale, a.looks, a.seed)
