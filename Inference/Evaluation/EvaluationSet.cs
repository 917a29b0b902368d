using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// One test image made ready for every method: the HR colour truth (cropped to a multiple of the scale so the
/// LR image is exactly 1/scale), its grey version (sRGB grey of its CIE L*, the picture a grey sensor would give
/// and what the networks are trained to reproduce) and the LR input: MATLAB-style antialiased bicubic /scale of
/// that grey image, as the training data are made (docs/evaluation.md).
/// </summary>
public sealed record EvaluationCase(string File, string Class, RasterImage Truth, float[] TruthGrey, RasterImage LowResolution)
{
    public int Width => Truth.Width;
    public int Height => Truth.Height;
    public string Name => Path.GetFileNameWithoutExtension(File);
}

/// <summary>
/// A folder of HR colour images, optionally in class subfolders (RSSCN7, AID): images directly in the folder form
/// the class named by <see cref="RootClass"/>, each subfolder (searched recursively) a class of its own name.
/// </summary>
public static class EvaluationSet
{
    public const string RootClass = "(root)";

    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".tif", ".tiff" };

    /// <summary>(file, class) pairs in ordinal path order; at most <paramref name="perClass"/> files of each class when positive.</summary>
    public static IReadOnlyList<(string File, string Class)> List(string folder, int perClass = 0)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder of evaluation images.");
        var found = new List<(string, string)>();
        foreach (var f in Directory.EnumerateFiles(folder).Where(IsImage).Order(StringComparer.Ordinal).Take(perClass > 0 ? perClass : int.MaxValue))
            found.Add((Path.GetFullPath(f), RootClass));
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(IsImage).Order(StringComparer.Ordinal);
            foreach (var f in files.Take(perClass > 0 ? perClass : int.MaxValue)) found.Add((Path.GetFullPath(f), Path.GetFileName(dir)));
        }
        if (found.Count == 0)
            throw new InvalidDataException($"{folder}: holds no image ({string.Join(", ", ImageExtensions.Order())}), directly or in class subfolders.");
        return found;
    }

    /// <summary>Reads and prepares every listed image; a file that is not a colour image of at least
    /// <paramref name="minSide"/> pixels a side is an <see cref="InvalidDataException"/> naming it.</summary>
    public static IReadOnlyList<EvaluationCase> Load(string folder, int scale = 4, int perClass = 0, int minSide = 8)
        => List(folder, perClass).Select(fc => Prepare(fc.File, fc.Class, ImageReader.Read(fc.File), scale, minSide)).ToList();

    /// <summary>Crops <paramref name="image"/> (top-left anchored) to multiples of <paramref name="scale"/> and makes its grey truth and LR input.</summary>
    public static EvaluationCase Prepare(string file, string @class, RasterImage image, int scale = 4, int minSide = 8)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (scale < 1) throw new ArgumentException($"scale must be positive, got {scale}");
        if (image.Bands < 3)
            throw new InvalidDataException($"{file}: has {image.Bands} band(s); evaluation needs an RGB ground truth (colour metrics compare against it).");
        int w = image.Width / scale * scale, h = image.Height / scale * scale;
        if (w < Math.Max(minSide, scale) || h < Math.Max(minSide, scale))
            throw new InvalidDataException($"{file}: {image.Width}x{image.Height} is too small to evaluate (at least {Math.Max(minSide, scale)} pixels a side after cropping to a multiple of {scale}).");
        var rgb = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            rgb[c] = new float[w * h];
            for (int y = 0; y < h; y++) image.Planes[c].AsSpan(y * image.Width, w).CopyTo(rgb[c].AsSpan(y * w, w));
        }
        var truth = new RasterImage(w, h, rgb);
        var grey = GreyOf(rgb[0], rgb[1], rgb[2]);
        var low = Resampler.Resize(grey, w, h, w / scale, h / scale, ResampleKernel.Bicubic, antialias: true);
        for (int i = 0; i < low.Length; i++) low[i] = Math.Clamp(low[i], 0f, 1f);
        return new EvaluationCase(file, @class, truth, grey, new RasterImage(w / scale, h / scale, [low]));
    }

    /// <summary>The sRGB grey value (0..1) with the colour's CIE L*: Lab (L*, 0, 0) back to sRGB, whose channels are equal.</summary>
    public static float[] GreyOf(float[] r, float[] g, float[] b)
    {
        int n = r.Length;
        var l = new float[n];
        Lab.RgbToL(r, g, b, l);
        return GreyFromL(l);
    }

    /// <summary>L* (0..100) to the sRGB grey of that lightness (0..1).</summary>
    public static float[] GreyFromL(float[] l)
    {
        int n = l.Length;
        var grey = new float[n];
        var zero = new float[n];
        var g2 = new float[n];
        var b2 = new float[n];
        Lab.LabToRgb(l, zero, zero, grey, g2, b2);
        return grey;
    }

    static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path));
}
