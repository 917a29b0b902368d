using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Tests.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Metrics;

[TestFixture]
public class MetricsTests
{
    // References: skimage.metrics 0.19.3 (peak_signal_noise_ratio, structural_similarity) on the same float32 data
    // promoted to float64, see tests/golden/imaging/make_imaging_refs.py.
    const double PsnrTolerance = 1e-9;  // dB: both sides sum in double
    const double SsimTolerance = 1e-9;

    static (float[] Ref, float[] Test, int W, int H) LPlanes()
    {
        var (r, s) = ImagingGolden.Npy("metrics_ref.npy");
        var (t, _) = ImagingGolden.Npy("metrics_test.npy");
        return (r, t, s[1], s[0]);
    }

    static float[][] Planes(float[] hwc, int w, int h)
    {
        var p = new float[3][];
        for (int c = 0; c < 3; c++) { p[c] = new float[w * h]; for (int i = 0; i < w * h; i++) p[c][i] = hwc[i * 3 + c]; }
        return p;
    }

    [Test]
    public void PsnrMatchesSkimage()
    {
        var (r, t, w, h) = LPlanes();
        double full = ImageMetrics.Psnr(r, t, w, h, 100);
        double crop = ImageMetrics.PsnrSr(r, t, w, h, scale: 4, dataRange: 100);
        TestContext.Out.WriteLine($"PSNR {full:F12} vs skimage {ImagingGolden.Ref("psnr_L_range100"):F12}; crop4 {crop:F12} vs {ImagingGolden.Ref("psnr_L_range100_crop4"):F12}");
        Assert.That(full, Is.EqualTo(ImagingGolden.Ref("psnr_L_range100")).Within(PsnrTolerance));
        Assert.That(crop, Is.EqualTo(ImagingGolden.Ref("psnr_L_range100_crop4")).Within(PsnrTolerance));
    }

    [Test]
    public void PsnrOfAKnownErrorIsExact()
    {
        // Every pixel off by 1 in range 255: MSE 1, PSNR = 20 log10(255) = 48.1308...
        var a = new float[16 * 16];
        var b = a.Select(v => v + 1f).ToArray();
        Assert.That(ImageMetrics.Psnr(a, b, 16, 16, 255), Is.EqualTo(20 * Math.Log10(255)).Within(1e-12));
        Assert.That(ImageMetrics.Psnr(a, a, 16, 16, 255), Is.EqualTo(double.PositiveInfinity));
        // The border crop really excludes the border: an error only in the outer ring vanishes with border 1.
        var c = (float[])a.Clone();
        c[0] = 50; c[16 * 16 - 1] = 50;
        Assert.That(ImageMetrics.Psnr(a, c, 16, 16, 255, border: 1), Is.EqualTo(double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => ImageMetrics.Psnr(a, c, 16, 16, 255, border: 8));
    }

    [Test]
    public void SsimMatchesSkimage()
    {
        var (r, t, w, h) = LPlanes();
        double full = ImageMetrics.Ssim(r, t, w, h, 100);
        double crop = ImageMetrics.Ssim(r, t, w, h, 100, border: 4);
        TestContext.Out.WriteLine($"SSIM {full:F12} vs skimage {ImagingGolden.Ref("ssim_L_range100"):F12}; crop4 {crop:F12} vs {ImagingGolden.Ref("ssim_L_range100_crop4"):F12}");
        Assert.That(full, Is.EqualTo(ImagingGolden.Ref("ssim_L_range100")).Within(SsimTolerance));
        Assert.That(crop, Is.EqualTo(ImagingGolden.Ref("ssim_L_range100_crop4")).Within(SsimTolerance));
        Assert.That(ImageMetrics.Ssim(r, r, w, h, 100), Is.EqualTo(1.0).Within(1e-12));
    }

    [Test]
    public void RgbPsnrAndSsimMatchSkimage()
    {
        var (a, s) = ImagingGolden.Npy("metrics_rgb_ref.npy");
        var (b, _) = ImagingGolden.Npy("metrics_rgb_test.npy");
        int h = s[0], w = s[1];
        var pa = Planes(a, w, h);
        var pb = Planes(b, w, h);
        double psnr = ImageMetrics.Psnr(pa, pb, w, h, 1.0), ssim = ImageMetrics.Ssim(pa, pb, w, h, 1.0);
        TestContext.Out.WriteLine($"RGB PSNR {psnr:F12} vs {ImagingGolden.Ref("psnr_rgb_range1"):F12}; SSIM {ssim:F12} vs {ImagingGolden.Ref("ssim_rgb_range1"):F12}");
        Assert.That(psnr, Is.EqualTo(ImagingGolden.Ref("psnr_rgb_range1")).Within(PsnrTolerance));
        Assert.That(ssim, Is.EqualTo(ImagingGolden.Ref("ssim_rgb_range1")).Within(SsimTolerance));
    }

    [Test]
    public void ColourfulnessMatchesHaslerSuesstrunk()
    {
        var (a, s) = ImagingGolden.Npy("metrics_rgb_ref.npy");
        var p = Planes(a, s[1], s[0]);
        Assert.That(ColorMetrics.Colourfulness(p[0], p[1], p[2]), Is.EqualTo(ImagingGolden.Ref("colourfulness_rgb_ref")).Within(1e-6));
        var grey = Enumerable.Repeat(0.4f, 100).ToArray();
        Assert.That(ColorMetrics.Colourfulness(grey, grey, grey), Is.EqualTo(0).Within(1e-9));
        // Pure red everywhere: rg = 255, yb = 127.5, no spread: M = 0.3 * sqrt(255^2 + 127.5^2).
        var one = Enumerable.Repeat(1f, 10).ToArray();
        var zero = new float[10];
        Assert.That(ColorMetrics.Colourfulness(one, zero, zero), Is.EqualTo(0.3 * Math.Sqrt(255.0 * 255 + 127.5 * 127.5)).Within(1e-9));
    }

    [Test]
    public void AbAucMatchesZhangDefinition()
    {
        var (t, s) = ImagingGolden.Npy("metrics_ab_true.npy");
        var (p, _) = ImagingGolden.Npy("metrics_ab_pred.npy");
        int n = s[1] * s[2];
        var ta = t[..n]; var tb = t[n..]; var pa = p[..n]; var pb = p[n..];
        Assert.That(ColorMetrics.AbAuc(pa, pb, ta, tb), Is.EqualTo(ImagingGolden.Ref("auc_ab")).Within(1e-12));
        Assert.That(ColorMetrics.AbAuc(ta, tb, ta, tb), Is.EqualTo(1.0).Within(1e-12), "perfect prediction");
        // Every pixel off by exactly 75: accuracy 0 below 75, 1 from 75 on; trapezoid area = 75.5 of 150.
        var zeros = new float[50];
        var off = Enumerable.Repeat(75f, 50).ToArray();
        Assert.That(ColorMetrics.AbAuc(off, zeros, zeros, zeros), Is.EqualTo(75.5 / 150).Within(1e-12));
    }

    [Test]
    public void LumaYIsBt601()
    {
        var y = ImageMetrics.LumaY(new[] { 0f, 1f, 1f }, new[] { 0f, 1f, 0f }, new[] { 0f, 1f, 0f });
        Assert.That(y[0], Is.EqualTo(16f).Within(1e-5));
        Assert.That(y[1], Is.EqualTo(235f).Within(1e-4));
        Assert.That(y[2], Is.EqualTo(16 + 65.481f).Within(1e-4));
    }

    [Test]
    public void TilePsnrMapLocalisesErrorAndRendersJet()
    {
        int w = 40, h = 24, tile = 8;
        var a = new float[w * h];
        var b = (float[])a.Clone();
        for (int y = 8; y < 16; y++) for (int x = 16; x < 24; x++) b[y * w + x] = 10; // tile (2,1): MSE 100
        for (int y = 0; y < 8; y++) for (int x = 32; x < 40; x++) b[y * w + x] = (x + y) % 2 == 0 ? 1 : -1; // tile (4,0): MSE 1
        var map = PsnrMap.Compute(a, b, w, h, tile, 100);
        Assert.That((map.TilesX, map.TilesY), Is.EqualTo((5, 3)));
        Assert.That(map[2, 1], Is.EqualTo(20).Within(1e-9));
        Assert.That(map[4, 0], Is.EqualTo(40).Within(1e-9));
        Assert.That(map[0, 0], Is.EqualTo(double.PositiveInfinity));

        // Edge tiles may be partial: 20x12 with tile 8 gives 3x2 tiles.
        Assert.That(PsnrMap.Compute(new float[240], new float[240], 20, 12, 8, 1).Values.Length, Is.EqualTo(6));

        string dir = Path.Combine(Path.GetTempPath(), "ilgpusat-map-" + Guid.NewGuid().ToString("N"));
        try
        {
            string f = Path.Combine(dir, "map.png");
            map.SavePng(f, minDb: 20, maxDb: 40, legendWidth: 6);
            var img = ImageReader.Read(f);
            Assert.That((img.Width, img.Height, img.Bands), Is.EqualTo((w + 2 + 6, h, 3)));
            // 20 dB is the bottom of the scale (dark blue), 40 dB and error-free tiles the top (dark red).
            Assert.That(new[] { img[0, 12, 20], img[1, 12, 20], img[2, 12, 20] }, Is.EqualTo(new[] { 0f, 0f, 0.5f }).Within(1 / 255f));
            Assert.That(new[] { img[0, 3, 36], img[1, 3, 36], img[2, 3, 36] }, Is.EqualTo(new[] { 0.5f, 0f, 0f }).Within(1 / 255f));
            Assert.That(new[] { img[0, 3, 3], img[1, 3, 3], img[2, 3, 3] }, Is.EqualTo(new[] { 0.5f, 0f, 0f }).Within(1 / 255f));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
