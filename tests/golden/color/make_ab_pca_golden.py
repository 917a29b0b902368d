"""Reference for Training/Color/AbPrincipalComponents.cs from numpy's SVD: 40 correlated random ab fields of
2 x 6 x 6 values (float32-representable), their mean, the top 5 principal components (each sign-fixed so its
largest entry is positive) and their sample variances. Run from the repository root:
    /usr/bin/python3 tests/golden/color/make_ab_pca_golden.py"""
import json
import os

import numpy as np

rng = np.random.default_rng(2017)
m, d, k = 40, 72, 5
basis = rng.normal(size=(8, d))
fields = (rng.normal(size=(m, 8)) * [6, 4, 3, 2, 1.5, 1, 0.5, 0.25]) @ basis + rng.normal(size=(m, d)) * 0.05 + 3
fields = fields.astype(np.float32).astype(np.float64)
mean = fields.mean(0)
u, s, vt = np.linalg.svd(fields - mean, full_matrices=False)
comps = vt[:k]
for i in range(k):
    if comps[i][np.argmax(np.abs(comps[i]))] < 0:
        comps[i] = -comps[i]
out = {"fields": fields.tolist(), "mean": mean.tolist(), "components": comps.tolist(), "variances": (s[:k] ** 2 / (m - 1)).tolist()}
path = os.path.join("tests", "golden", "color", "ab_pca.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
