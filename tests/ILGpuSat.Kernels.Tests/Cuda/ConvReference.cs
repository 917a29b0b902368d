namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Direct (seven nested loops, double accumulation) convolution passes: the independent reference of
/// the implicit-GEMM kernels. All three passes walk the same (n, k, p, q, c, r, s) nest, so the data and
/// weight gradients are by construction the adjoints of the forward pass.
/// </summary>
internal static class ConvReference
{
    private delegate void Visit(int xi, int wi, int yi);

    /// <summary>Calls visit(x index, w index, y index) for every in-bounds multiply of the convolution.</summary>
    private static void ForEachTap(Conv2dGeometry g, Visit visit)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
        for (int k = 0; k < g.OutC; k++)
        for (int p = 0; p < oh; p++)
        for (int q = 0; q < ow; q++)
        {
            int yi = ((n * g.OutC + k) * oh + p) * ow + q;
            for (int c = 0; c < g.InC; c++)
            for (int r = 0; r < g.KH; r++)
            {
                int h = p * g.StrideH - g.PadH + r * g.DilH;
                if (h < 0 || h >= g.InH) continue;
                for (int s = 0; s < g.KW; s++)
                {
                    int w = q * g.StrideW - g.PadW + s * g.DilW;
                    if (w < 0 || w >= g.InW) continue;
                    visit(((n * g.InC + c) * g.InH + h) * g.InW + w, ((k * g.InC + c) * g.KH + r) * g.KW + s, yi);
                }
            }
        }
    }

    public static float[] Forward(Conv2dGeometry g, float[] x, float[] w, float[]? bias)
    {
        var y = new double[g.OutputLength];
        ForEachTap(g, (xi, wi, yi) => y[yi] += (double)x[xi] * w[wi]);
        int plane = g.OutH * g.OutW;
        var result = new float[y.Length];
        for (int i = 0; i < y.Length; i++) result[i] = (float)(y[i] + (bias is null ? 0 : bias[i / plane % g.OutC]));
        return result;
    }

    public static float[] BackwardData(Conv2dGeometry g, float[] dy, float[] w)
    {
        var dx = new double[g.InputLength];
        ForEachTap(g, (xi, wi, yi) => dx[xi] += (double)dy[yi] * w[wi]);
        return Array.ConvertAll(dx, v => (float)v);
    }

    public static (float[] Dw, float[] Dbias) BackwardWeight(Conv2dGeometry g, float[] x, float[] dy)
    {
        var dw = new double[g.WeightLength];
        ForEachTap(g, (xi, wi, yi) => dw[wi] += (double)dy[yi] * x[xi]);
        var db = new double[g.OutC];
        int plane = g.OutH * g.OutW;
        for (int i = 0; i < dy.Length; i++) db[i / plane % g.OutC] += dy[i];
        return (Array.ConvertAll(dw, v => (float)v), Array.ConvertAll(db, v => (float)v));
    }

    /// <summary>
    /// PyTorch's conv_transpose2d from its own definition (scatter of every input pixel through the
    /// IOHW weight), independent of <see cref="Conv2dGeometry.ForTranspose"/>.
    /// </summary>
    public static float[] ConvTranspose(int n, int inC, int inH, int inW, int outC, int kh, int kw, float[] x, float[] w,
        int stride, int pad, int outPad, int dil, out int outH, out int outW)
    {
        outH = (inH - 1) * stride - 2 * pad + dil * (kh - 1) + outPad + 1;
        outW = (inW - 1) * stride - 2 * pad + dil * (kw - 1) + outPad + 1;
        var y = new double[n * outC * outH * outW];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < inC; i++)
        for (int h = 0; h < inH; h++)
        for (int v = 0; v < inW; v++)
        {
            double xv = x[((b * inC + i) * inH + h) * inW + v];
            for (int o = 0; o < outC; o++)
            for (int r = 0; r < kh; r++)
            {
                int oy = h * stride - pad + r * dil;
                if (oy < 0 || oy >= outH) continue;
                for (int s = 0; s < kw; s++)
                {
                    int ox = v * stride - pad + s * dil;
                    if (ox < 0 || ox >= outW) continue;
                    y[((b * outC + o) * outH + oy) * outW + ox] += xv * w[((i * outC + o) * kh + r) * kw + s];
                }
            }
        }
        return Array.ConvertAll(y, v => (float)v);
    }

    public static float[] Random(Random rng, long length)
    {
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>max|a-b| / max|b|: the error measure for results whose fp32 summation order differs.</summary>
    public static double RelativeError(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double diff = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        if (double.IsNaN(diff)) return double.PositiveInfinity;
        return diff / Math.Max(scale, 1e-30);
    }
}
