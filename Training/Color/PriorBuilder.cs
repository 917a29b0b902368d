using System.Globalization;
using ILGpuSat.Training.Data;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Color;

/// <summary>Settings of <see cref="PriorBuilder.Run"/>.</summary>
public sealed record PriorBuildOptions
{
    /// <summary>Gaussian smoothing of the empirical prior, in ab units (Zhang: 5).</summary>
    public double Sigma { get; init; } = ColorPrior.DefaultSigma;

    /// <summary>Weight of the uniform distribution in the rebalancing (Zhang: 0.5).</summary>
    public double Lambda { get; init; } = ColorPrior.DefaultLambda;

    /// <summary>Use every n-th pixel in each direction (1 = all); for quick priors of big images.</summary>
    public int PixelStride { get; init; } = 1;

    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Panel title of the input images' prior in the figure.</summary>
    public string DataTitle { get; init; } = "Satellite";

    /// <summary>Throw on an unreadable image instead of skipping and counting it.</summary>
    public bool FailOnUnreadable { get; init; }

    public int ReportedFailures { get; init; } = 5;
}

/// <summary>Progress of a prior build: images finished so far, of how many, and the last one.</summary>
public readonly record struct PriorProgress(int Done, int Total, string File);

/// <summary>What <see cref="PriorBuilder.Run"/> computed and wrote.</summary>
public sealed record PriorResult(
    ColorPrior DataPrior,
    ColorPrior FusedPrior,
    double[] Weights,
    long Pixels,
    int Images,
    int Skipped,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> Files);

/// <summary>
/// The logic of <c>ilgpusat prior DIR...</c>: the colour prior of a set of images (hard nearest-bin
/// histogram of every pixel's a*b*, smoothed), fused with Zhang's ImageNet prior, the class
/// rebalancing weights of the fused prior, and a figure of the three distributions.
/// </summary>
public static class PriorBuilder
{
    /// <summary>
    /// Builds and writes, for <paramref name="outputPrefix"/> P: P_prior.npy/.txt (the fused prior to
    /// train with), P_data_prior.npy/.txt (smoothed prior of the inputs alone), P_weights.npy/.txt
    /// (rebalancing weights, E_prior[w] = 1) and P_prior.png (ImageNet | inputs | fused).
    /// <paramref name="mix"/> is the weight of the ImageNet prior in the fusion (0 = inputs only).
    /// <paramref name="progress"/> is called after each image, one call at a time, from worker threads.
    /// </summary>
    public static PriorResult Run(IReadOnlyList<string> inputs, string outputPrefix, double mix = ColorPrior.DefaultImageNetWeight,
                                  PriorBuildOptions? options = null, Action<PriorProgress>? progress = null,
                                  CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPrefix);
        options ??= new PriorBuildOptions();
        if (!(mix >= 0 && mix <= 1)) throw new ArgumentOutOfRangeException(nameof(mix), $"PriorBuilder: mix (ImageNet weight) must be in [0, 1], got {mix}.");
        if (options.PixelStride < 1) throw new ArgumentOutOfRangeException(nameof(options), $"PriorBuilder: PixelStride must be >= 1, got {options.PixelStride}.");

        var files = ImageCatalog.ListImageFiles(inputs);
        if (files.Count == 0) throw new ArgumentException($"PriorBuilder: no image files (.jpg, .jpeg, .png, .tif, .tiff) in {string.Join(", ", inputs)}.");

        var total = new BinHistogram();
        var failures = new List<string>();
        int done = 0, skipped = 0, used = 0;
        var progressLock = new object();
        Parallel.ForEach(files,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Workers), CancellationToken = cancellationToken },
            () => new BinHistogram(),
            (file, _, local) =>
            {
                string? problem = CountImage(file, options.PixelStride, local, options.FailOnUnreadable);
                lock (progressLock)
                {
                    done++;
                    if (problem is null) used++;
                    else
                    {
                        skipped++;
                        if (failures.Count < options.ReportedFailures) failures.Add($"{file}: {problem}");
                    }
                    progress?.Invoke(new PriorProgress(done, files.Count, file));
                }
                return local;
            },
            local => { lock (total) total.Merge(local); });

        if (total.Total == 0)
            throw new InvalidOperationException($"PriorBuilder: no usable pixels ({skipped} of {files.Count} images skipped; first: {string.Join("; ", failures)}).");

        var data = ColorPrior.FromHistogram(total).Smooth(options.Sigma);
        var fused = data.FuseWith(ColorPrior.ImageNet, mix);
        var weights = fused.RebalancingWeights(options.Lambda);

        var written = new List<string>();
        string dir = Path.GetDirectoryName(Path.GetFullPath(outputPrefix))!;
        Directory.CreateDirectory(dir);
        void Save(string suffix, ReadOnlySpan<double> values)
        {
            foreach (var ext in new[] { ".npy", ".txt" })
            {
                string path = outputPrefix + suffix + ext;
                PriorFiles.SaveValues(path, values);
                written.Add(path);
            }
        }
        Save("_prior", fused.Probabilities);
        Save("_data_prior", data.Probabilities);
        Save("_weights", weights);
        string png = outputPrefix + "_prior.png";
        string fusedTitle = $"Fused {mix.ToString("0.##", CultureInfo.InvariantCulture)} ImageNet";
        PriorHeatMap.Write(png, [("ImageNet", ColorPrior.ImageNet), (options.DataTitle, data), (fusedTitle, fused)]);
        written.Add(png);
        return new PriorResult(data, fused, weights, total.Total, used, skipped, failures, written);
    }

    // Adds the image's (subsampled) pixels to the histogram; returns why it was skipped, or null.
    private static string? CountImage(string file, int stride, BinHistogram histogram, bool failOnUnreadable)
    {
        RasterImage image;
        try
        {
            image = ImageReader.Read(file);
        }
        catch (Exception e) when (!failOnUnreadable && e is ImageFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return e.Message;
        }
        if (image.Bands < 3) return $"{image.Bands} band(s), need RGB";
        int w = (image.Width + stride - 1) / stride;
        var (r, g, b) = (new float[w], new float[w], new float[w]);
        var (l, a, bb) = (new float[w], new float[w], new float[w]);
        for (int y = 0; y < image.Height; y += stride)
        {
            int row = y * image.Width;
            for (int x = 0, i = 0; x < image.Width; x += stride, i++)
            {
                r[i] = image.Planes[0][row + x];
                g[i] = image.Planes[1][row + x];
                b[i] = image.Planes[2][row + x];
            }
            Lab.RgbToLab(r, g, b, l, a, bb);
            histogram.Add(a, bb);
        }
        return null;
    }
}
