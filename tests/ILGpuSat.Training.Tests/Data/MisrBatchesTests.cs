using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

public class MisrBatchesTests
{
    private string _root = null!;

    [OneTimeSetUp]
    public void Make()
    {
        _root = Directory.CreateTempSubdirectory("misr-batches-").FullName;
        for (int k = 0; k < 3; k++)
        {
            int s = 150, kk = k;
            var planes = Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, s * s)
                .Select(i => (float)(0.5 + 0.3 * Math.Sin((i % s) * 0.2 * (kk + 1) + c) * Math.Cos((i / s) * 0.13))).ToArray()).ToArray();
            ImageWriter.Write(Path.Combine(_root, $"scene{k}.png"), new RasterImage(s, s, planes));
        }
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    [Test]
    public void ABatchHoldsStandardisedFramesMasksHrAndShiftsInClearestFirstOrder()
    {
        var files = Directory.GetFiles(_root).Order().ToList();
        var options = new MisrSimulatorOptions();
        var data = new MisrBatches(files, options, seed: 4, mean: 0.45f, std: 0.2f);
        var batch = data.Batch(7, 3);
        int t = options.Frames, side = options.HrSize, hw = side * side;
        Assert.That(batch.FramesShape, Is.EqualTo(new[] { 3, t, 1, side, side }));
        Assert.That(batch.Frames.Length, Is.EqualTo(3 * t * hw));
        Assert.That(batch.Masks.All(m => m is 0f or 1f), Is.True);
        for (int i = 0; i < 3; i++)
        {
            var clear = Enumerable.Range(0, t).Select(j => batch.Masks.AsSpan((i * t + j) * hw, hw).ToArray().Count(m => m == 1f)).ToArray();
            Assert.That(clear, Is.Ordered.Descending, $"scene {i}: frame 0 the clearest, then by clear pixels");
            Assert.That(batch.ShiftsToReference[i][0], Is.EqualTo((0.0, 0.0)));
            Assert.That(batch.ShiftsToReference[i].All(sh => Math.Abs(sh.Dx) <= 2 * options.MaxShift * options.Scale), Is.True);
        }
        double mean = batch.HighRes.Average();
        Assert.That(Math.Abs(mean), Is.LessThan(1.5), "standardised");
        Assert.That(data.Batch(7, 3).Frames, Is.EqualTo(batch.Frames), "a batch index always gives the same batch");
        Assert.That(data.Batch(8, 3).Frames, Is.Not.EqualTo(batch.Frames));
    }

    [Test]
    public void TheHeldOutSplitIsByFileNameAndDisjoint()
    {
        var files = Enumerable.Range(0, 500).Select(i => $"/data/AID/Farmland/farmland_{i}.jpg").ToList();
        var (train, test) = MisrBatches.Split(files, 0.1);
        Assert.That(train.Intersect(test), Is.Empty);
        Assert.That(train.Count + test.Count, Is.EqualTo(500));
        Assert.That(test.Count, Is.InRange(30, 75));
        var (train2, test2) = MisrBatches.Split(files.Take(250), 0.1);
        Assert.That(test2, Is.SubsetOf(test), "a file's side does not depend on the other files");
    }

    [Test]
    public void SourcesTooSmallForTheCropAreAClearError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new MisrBatches(Directory.GetFiles(_root), new MisrSimulatorOptions { LrSize = 64 }, 1, 0.45f, 0.2f));
        Assert.That(e!.Message, Does.Contain("at least").And.Contain("192"));
    }

    [Test]
    public void TheRegistrationTapMovesEachFrameOntoTheReference()
    {
        // Without noise, blur, clouds or radiometry, a delta at RegistrationTap applied to frame k by the dynamic
        // convolution brings it closer to frame 0 than it was: the sign convention RegNet's targets rely on.
        var options = new MisrSimulatorOptions { MaxShift = 1, BlurSigma = 0.5, Noise = 0, GainSpread = 0, OffsetSpread = 0, CloudyFraction = 0, MissingFraction = 0, MaxHrCloudCover = 0 };
        var data = new MisrBatches(Directory.GetFiles(_root).Order().ToList(), options, seed: 11, mean: 0.45f, std: 0.2f);
        var batch = data.Batch(0, 2);
        int t = options.Frames, side = options.HrSize, hw = side * side, k = 9, improved = 0, checkedFrames = 0;
        using var backend = new ILGpuSat.Kernels.Cpu.CpuBackend();
        using var scope = new ILGpuSat.Engine.TensorScope();
        for (int i = 0; i < 2; i++)
        {
            var reference = batch.Frames.AsSpan(i * t * hw, hw).ToArray();
            for (int j = 1; j < t; j++)
            {
                var (dx, dy) = batch.ShiftsToReference[i][j];
                if (Math.Abs(dx) < 1 && Math.Abs(dy) < 1 || MisrBatches.RegistrationTap(dx, dy, k) is not var (row, col)) continue;
                var frame = batch.Frames.AsSpan((i * t + j) * hw, hw).ToArray();
                float[] Move(int r, int c)
                {
                    var filter = new float[k * k];
                    filter[r * k + c] = 1f;
                    return ILGpuSat.Engine.F.DynamicConv2d(ILGpuSat.Engine.Tensor.FromArray(frame, [1, 1, side, side], backend),
                        ILGpuSat.Engine.Tensor.FromArray(filter, [1, 1, k, k], backend), reflect: true).ToArray();
                }
                double Mse(float[] a) { double s = 0; int n = 0; for (int y = 6; y < side - 6; y++) for (int x = 6; x < side - 6; x++) { double d = a[y * side + x] - reference[y * side + x]; s += d * d; n++; } return s / n; }
                checkedFrames++;
                // Better than leaving the frame, and better than the mirrored tap (the opposite sign convention).
                if (Mse(Move(row, col)) < Mse(frame) && Mse(Move(row, col)) < Mse(Move(k - 1 - row, k - 1 - col))) improved++;
            }
        }
        Assert.That(checkedFrames, Is.GreaterThanOrEqualTo(4));
        Assert.That(improved, Is.EqualTo(checkedFrames), "every frame shifted by a pixel or more is brought onto the reference");
    }
}
