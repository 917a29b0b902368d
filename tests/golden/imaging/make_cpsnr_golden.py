"""Reference cPSNR values (PROBA-V super-resolution challenge scoring) for Imaging/Metrics/ClearPsnr.cs,
computed by a plain numpy transcription of the challenge's definition, independent of the C# code:
crop `border` pixels of SR on each side; for every offset (u, v) in {0..2*border}^2 take the HR window and
status-map window of the cropped size; over clear pixels b = mean(HR - SR), cMSE = mean((HR - SR - b)^2),
cPSNR = -10 log10(cMSE); keep the maximum. Run from the repository root:
    /usr/bin/python3 tests/golden/imaging/make_cpsnr_golden.py
Inputs are float32 so the C# side reads exactly the same numbers; the reference is float64."""
import json
import numpy as np

rng = np.random.default_rng(20190601)


def cpsnr(sr, hr, clear, border=3):
    h, w = sr.shape
    crop = sr[border:h - border, border:w - border].astype(np.float64)
    best = None
    for v in range(2 * border + 1):
        for u in range(2 * border + 1):
            hw = hr[v:v + h - 2 * border, u:u + w - 2 * border].astype(np.float64)
            m = clear[v:v + h - 2 * border, u:u + w - 2 * border]
            if m.sum() == 0:
                continue
            d = (hw - crop)[m]
            b = d.mean()
            cmse = ((d - b) ** 2).mean()
            score = -10 * np.log10(cmse)
            if best is None or score > best[0]:
                best = (score, u, v, b, int(m.sum()))
    return best


cases = []
for k, (h, w, shift, bias, noise, cloud) in enumerate([
        (24, 24, (1, 2), 0.05, 0.01, 0.0),
        (30, 26, (-3, 3), -0.02, 0.02, 0.3),   # a shift of the full 3 pixels: offset 0 or 6
        (20, 20, (3, 3), 0.10, 0.005, 0.5),    # offset (6, 6): only a 49-offset search finds it
        (17, 23, (0, -2), 0.0, 0.03, 0.1)]):
    big = rng.random((h + 6, w + 6)).astype(np.float32)
    big = (big + np.roll(big, 1, 0) + np.roll(big, 1, 1)) / 3  # some spatial correlation
    hr = big[3:3 + h, 3:3 + w]
    dy, dx = shift
    # SR(y, x) = HR(y + dy, x + dx) - bias + noise: the HR window at offset (3 + dx, 3 + dy) lines up.
    sr = big[3 + dy:3 + dy + h, 3 + dx:3 + dx + w] - bias + noise * rng.standard_normal((h, w))
    sr = sr.astype(np.float32)
    clear = rng.random((h, w)) >= cloud
    score, u, v, b, n = cpsnr(sr, hr, clear)
    cases.append({"width": w, "height": h, "sr": sr.ravel().tolist(), "hr": hr.ravel().tolist(),
                  "clear": clear.ravel().astype(int).tolist(), "cpsnr": score, "u": u, "v": v, "bias": b, "clearPixels": n})
    print(f"case {k}: {w}x{h} cPSNR {score:.4f} at ({u}, {v}), bias {b:.5f}, {n} clear")

with open("tests/golden/imaging/cpsnr.json", "w") as f:
    json.dump({"border": 3, "cases": cases}, f, separators=(",", ":"))
