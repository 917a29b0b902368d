namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// Resizes x [N,C,H,W] to [N,C,outH,outW] as torch.nn.functional.interpolate(size=(outH,outW)):
    /// "nearest" (src = floor(dst*in/out)) or "bilinear" with align_corners=False. Backward
    /// scatters dy to the source pixels with the same weights.
    /// </summary>
    public static Tensor Interpolate(Tensor x, int outH, int outW, string mode = "nearest", bool alignCorners = false)
    {
        const string op = "interpolate";
        Check.NotNull(op, nameof(x), x);
        Check.Rank(op, "input", x, 4);
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: output size {outH}x{outW} must be positive (input {Check.S(x)}).");
        bool bilinear = mode switch
        {
            "bilinear" => true,
            "nearest" => false,
            _ => throw new ArgumentException($"{op}: mode '{mode}' is not supported (use \"nearest\" or \"bilinear\")."),
        };
        if (alignCorners)
            throw new ArgumentException(bilinear
                ? $"{op}: align_corners=True is not implemented; bilinear uses align_corners=False."
                : $"{op}: align_corners can only be set with an interpolating mode, not '{mode}'.");

        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3), planes = n * c;
        var b = x.Backend;
        var y = Tensor.Empty([n, c, outH, outW], b);
        if (bilinear) b.UpsampleBilinear(x.Buffer, planes, h, w, outH, outW, y.Buffer);
        else b.UpsampleNearest(x.Buffer, planes, h, w, outH, outW, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record(bilinear ? "interpolate_bilinear" : "interpolate_nearest", y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, b);
            if (bilinear) b.UpsampleBilinearBackward(dy.Buffer, planes, h, w, outH, outW, dx.Buffer);
            else b.UpsampleNearestBackward(dy.Buffer, planes, h, w, outH, outW, dx.Buffer);
            return [dx];
        });
    }

    /// <summary>
    /// Max-pooling with a 2x2 window and stride 2 over x [N,C,H,W] (odd last row/column dropped).
    /// dx routes dy to the first maximum of each window.
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernelSize = 2)
    {
        const string op = "max_pool2d";
        Check.NotNull(op, nameof(x), x);
        Check.Rank(op, "input", x, 4);
        if (kernelSize != 2)
            throw new ArgumentException($"{op}: only kernel_size=2 (stride 2) is implemented, got {kernelSize}.");
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3), planes = n * c;
        if (h < 2 || w < 2)
            throw new ArgumentException($"{op}: input {Check.S(x)} is smaller than the 2x2 window.");
        var b = x.Backend;
        var y = Tensor.Empty([n, c, h / 2, w / 2], b);
        b.MaxPool2x2(x.Buffer, planes, h, w, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, b);
            b.MaxPool2x2Backward(x.Buffer, dy.Buffer, planes, h, w, dx.Buffer);
            return [dx];
        });
    }
}
