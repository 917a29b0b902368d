#!/usr/bin/python3
"""Reference data for the imagery, resampling and metrics tests (ILGpuSat.Training.Tests).

Run with Debian's interpreter (PIL 9.4, scikit-image 0.19, numpy):
    /usr/bin/python3 tests/golden/imaging/make_imaging_refs.py
Writes small .npy/.png/.json files next to this script. Tests read them; they never run Python.
"""
import json, os, struct, zlib
import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = os.path.dirname(os.path.abspath(__file__))
DATA = "/work/shared/data"
rng = np.random.default_rng(20180216)
refs = {}


def save(name, arr):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(arr))


def write_png16(path, arr):
    """16-bit PNG (grey or RGB) written by hand: PIL cannot write 16-bit RGB."""
    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# ---------------------------------------------------------------- imagery
g16 = (rng.integers(0, 65536, size=(11, 13))).astype(np.uint16)
write_png16(os.path.join(OUT, "grey16.png"), g16)
save("grey16.npy", g16.astype(np.float32))
rgb16 = (rng.integers(0, 65536, size=(7, 9, 3))).astype(np.uint16)
write_png16(os.path.join(OUT, "rgb16.png"), rgb16)
save("rgb16.npy", rgb16.astype(np.float32))
# Cross-check of the hand-written PNG with PIL (PIL reads 16-bit grey as mode I).
assert np.array_equal(np.array(Image.open(os.path.join(OUT, "grey16.png"))), g16.astype(np.int32))
refs["grey16_percentiles_2_98"] = [float(np.percentile(g16, 2)), float(np.percentile(g16, 98))]

jpegs = {}
for rel in ["satellite-test/RSSCN7/aGrass/a026.jpg", "satellite-test/AID/Airport/" + sorted(os.listdir(f"{DATA}/satellite-test/AID/Airport"))[0]]:
    im = np.asarray(Image.open(f"{DATA}/{rel}").convert("RGB")).astype(np.float64)
    jpegs[rel] = {"width": im.shape[1], "height": im.shape[0], "channel_means": (im.mean(axis=(0, 1)) / 255).tolist()}
refs["jpegs"] = jpegs

# GeoTIFFs written by GDAL itself (interoperability: what real remote-sensing files look like).
from osgeo import gdal, osr
gdal.UseExceptions()


def gdal_tif(name, arr, dtype, options, geotransform, epsg, nodata=None, point=False):
    bands, h, w = arr.shape
    path = os.path.join(OUT, name)
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, bands, dtype, options)
    ds.SetGeoTransform(geotransform)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    if point:
        ds.SetMetadataItem("AREA_OR_POINT", "Point")
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(arr[b])
    ds = None
    save(name.replace(".tif", ".npy"), arr.astype(np.float32))
    back = gdal.Open(path)
    info = {"geotransform": list(back.GetGeoTransform()), "epsg": epsg, "nodata": nodata,
            "width": w, "height": h, "bands": bands}
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        valid = ~np.any(arr == nodata, axis=0)
    else:
        valid = ~np.any(np.isnan(arr), axis=0) if arr.dtype.kind == "f" else np.ones((h, w), bool)
    info["invalid_pixels"] = int((~valid).sum())
    info["percentiles_2_98"] = [[float(np.percentile(arr[b][valid], 2)), float(np.percentile(arr[b][valid], 98))] for b in range(bands)]
    refs.setdefault("gdal", {})[name] = info


ms = rng.integers(200, 4000, size=(4, 21, 33)).astype(np.uint16)
ms[:, 0:3, 0:5] = 0  # a nodata corner
gdal_tif("gdal_u16_tiled_planar.tif", ms, gdal.GDT_UInt16,
         ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "INTERLEAVE=BAND", "COMPRESS=DEFLATE"],
         (500000.0, 10.0, 0.0, 4649770.0, 0.0, -10.0), 32633, nodata=0)
dem = (rng.normal(0, 800, size=(1, 17, 23))).astype(np.int16)
dem[0, 5, 7] = -9999
gdal_tif("gdal_i16_strips_point.tif", dem, gdal.GDT_Int16, ["COMPRESS=LZW", "BLOCKYSIZE=4"],
         (12.0, 0.001, 0.0, 45.0, 0.0, -0.001), 4326, nodata=-9999, point=True)
flt = rng.random((2, 12, 14)).astype(np.float32)
flt[1, 3, 4] = np.nan
gdal_tif("gdal_f32_rotated.tif", flt, gdal.GDT_Float32, ["INTERLEAVE=PIXEL"],
         (300000.0, 8.0, 2.0, 5000000.0, 1.5, -8.0), 32632)


# Other layouts GDAL produces: palette, JPEG-in-TIFF (YCbCr), MinIsWhite, BigTIFF. Expected pixels are GDAL's
# own decode (RGB for palette and YCbCr), saved as .npy next to each file.
def gdal_plain(name, arr, dtype, options, expected=None, colors=None):
    bands, h, w = arr.shape
    path = os.path.join(OUT, name)
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, bands, dtype, options)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    if colors is not None:
        ct = gdal.ColorTable()
        for i, c in enumerate(colors):
            ct.SetColorEntry(i, tuple(int(v) for v in c) + (255,))
        ds.GetRasterBand(1).SetRasterColorTable(ct)
    ds = None
    got = gdal.Open(path).ReadAsArray()
    got = got[None] if got.ndim == 2 else got
    if expected is None:
        expected = got
    save(name.replace(".tif", ".npy"), np.asarray(expected, dtype=np.float32))


idx = rng.integers(0, 256, size=(1, 13, 19)).astype(np.uint8)
palette = rng.integers(0, 256, size=(256, 3))
gdal_plain("gdal_palette.tif", idx, gdal.GDT_Byte, ["COMPRESS=PACKBITS"], expected=palette[idx[0]].transpose(2, 0, 1), colors=palette)
yy, xx = np.mgrid[0:32, 0:48]
photo = np.stack([(xx * 5) % 256, (yy * 7) % 256, ((xx + yy) * 3) % 256]).astype(np.uint8)
gdal_plain("gdal_jpeg_ycbcr.tif", photo, gdal.GDT_Byte, ["COMPRESS=JPEG", "PHOTOMETRIC=YCBCR", "JPEG_QUALITY=95", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"])
grey = rng.integers(0, 256, size=(1, 9, 11)).astype(np.uint8)
gdal_plain("gdal_miniswhite.tif", grey, gdal.GDT_Byte, ["PHOTOMETRIC=MINISWHITE"], expected=grey)
cmyk = rng.integers(0, 256, size=(4, 6, 7)).astype(np.uint8)
c, m, y, k = (cmyk[i].astype(np.float64) for i in range(4))
# LibTiff's CMYK -> RGB (as TIFFRGBAImage): R = (255 - C)(255 - K)/255, truncated.
cmyk_rgb = np.stack([np.floor((255 - v) * (255 - k) / 255) for v in (c, m, y)])
gdal_plain("gdal_cmyk.tif", cmyk, gdal.GDT_Byte, ["PHOTOMETRIC=CMYK"], expected=cmyk_rgb)
gdal_plain("gdal_u32.tif", rng.integers(0, 2**32, size=(1, 5, 6), dtype=np.uint64).astype(np.uint32), gdal.GDT_UInt32, [])
gdal_plain("gdal_f64.tif", rng.normal(0, 1000, size=(2, 5, 6)), gdal.GDT_Float64, ["COMPRESS=DEFLATE", "PREDICTOR=3"])
big = rng.integers(0, 65536, size=(2, 10, 12)).astype(np.uint16)
gdal_plain("gdal_bigtiff.tif", big, gdal.GDT_UInt16, ["BIGTIFF=YES", "COMPRESS=DEFLATE"])

# ---------------------------------------------------------------- resampling (PIL bicubic/bilinear on float32 'F' images)
def pil_resize(a, w, h, f):
    return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((w, h), f), dtype=np.float32)

smooth = np.add.outer(np.sin(np.arange(48) / 5.0), np.cos(np.arange(40) / 7.0)).astype(np.float32)  # 48 rows x 40 cols
noise = rng.random((32, 36), dtype=np.float32)
save("resize_smooth.npy", smooth)
save("resize_noise.npy", noise)
cases = {
    "smooth_down4_bicubic": (smooth, 10, 12, Image.BICUBIC),
    "smooth_up4_bicubic": (smooth[:12, :10], 40, 48, Image.BICUBIC),
    "noise_down4_bicubic": (noise, 9, 8, Image.BICUBIC),
    "noise_up4_bicubic": (noise[:8, :9], 36, 32, Image.BICUBIC),
    "noise_down3_bicubic": (noise, 12, 11, Image.BICUBIC),
    "noise_down2_bilinear": (noise, 18, 16, Image.BILINEAR),
    "noise_up2_bilinear": (noise[:8, :9], 18, 16, Image.BILINEAR),
}
for name, (a, w, h, f) in cases.items():
    save(f"pil_{name}.npy", pil_resize(a, w, h, f))

# "Bicubic twice" (x4 down, x4 up) Y-PSNR on real RSSCN7 tiles with PIL's float bicubic (same kernel and
# antialiasing as MATLAB, truncated instead of mirrored borders), SR clipped to 0..1, BT.601 Y, 4-pixel crop.
def luma(rgb):
    return 16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]

bicubic_twice = {}
for rel in ["satellite-test/RSSCN7/aGrass/a026.jpg", "satellite-test/RSSCN7/cIndustry/c030.jpg"]:
    rgb = np.asarray(Image.open(f"{DATA}/{rel}").convert("RGB")).astype(np.float64) / 255
    h, w = rgb.shape[:2]
    chans = lambda a, W, H: np.stack([pil_resize(a[..., i], W, H, Image.BICUBIC) for i in range(3)], -1).astype(np.float64)
    sr = np.clip(chans(chans(rgb, w // 4, h // 4), w, h), 0, 1)
    d = (luma(rgb) - luma(sr))[4:-4, 4:-4]
    bicubic_twice[rel] = float(10 * np.log10(255 ** 2 / np.mean(d * d)))
refs["bicubic_twice_y_psnr_pil"] = bicubic_twice

# ---------------------------------------------------------------- metrics (scikit-image 0.19)
ref = rng.random((40, 44)) * 100.0                     # an L* plane
test = np.clip(ref + rng.normal(0, 4.0, ref.shape), 0, 100)
save("metrics_ref.npy", ref.astype(np.float32))
save("metrics_test.npy", test.astype(np.float32))
r32, t32 = ref.astype(np.float32).astype(np.float64), test.astype(np.float32).astype(np.float64)
b = 4
refs["psnr_L_range100"] = peak_signal_noise_ratio(r32, t32, data_range=100)
refs["psnr_L_range100_crop4"] = peak_signal_noise_ratio(r32[b:-b, b:-b], t32[b:-b, b:-b], data_range=100)
ssim_kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=100)
refs["ssim_L_range100"] = structural_similarity(r32, t32, **ssim_kw)
refs["ssim_L_range100_crop4"] = structural_similarity(r32[b:-b, b:-b], t32[b:-b, b:-b], **ssim_kw)

rgb_ref = rng.random((24, 28, 3))
rgb_test = np.clip(rgb_ref + rng.normal(0, 0.05, rgb_ref.shape), 0, 1)
save("metrics_rgb_ref.npy", rgb_ref.astype(np.float32))
save("metrics_rgb_test.npy", rgb_test.astype(np.float32))
rr, rt = rgb_ref.astype(np.float32).astype(np.float64), rgb_test.astype(np.float32).astype(np.float64)
refs["psnr_rgb_range1"] = peak_signal_noise_ratio(rr, rt, data_range=1)
refs["ssim_rgb_range1"] = structural_similarity(rr, rt, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                                data_range=1, channel_axis=2)

# Hasler & Suesstrunk (2003) colourfulness on a 0..255 scale, population statistics.
R, G, B = (rr[..., i] * 255 for i in range(3))
rg, yb = R - G, 0.5 * (R + G) - B
refs["colourfulness_rgb_ref"] = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))

# Zhang et al. (2016) AuC: fraction of pixels with ab distance <= t for t = 0..150, area by trapezoids / 150.
ab_true = rng.normal(0, 30, (2, 20, 22))
ab_pred = ab_true + rng.normal(0, 25, ab_true.shape)
save("metrics_ab_true.npy", ab_true.astype(np.float32))
save("metrics_ab_pred.npy", ab_pred.astype(np.float32))
d = np.sqrt(((ab_true.astype(np.float32).astype(np.float64) - ab_pred.astype(np.float32).astype(np.float64)) ** 2).sum(0)).ravel()
th = np.arange(0, 151)
acc = np.array([(d <= t).mean() for t in th])
refs["auc_ab"] = float(np.trapz(acc, th) / 150.0)

with open(os.path.join(OUT, "imaging_refs.json"), "w") as f:
    json.dump(refs, f, indent=1, sort_keys=True)
print(json.dumps(refs, indent=1, sort_keys=True))
