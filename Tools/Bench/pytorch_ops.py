#!/usr/bin/env python3
"""Times the `ilgpusat bench ops` cases with PyTorch on this machine, for the ratio column.

Prints one JSON object: {"torch": version, "device": ..., "rows": [{"name", "median_ms"}]}.
Row names match the C# benchmark's names exactly. Transposed convolutions are also timed as
their equivalent conv2d over the zero-inserted input (Debian's CPU build runs ConvTranspose2d
through a reference BLAS, about 40x slower than its Conv2d) and, for stride 2, in the sub-pixel
form (one conv2d per output phase, no inserted zeros): the row keeps the fastest and names it in "form".
"""
import argparse, ctypes, json, os, re, statistics, sys, tempfile, time

import torch
import torch.nn.functional as F


def cpu_isas():
    """The instruction sets PyTorch's CPU kernels run here: ATen's dispatch level (set by
    ATEN_CPU_CAPABILITY) and oneDNN's (capped by ONEDNN_MAX_CPU_ISA), which runs the convolutions.
    oneDNN names its ISA only in verbose output, which goes to fd 1: a tiny convolution runs with
    fd 1 sent to a temporary file so the JSON on stdout stays clean."""
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    aten = m.group(1) if m else "?"
    onednn = "?"
    if torch.backends.mkldnn.is_available():
        with tempfile.TemporaryFile(mode="w+") as tmp:
            sys.stdout.flush()
            saved = os.dup(1)
            os.dup2(tmp.fileno(), 1)
            try:
                with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                    # Small convolutions skip oneDNN; this one is large enough to reach it.
                    F.conv2d(torch.randn(4, 64, 32, 32), torch.randn(64, 64, 3, 3), padding=1)
            finally:
                ctypes.CDLL(None).fflush(None)  # oneDNN prints through C stdio: flush it into the file
                os.dup2(saved, 1)
                os.close(saved)
            tmp.seek(0)
            m = re.search(r"cpu,isa:([^\n]+)", tmp.read())
            onednn = m.group(1).strip() if m else "?"
    return aten, onednn


def timeit(fn, sync, min_reps=5, budget_s=1.5):
    for _ in range(2):
        fn()
    sync()
    times, start = [], time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < budget_s and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def conv_case(dev, n, cin, h, w, cout, k, stride, pad):
    x = torch.randn(n, cin, h, w, device=dev, requires_grad=True)
    wt = torch.randn(cout, cin, k, k, device=dev, requires_grad=True)
    b = torch.randn(cout, device=dev, requires_grad=True)
    y = F.conv2d(x, wt, b, stride, pad)
    g = torch.randn_like(y)
    fwd = lambda: F.conv2d(x, wt, b, stride, pad)
    def fwdbwd():
        out = F.conv2d(x, wt, b, stride, pad)
        torch.autograd.grad(out, (x, wt, b), g)
    return fwd, fwdbwd


def convT_forms(dev, n, cin, h, w, cout, k, stride, pad, outpad):
    """Native conv_transpose2d and the equivalent conv2d (zero-inserted input for stride 2)."""
    x = torch.randn(n, cin, h, w, device=dev, requires_grad=True)
    wt = torch.randn(cin, cout, k, k, device=dev, requires_grad=True)  # IOHW
    b = torch.randn(cout, device=dev, requires_grad=True)
    y = F.conv_transpose2d(x, wt, b, stride, pad, outpad)
    g = torch.randn_like(y)

    def native():
        return F.conv_transpose2d(x, wt, b, stride, pad, outpad)

    def as_conv():
        # conv_transpose = conv2d over the zero-inserted input with the flipped, transposed kernel.
        xi = x
        if stride > 1:
            z = x.new_zeros(n, cin, (h - 1) * stride + 1, (w - 1) * stride + 1)
            z[:, :, ::stride, ::stride] = x
            xi = z
        q = k - 1 - pad
        xi = F.pad(xi, (q, q + outpad, q, q + outpad))
        wc = wt.flip(2, 3).transpose(0, 1)
        return F.conv2d(xi, wc, b)

    def sub_pixel():
        # One small conv2d per output phase (oy % stride, ox % stride), using only the kernel taps
        # that reach that phase, then the phases interleaved: no multiplications by inserted zeros.
        oh = (h - 1) * stride - 2 * pad + k + outpad
        ow = (w - 1) * stride - 2 * pad + k + outpad
        qh, qw = oh // stride, ow // stride
        rows = []
        for ry in range(stride):
            cols = []
            for rx in range(stride):
                ky0, kx0 = (ry + pad) % stride, (rx + pad) % stride
                sub = wt[:, :, ky0::stride, kx0::stride].flip(2, 3).transpose(0, 1)
                jh, jw = sub.shape[2], sub.shape[3]
                top, left = jh - 1 - (ry + pad - ky0) // stride, jw - 1 - (rx + pad - kx0) // stride
                xi = F.pad(x, (left, qw + jw - 1 - w - left, top, qh + jh - 1 - h - top))
                cols.append(F.conv2d(xi, sub, b))
            rows.append(torch.stack(cols, -1))           # [N, C, qh, qw, sx]
        y = torch.stack(rows, 3)                         # [N, C, qh, sy, qw, sx]
        return y.reshape(n, cout, oh, ow)

    candidates = [("conv_transpose2d", native), ("conv2d-equivalent", as_conv)]
    if stride > 1 and outpad == 0 and ((h - 1) * stride - 2 * pad + k) % stride == 0 and k % stride == 0:
        with torch.no_grad():
            assert torch.allclose(sub_pixel(), native(), rtol=1e-4, atol=1e-4), "sub-pixel form disagrees"
        candidates.append(("conv2d-sub-pixel", sub_pixel))
    forms = {}
    for name, f in candidates:
        def fb(f=f):
            torch.autograd.grad(f(), (x, wt, b), g)
        forms[name] = (f, fb)
    return forms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--only", default=None, help="time only the rows whose name contains this")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cudnn.benchmark = True
        sync = torch.cuda.synchronize
    else:
        sync = lambda: None
    torch.manual_seed(0)
    n, s = a.batch, a.size
    q = s // 4
    rows = []

    def wanted(name):
        return a.only is None or a.only in name + " fwd" or a.only in name + " fwd+bwd"

    def add(name, fwd, fwdbwd, form=None):
        if not wanted(name):
            return
        rows.append({"name": name + " fwd", "median_ms": timeit(fwd, sync), "form": form})
        rows.append({"name": name + " fwd+bwd", "median_ms": timeit(fwdbwd, sync), "form": form})

    f, fb = conv_case(dev, n, 64, s, s, 64, 3, 1, 1)
    add(f"conv2d 3x3 64->64 {n}x64x{s}x{s}", f, fb)

    for name, args in ((f"conv_transpose2d 3x3 s1 64->64 {n}x64x{s}x{s}", (n, 64, s, s, 64, 3, 1, 1, 0)),
                       (f"conv_transpose2d 4x4 s2 256->64 {n}x256x{q}x{q}", (n, 256, q, q, 64, 4, 2, 1, 0))):
        if not wanted(name):
            continue
        forms = convT_forms(dev, *args)
        for suffix, idx in ((" fwd", 0), (" fwd+bwd", 1)):
            best = min(((timeit(fs[idx], sync), form) for form, fs in forms.items()))
            rows.append({"name": name + suffix, "median_ms": best[0], "form": best[1]})

    x = torch.randn(n, 64, s, s, device=dev, requires_grad=True)
    gamma = torch.randn(64, device=dev, requires_grad=True)
    beta = torch.randn(64, device=dev, requires_grad=True)
    rm, rv = torch.zeros(64, device=dev), torch.ones(64, device=dev)
    gy = torch.randn_like(x)
    bn = lambda: F.batch_norm(x, rm, rv, gamma, beta, True, 0.1, 1e-5)
    add(f"batch_norm train {n}x64x{s}x{s}", bn, lambda: torch.autograd.grad(bn(), (x, gamma, beta), gy))

    pw = torch.full((64,), 0.25, device=dev, requires_grad=True)
    pr = lambda: F.prelu(x, pw)
    add(f"prelu per-channel {n}x64x{s}x{s}", pr, lambda: torch.autograd.grad(pr(), (x, pw), gy))

    logits = torch.randn(n, 313, q, q, device=dev, requires_grad=True)
    z = torch.softmax(torch.randn(n, 313, q, q, device=dev), 1)
    wpix = torch.rand(n, 1, q, q, device=dev)
    ce = lambda: (wpix * -(z * F.log_softmax(logits, 1)).sum(1, keepdim=True)).mean()
    add(f"softmax_ce 313 classes {n}x313x{q}x{q}", ce, lambda: torch.autograd.grad(ce(), (logits,)))

    aten_isa, onednn_isa = cpu_isas() if dev.type == "cpu" else (None, None)
    print(json.dumps({"torch": torch.__version__, "device": str(dev), "threads": torch.get_num_threads(),
                      "tf32": a.tf32, "aten_isa": aten_isa, "onednn_isa": onednn_isa, "rows": rows}))


if __name__ == "__main__":
    sys.exit(main())
