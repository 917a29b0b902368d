using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Imaging.Tests.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Resampling;

[TestFixture]
public class ResamplerTests
{
    // Hand-evaluated MATLAB imresize values. Keys cubic a = -0.5:
    //   k(t) = 1.5|t|^3 - 2.5|t|^2 + 1 (|t| <= 1), -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2 (1 < |t| <= 2).
    // Upscaling by 4, output x samples u = x/4 + 0.375, so an impulse is seen at offsets
    // t = ±0.125, ±0.375, ... and the output is k(t) (cubic weights at unit spacing sum to 1):
    static readonly double[] UpImpulse =
    {
        -0.0068359375, -0.0439453125, -0.0732421875, -0.0478515625, // k(1.875), k(1.625), k(1.375), k(1.125)
        0.0908203125, 0.3896484375, 0.7275390625, 0.9638671875,     // k(0.875), k(0.625), k(0.375), k(0.125)
        0.9638671875, 0.7275390625, 0.3896484375, 0.0908203125,
        -0.0478515625, -0.0732421875, -0.0439453125, -0.0068359375,
    };

    // Shrinking by 4 with antialiasing: h(t) = k(t/4)/4, 16 taps at t = ±0.5 ... ±7.5 whose k(t/4) sum to
    // exactly 4 (four interleaved unit-spaced partitions of unity), so after normalisation w(t) = k(t/4)/4.
    static readonly double[] DownImpulse =
    {
        -0.001708984375, -0.010986328125, -0.018310546875, -0.011962890625, // t = -7.5 .. -4.5
        0.022705078125, 0.097412109375, 0.181884765625, 0.240966796875,     // t = -3.5 .. -0.5
        0.240966796875, 0.181884765625, 0.097412109375, 0.022705078125,
        -0.011962890625, -0.018310546875, -0.010986328125, -0.001708984375,
    };

    [Test]
    public void UpscaledImpulseMatchesHandValues()
    {
        // 1-row image, impulse at 1-based column 4 of 8; a scale of 1 on the other axis is the identity.
        var src = new float[8];
        src[3] = 1;
        var dst = Resampler.Resize(src, 8, 1, 32, 1, 4.0, 1.0, ResampleKernel.Bicubic, antialias: true);
        Assert.That(dst.Length, Is.EqualTo(32));
        // Columns x = 7..22 (1-based) see the impulse at t = u - 4 = -1.875 ... 1.875; the rest see zeros.
        for (int j = 0; j < 16; j++) Assert.That(dst[6 + j], Is.EqualTo(UpImpulse[j]).Within(1e-7), $"x={7 + j}");
        for (int j = 0; j < 6; j++) Assert.That(dst[j], Is.EqualTo(0).Within(1e-7));
        for (int j = 22; j < 32; j++) Assert.That(dst[j], Is.EqualTo(0).Within(1e-7));
    }

    [Test]
    public void DownscaledImpulseMatchesHandValuesInBothAxes()
    {
        // Column impulse at 1-based row 20 of 40: output row y samples u = 4y - 1.5; the weight of row 20 is w(u - 20).
        var src = new float[3 * 40];
        for (int x = 0; x < 3; x++) src[19 * 3 + x] = 1;
        var dst = Resampler.Scale(src, 3, 40, 1.0 / 4); // 3 -> ceil(0.75) = 1 column, 40 -> 10 rows
        var dstT = Resampler.Scale(Transpose(src, 3, 40), 40, 3, 1.0 / 4);
        Assert.That(dst.Length, Is.EqualTo(10));
        for (int y = 1; y <= 10; y++)
        {
            double t = 4 * y - 1.5 - 20;
            double expect = Math.Abs(t) < 8 ? DownImpulse[(int)(t + 7.5)] : 0;
            Assert.That(dst[y - 1], Is.EqualTo(expect).Within(1e-7), $"row {y}");
            Assert.That(dstT[y - 1], Is.EqualTo(expect).Within(1e-7), $"column {y}");
        }
    }

    static float[] Transpose(float[] a, int w, int h)
    {
        var t = new float[a.Length];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) t[x * h + y] = a[y * w + x];
        return t;
    }

    [Test]
    public void RampIsReproducedAndBordersAreMirrored()
    {
        // f(i) = i (1-based). Symmetric taps reproduce a linear function exactly: a 4x shrink gives u = 4x - 1.5.
        int n = 64;
        var ramp = Enumerable.Range(1, n).Select(i => (float)i).ToArray();
        var down = Resampler.Resize(ramp, n, 1, n / 4, 1, 0.25, 1.0, ResampleKernel.Bicubic, antialias: true);
        for (int x = 3; x <= 14; x++) Assert.That(down[x - 1], Is.EqualTo(4 * x - 1.5).Within(1e-4));
        // At the left border MATLAB mirrors with the edge repeated (..., 3, 2, 1, 1, 2, 3, ...): output 1 at u = 2.5
        // averages f over indices -5..10 mapped to 6,5,4,3,2,1,1,2,...,10 with weights k((2.5 - i)/4).
        double num = 0, den = 0;
        for (int i = -5; i <= 10; i++)
        {
            double k = Cubic((2.5 - i) / 4);
            num += k * (i >= 1 ? i : 1 - i);
            den += k;
        }
        Assert.That(down[0], Is.EqualTo(num / den).Within(1e-5));
        Assert.That(num / den, Is.Not.EqualTo(2.5).Within(1e-3), "the mirrored border really differs from the ramp");

        var up = Resampler.Resize(ramp, n, 1, 4 * n, 1, 4.0, 1.0, ResampleKernel.Bicubic, antialias: true);
        for (int x = 9; x <= 4 * n - 8; x++) Assert.That(up[x - 1], Is.EqualTo(x / 4.0 + 0.375).Within(1e-4));
    }

    static double Cubic(double t)
    {
        t = Math.Abs(t);
        return t <= 1 ? 1.5 * t * t * t - 2.5 * t * t + 1 : t <= 2 ? -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2 : 0;
    }

    [Test]
    public void ConstantStaysConstantEverywhere()
    {
        var c = Enumerable.Repeat(0.3f, 37 * 23).ToArray();
        foreach (var s in new[] { 0.25, 1.0 / 3, 0.5, 2.0, 4.0 })
        foreach (var k in new[] { ResampleKernel.Bicubic, ResampleKernel.Bilinear })
        {
            var r = Resampler.Scale(c, 37, 23, s, k);
            Assert.That(r, Has.All.EqualTo(0.3f).Within(1e-6), $"scale {s} {k}");
        }
    }

    [Test]
    public void BicubicShortcutIsTheDefaultResize()
    {
        var rnd = new Random(2);
        var src = Enumerable.Range(0, 96 * 96).Select(_ => (float)rnd.NextDouble()).ToArray();
        Func<float[], int, int, int, int, float[]> f = Resampler.Bicubic;
        Assert.That(f(src, 96, 96, 24, 24), Is.EqualTo(Resampler.Scale(src, 96, 96, 0.25)));
    }

    [Test]
    public void OutputSizeFollowsMatlab()
    {
        Assert.That(Resampler.ScaledSize(150, 150, 0.25), Is.EqualTo((38, 38)));
        Assert.That(Resampler.ScaledSize(38, 38, 4), Is.EqualTo((152, 152)));
        Assert.That(Resampler.ScaledSize(96, 96, 0.25), Is.EqualTo((24, 24)));
        Assert.That(Resampler.ScaledSize(24, 24, 4), Is.EqualTo((96, 96)));
    }

    [Test]
    public void RasterImageScaleCarriesGeoreference()
    {
        var img = RasterImage.Create(10, 8, 2);
        img.Geo = new GeoReference { ModelPixelScale = new[] { 8.0, 8.0, 0 }, ModelTiepoint = new[] { 0.0, 0, 0, 100, 200, 0 } };
        var up = Resampler.Scale(img, 4);
        Assert.That((up.Width, up.Height, up.Bands), Is.EqualTo((40, 32, 2)));
        Assert.That(up.Geo!.ModelPixelScale, Is.EqualTo(new[] { 2.0, 2.0, 0 }));
    }

    // PIL (Pillow 9.4, mode 'F') uses the same a = -0.5 kernel, antialiases the same way and accumulates in double,
    // but truncates and renormalises the kernel at the image edge instead of mirroring. Away from the edges the two
    // must agree to float rounding; the edge band is reported, not asserted.
    const double PilInteriorTolerance = 2e-6;

    [TestCase("smooth_down4_bicubic", "resize_smooth.npy", 0, 0, 40, 48, ResampleKernel.Bicubic)]
    [TestCase("smooth_up4_bicubic", "resize_smooth.npy", 0, 0, 10, 12, ResampleKernel.Bicubic)]
    [TestCase("noise_down4_bicubic", "resize_noise.npy", 0, 0, 36, 32, ResampleKernel.Bicubic)]
    [TestCase("noise_up4_bicubic", "resize_noise.npy", 0, 0, 9, 8, ResampleKernel.Bicubic)]
    [TestCase("noise_down3_bicubic", "resize_noise.npy", 0, 0, 36, 32, ResampleKernel.Bicubic)]
    [TestCase("noise_down2_bilinear", "resize_noise.npy", 0, 0, 36, 32, ResampleKernel.Bilinear)]
    [TestCase("noise_up2_bilinear", "resize_noise.npy", 0, 0, 9, 8, ResampleKernel.Bilinear)]
    public void AgreesWithPilAwayFromTheBorders(string name, string input, int x0, int y0, int w, int h, ResampleKernel kernel)
    {
        var (full, shape) = ImagingGolden.Npy(input);
        var src = new float[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) src[y * w + x] = full[(y0 + y) * shape[1] + x0 + x];
        var (pil, pshape) = ImagingGolden.Npy($"pil_{name}.npy");
        int ow = pshape[1], oh = pshape[0];
        var ours = Resampler.Resize(src, w, h, ow, oh, kernel);

        bool[] ix = Interior(w, ow, kernel), iy = Interior(h, oh, kernel);
        double maxIn = 0, maxAll = 0;
        int counted = 0;
        for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
        {
            double d = Math.Abs(ours[y * ow + x] - pil[y * ow + x]);
            maxAll = Math.Max(maxAll, d);
            if (ix[x] && iy[y]) { maxIn = Math.Max(maxIn, d); counted++; }
        }
        TestContext.Out.WriteLine($"{name}: interior {counted}/{ow * oh} px, max |ours - PIL| interior {maxIn:E2}, whole image {maxAll:E2}");
        Assert.That(counted, Is.GreaterThan(0));
        Assert.That(maxIn, Is.LessThan(PilInteriorTolerance));
    }

    /// <summary>Outputs whose kernel support (width/2, stretched when shrinking) lies inside 1..n.</summary>
    static bool[] Interior(int n, int outN, ResampleKernel k)
    {
        double s = (double)outN / n;
        double half = (k == ResampleKernel.Bicubic ? 2.0 : 1.0) / Math.Min(s, 1);
        var r = new bool[outN];
        for (int o = 1; o <= outN; o++)
        {
            double u = o / s + 0.5 * (1 - 1 / s);
            r[o - 1] = Math.Ceiling(u - half) >= 1 && Math.Floor(u + half) <= n;
        }
        return r;
    }

    [Test]
    public void LargePlaneIsDeterministicAcrossThreads()
    {
        int w = 401, h = 397;
        var rnd = new Random(5);
        var src = Enumerable.Range(0, w * h).Select(_ => (float)rnd.NextDouble()).ToArray();
        var a = Resampler.Scale(src, w, h, 0.25);
        var b = Resampler.Scale(src, w, h, 0.25);
        Assert.That(a, Is.EqualTo(b));
        // Row 50 computed alone (a 1-row crop is not the same problem, so compare with a direct 1-D evaluation).
        var c = Contributions.Compute(h, 100, 0.25, ResampleKernel.Bicubic, true);
        var cx = Contributions.Compute(w, 101, 0.25, ResampleKernel.Bicubic, true);
        double expect = 0;
        for (int ky = 0; ky < c.Taps; ky++)
        for (int kx = 0; kx < cx.Taps; kx++)
            expect += c.Weight[50 * c.Taps + ky] * cx.Weight[60 * cx.Taps + kx] * src[c.Index[50 * c.Taps + ky] * w + cx.Index[60 * cx.Taps + kx]];
        Assert.That(a[50 * 101 + 60], Is.EqualTo(expect).Within(1e-5));
    }
}
