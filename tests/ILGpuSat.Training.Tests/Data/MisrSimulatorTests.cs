using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

public class MisrSimulatorTests
{
    private const int Side = 128;

    // A smooth, textured grey source (sums of sinusoids), the same on every run.
    private static float[] Source()
    {
        var s = new float[Side * Side];
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                s[y * Side + x] = (float)(0.5 + 0.2 * Math.Sin(x * 0.31 + 0.5 * Math.Cos(y * 0.17)) + 0.15 * Math.Cos(y * 0.23 - x * 0.11) + 0.05 * Math.Sin(x * y * 0.003));
        return s;
    }

    private static readonly MisrSimulatorOptions Clean = new()
    {
        MaxShift = 0, BlurSigma = 0, Noise = 0, GainSpread = 0, OffsetSpread = 0, CloudyFraction = 0, MissingFraction = 0, MaxHrCloudCover = 0,
    };

    [Test]
    public void WithoutShiftBlurNoiseOrCloudsEveryLookIsTheDetectorAverageOfTheHr()
    {
        var sim = MisrSimulator.Simulate(Source(), Side, Side, Clean, seed: 1, "clean");
        var scene = sim.Scene;
        int lr = Clean.LrSize, s = Clean.Scale, hr = Clean.HrSize;
        Assert.That((scene.LrWidth, scene.HrWidth, scene.Frames.Count), Is.EqualTo((lr, hr, 9)));
        foreach (var look in scene.Frames)
        {
            Assert.That(look.Clear, Is.All.True);
            for (int y = 0; y < lr; y += 7)
                for (int x = 0; x < lr; x += 5)
                {
                    double mean = 0;
                    for (int j = 0; j < s; j++)
                        for (int i = 0; i < s; i++) mean += scene.HighRes![(y * s + j) * hr + x * s + i];
                    Assert.That(look.Pixels[y * lr + x], Is.EqualTo(mean / (s * s)).Within(1e-5), $"{look.Name} ({x}, {y})");
                }
        }
    }

    [Test]
    public void EachLooksKnownShiftIsWhereCPsnrFindsIt()
    {
        // The bicubic x3 of look k lines up with the HR at offset 3 + 3 Dx (HR pixels): cPSNR's search must find it.
        var options = Clean with { MaxShift = 1.0, BlurSigma = 0.5, Frames = 12 };
        var sim = MisrSimulator.Simulate(Source(), Side, Side, options, seed: 3, "shifted");
        var scene = sim.Scene;
        int checkedLooks = 0;
        for (int k = 0; k < scene.Frames.Count; k++)
        {
            var (dx, dy) = sim.Shifts[k];
            double ux = 3 + 3 * dx, vy = 3 + 3 * dy;
            if (Math.Abs(ux - Math.Round(ux)) > 0.3 || Math.Abs(vy - Math.Round(vy)) > 0.3) continue; // between two offsets
            var up = Resampler.Bicubic(scene.Frames[k].Pixels, scene.LrWidth, scene.LrHeight, scene.HrWidth, scene.HrHeight);
            var r = ClearPsnr.Compute(up, scene.HighRes!, scene.Status!, scene.HrWidth, scene.HrHeight);
            Assert.That((r.OffsetX, r.OffsetY), Is.EqualTo(((int)Math.Round(ux), (int)Math.Round(vy))), $"look {k}: shift ({dx:F2}, {dy:F2})");
            checkedLooks++;
        }
        Assert.That(checkedLooks, Is.GreaterThanOrEqualTo(2), "too few looks near a whole HR-pixel shift to check");
        Assert.That(sim.Shifts.Max(t => Math.Max(Math.Abs(t.Dx), Math.Abs(t.Dy))), Is.LessThanOrEqualTo(1.0));
    }

    [Test]
    public void CloudsAreBrightAndMaskedMissingSwathsAreEmptyAndMasked()
    {
        var options = new MisrSimulatorOptions { CloudyFraction = 1, MaxCloudCover = 0.5, MissingFraction = 1 };
        var scene = MisrSimulator.Simulate(Source(), Side, Side, options, seed: 5, "cloudy").Scene;
        int lr = options.LrSize;
        foreach (var look in scene.Frames)
        {
            double masked = look.Clear.Count(c => !c) / (double)look.Clear.Length;
            Assert.That(masked, Is.GreaterThan(0).And.LessThan(0.85), look.Name);
            bool swath = Enumerable.Range(0, lr).Any(line =>
                Enumerable.Range(0, lr).All(b => !look.Clear[line * lr + b] && look.Pixels[line * lr + b] == 0)
                || Enumerable.Range(0, lr).All(b => !look.Clear[b * lr + line] && look.Pixels[b * lr + line] == 0));
            Assert.That(swath, Is.True, $"{look.Name}: a whole row or column is missing");
        }
        var all = scene.Frames.SelectMany(f => f.Pixels.Zip(f.Clear)).ToList();
        double cloudMean = all.Where(t => !t.Second && t.First > 0).Average(t => t.First), clearMean = all.Where(t => t.Second).Average(t => t.First);
        Assert.That(cloudMean, Is.GreaterThan(clearMean + 0.1), "clouds are brighter than the ground");
        Assert.That(scene.Status!.Count(c => !c), Is.LessThan(scene.Status!.Length / 5), "the HR is mostly clear");
    }

    [Test]
    public void AScenesLooksFollowFromTheSeedAndName()
    {
        var a = MisrSimulator.Simulate(Source(), Side, Side, new MisrSimulatorOptions(), 7, "imgset0001").Scene;
        var b = MisrSimulator.Simulate(Source(), Side, Side, new MisrSimulatorOptions(), 7, "imgset0001").Scene;
        var c = MisrSimulator.Simulate(Source(), Side, Side, new MisrSimulatorOptions(), 7, "imgset0002").Scene;
        Assert.That(b.Frames.Select(f => f.Pixels), Is.EqualTo(a.Frames.Select(f => f.Pixels)));
        Assert.That(c.Frames[0].Pixels, Is.Not.EqualTo(a.Frames[0].Pixels));
        var e = Assert.Throws<ArgumentException>(() => MisrSimulator.Simulate(new float[64 * 64], 64, 64, new MisrSimulatorOptions { LrSize = 32 }, 1, "small"));
        Assert.That(e!.Message, Does.Contain("64x64").And.Contain("96-pixel HR crop"));
    }

    [Test]
    public void TheChallengeBaselineAveragesTheClearestLooksAndBeatsOneNoisyLook()
    {
        var options = Clean with { Noise = 0.02, Frames = 9 };
        var scene = MisrSimulator.Simulate(Source(), Side, Side, options, seed: 9, "noisy").Scene;
        var baseline = ProbaVBaseline.ChallengeBaseline(scene, 3);
        var single = ProbaVBaseline.ClearestBicubic(scene, 3);
        double b = ClearPsnr.Compute(baseline, scene.HighRes!, scene.Status!, scene.HrWidth, scene.HrHeight).CPsnr;
        double one = ClearPsnr.Compute(single, scene.HighRes!, scene.Status!, scene.HrWidth, scene.HrHeight).CPsnr;
        Assert.That(b, Is.GreaterThan(one + 3), "the mean of 9 looks has a third of one look's noise");
    }
}
