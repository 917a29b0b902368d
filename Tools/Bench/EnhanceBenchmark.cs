using System.Diagnostics;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference;

namespace ILGpuSat.Tools.Bench;

/// <summary>One timed input size on one backend.</summary>
/// <param name="RunsMs">Every timed run, in order; <see cref="Ms"/> is their median.</param>
/// <param name="PeakBytes">The backend's peak bytes in use (tensor storage) over the timed runs.</param>
public sealed record EnhanceBenchRow(string Name, string Device, int Width, int Height, double Ms, IReadOnlyList<double> RunsMs, long PeakBytes);

/// <summary>
/// Times <see cref="Enhancer.Enhance"/> (the whole pipeline: L*, tiles, network, colour, blend, sRGB) on synthetic
/// grey inputs. One untimed warm-up on the first (smallest) size; each size then runs until <c>seconds</c> have
/// passed, at least once and at most <c>maxRuns</c> times, so a 2048x2048 input (an 8192x8192 output) costs one run.
/// </summary>
public static class EnhanceBenchmark
{
    /// <summary>A deterministic textured grey image: the network's cost does not depend on content, the colour head's softmax barely.</summary>
    public static RasterImage SyntheticInput(int side)
    {
        var grey = new float[side * side];
        var rng = new Random(side);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                grey[y * side + x] = (float)Math.Clamp(0.5 + 0.25 * Math.Sin(x * 0.13) * Math.Cos(y * 0.07) + 0.1 * (rng.NextDouble() - 0.5), 0, 1);
        return new RasterImage(side, side, [grey]);
    }

    public static IReadOnlyList<EnhanceBenchRow> Run(Enhancer enhancer, Kernels.Backend backend, IReadOnlyList<RasterImage> inputs,
        double seconds, int maxRuns, Action<string>? status = null)
    {
        var rows = new List<EnhanceBenchRow>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            string name = $"enhance {input.Width}x{input.Height}";
            if (i == 0)
            {
                status?.Invoke($"{name} on {backend.Name}: warm-up");
                enhancer.Enhance(input);
            }
            backend.Synchronize();
            backend.ResetPeakBytesInUse();
            var runs = new List<double>();
            var total = Stopwatch.StartNew();
            while (runs.Count < Math.Max(1, maxRuns) && (runs.Count == 0 || total.Elapsed.TotalSeconds < seconds))
            {
                status?.Invoke($"{name} on {backend.Name}: run {runs.Count + 1}");
                var clock = Stopwatch.StartNew();
                enhancer.Enhance(input);
                backend.Synchronize();
                runs.Add(clock.Elapsed.TotalMilliseconds);
            }
            var sorted = runs.Order().ToList();
            double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
            rows.Add(new EnhanceBenchRow(name, backend.Name, input.Width, input.Height, median, runs, backend.PeakBytesInUse));
        }
        return rows;
    }
}
