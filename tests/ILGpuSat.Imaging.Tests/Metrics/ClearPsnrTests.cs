using System.Runtime.CompilerServices;
using System.Text.Json;
using ILGpuSat.Imaging.Metrics;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Metrics;

/// <summary>The PROBA-V cPSNR against tests/golden/imaging/cpsnr.json (a numpy transcription of the challenge's definition).</summary>
public class ClearPsnrTests
{
    private static string Golden([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "golden", "imaging", "cpsnr.json"));

    private static IEnumerable<TestCaseData> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Golden()));
        int i = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            float[] F(string k) => c.GetProperty(k).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            yield return new TestCaseData(c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), F("sr"), F("hr"),
                    c.GetProperty("clear").EnumerateArray().Select(e => e.GetInt32() != 0).ToArray(),
                    c.GetProperty("cpsnr").GetDouble(), c.GetProperty("u").GetInt32(), c.GetProperty("v").GetInt32(),
                    c.GetProperty("bias").GetDouble(), c.GetProperty("clearPixels").GetInt64())
                .SetName($"golden case {i++}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheNumpyTranscriptionOfTheChallengeDefinition(int width, int height, float[] sr, float[] hr, bool[] clear,
        double cpsnr, int u, int v, double bias, long clearPixels)
    {
        var r = ClearPsnr.Compute(sr, hr, clear, width, height);
        Assert.That(r.CPsnr, Is.EqualTo(cpsnr).Within(1e-6));
        Assert.That((r.OffsetX, r.OffsetY), Is.EqualTo((u, v)));
        Assert.That(r.Bias, Is.EqualTo(bias).Within(1e-9));
        Assert.That(r.ClearPixels, Is.EqualTo(clearPixels));
    }

    [Test]
    public void AShiftOfThreePixelsBothWaysIsFoundAtOffsetSixSix()
    {
        // SR(y, x) = HR(y + 3, x + 3) + 0.2 exactly: the (6, 6) window lines up and the bias is removed, so cMSE is 0
        // there. A 6 x 6 search of offsets 0..5 would miss it.
        const int w = 16, h = 16;
        var rng = new Random(5);
        var big = Enumerable.Range(0, (w + 6) * (h + 6)).Select(_ => (float)rng.NextDouble() * 0.5f).ToArray();
        float[] hr = new float[w * h], sr = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                hr[y * w + x] = big[(y + 3) * (w + 6) + x + 3];
                sr[y * w + x] = big[(y + 6) * (w + 6) + x + 6] - 0.25f;
            }
        var clear = Enumerable.Repeat(true, w * h).ToArray();
        var r = ClearPsnr.Compute(sr, hr, clear, w, h);
        Assert.That((r.OffsetX, r.OffsetY), Is.EqualTo((6, 6)));
        Assert.That(r.Bias, Is.EqualTo(0.25).Within(1e-6));
        Assert.That(r.CPsnr, Is.GreaterThan(100), "the aligned, de-biased window is exact up to float rounding");
    }

    [Test]
    public void OnlyClearPixelsCount()
    {
        const int w = 12, h = 12;
        var rng = new Random(9);
        var hr = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        var clean = hr.Select(v => v + 0.01f * (float)(rng.NextDouble() - 0.5)).ToArray();
        // Cloud over HR x, y >= 5: every window that compares a pixel of the SR block x, y >= 8 (cropped x', y' >= 5)
        // reads HR at x' + u >= 5, y' + v >= 5, so it is masked at every offset. Ruining that block changes nothing.
        var clear = Enumerable.Range(0, w * h).Select(i => i % w < 5 || i / w < 5).ToArray();
        var ruined = (float[])clean.Clone();
        for (int y = 8; y < h; y++)
            for (int x = 8; x < w; x++) ruined[y * w + x] = 1f;
        var a = ClearPsnr.Compute(clean, hr, clear, w, h);
        var b = ClearPsnr.Compute(ruined, hr, clear, w, h);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(a.CPsnr, Is.GreaterThan(40), "noise of 0.01 peak to peak");
        Assert.That(ClearPsnr.Compute(ruined, hr, Enumerable.Repeat(true, w * h).ToArray(), w, h).CPsnr, Is.LessThan(a.CPsnr - 10),
                    "with every pixel clear the ruined block counts");
        Assert.That(ClearPsnr.Score(40, 44), Is.EqualTo(1.1).Within(1e-12));
    }

    [Test]
    public void BadInputIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => ClearPsnr.Compute(new float[36], new float[36], new bool[36], 6, 6));
        Assert.That(e!.Message, Does.Contain("6x6").And.Contain("3 pixels"));
        e = Assert.Throws<ArgumentException>(() => ClearPsnr.Compute(new float[100], new float[100], new bool[100], 10, 10));
        Assert.That(e!.Message, Does.Contain("no clear pixel"));
        e = Assert.Throws<ArgumentException>(() => ClearPsnr.Compute(new float[100], new float[99], new bool[100], 10, 10));
        Assert.That(e!.Message, Does.Contain("HR (99)"));
        Assert.Throws<ArgumentException>(() => ClearPsnr.Score(0, 40));
    }
}
