using System.Globalization;
using System.Text.RegularExpressions;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>One low-resolution look of a scene: its intensities in [0, 1] and its quality map (true = clear).</summary>
public sealed record ProbaVFrame(string Name, float[] Pixels, bool[] Clear)
{
    /// <summary>Clear pixels of this look: DeepSUM and the challenge baseline order frames by it.</summary>
    public int ClearCount => Clear.Count(c => c);
}

/// <summary>
/// One scene of the PROBA-V super-resolution archive (ESA Kelvins, 2019) in its own layout: a folder
/// <c>imgsetXXXX/</c> with <c>LR000.png</c>, <c>LR001.png</c>, ... (128 x 128, 16-bit PNG holding 14-bit values), one
/// quality map per look <c>QM000.png</c>, ... (clear where nonzero), and for the training scenes <c>HR.png</c> (384 x 384)
/// with its status map <c>SM.png</c>. Intensities are the stored value / 65535, as skimage's <c>img_as_float</c> reads
/// the PNGs in the challenge's own tools, so cPSNRs compare with the baselines of <c>norm.csv</c>.
/// </summary>
public sealed partial class ProbaVScene
{
    /// <summary>The divisor that maps a stored 16-bit sample to [0, 1] (skimage img_as_float for uint16).</summary>
    public const double SampleScale = 65535.0;

    private ProbaVScene(string folder, int lrWidth, int lrHeight, IReadOnlyList<ProbaVFrame> frames, float[]? hr, bool[]? status, int hrWidth, int hrHeight)
    {
        Folder = folder;
        LrWidth = lrWidth;
        LrHeight = lrHeight;
        Frames = frames;
        HighRes = hr;
        Status = status;
        HrWidth = hrWidth;
        HrHeight = hrHeight;
    }

    /// <summary>
    /// A scene in memory (a simulator's, or a caller's own looks): every look and mask lrWidth x lrHeight, the HR (when
    /// given) a whole multiple of it with a status map of its size.
    /// </summary>
    public static ProbaVScene Create(string name, int lrWidth, int lrHeight, IReadOnlyList<ProbaVFrame> frames,
                                     float[]? highRes = null, bool[]? status = null, int scale = 0)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (lrWidth < 1 || lrHeight < 1) throw new ArgumentException($"ProbaVScene {name}: looks must be at least 1x1, got {lrWidth}x{lrHeight}.");
        if (frames.Count == 0) throw new ArgumentException($"ProbaVScene {name}: no look.");
        foreach (var f in frames)
            if (f.Pixels.Length != lrWidth * lrHeight || f.Clear.Length != lrWidth * lrHeight)
                throw new ArgumentException($"ProbaVScene {name}: look {f.Name} holds {f.Pixels.Length} pixels and {f.Clear.Length} mask values, not {lrWidth}x{lrHeight}.");
        if ((highRes is null) != (status is null)) throw new ArgumentException($"ProbaVScene {name}: give the HR image and its status map together.");
        if (highRes is null) return new ProbaVScene(name, lrWidth, lrHeight, frames, null, null, 0, 0);
        long hrPixels = (long)lrWidth * scale * lrHeight * scale;
        if (scale < 1 || highRes.Length != hrPixels || status!.Length != hrPixels)
            throw new ArgumentException($"ProbaVScene {name}: the HR image and status map must be ({lrWidth} x {scale}) x ({lrHeight} x {scale}) pixels.");
        return new ProbaVScene(name, lrWidth, lrHeight, frames, highRes, status, lrWidth * scale, lrHeight * scale);
    }

    /// <summary>The scene's folder (for a scene made in memory, its name).</summary>
    public string Folder { get; }

    /// <summary>The folder's name (imgset0594): the key of norm.csv.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Folder));

    public int LrWidth { get; }

    public int LrHeight { get; }

    /// <summary>The looks in file order (LR000, LR001, ...).</summary>
    public IReadOnlyList<ProbaVFrame> Frames { get; }

    /// <summary>HR.png in [0, 1]; null for a test scene.</summary>
    public float[]? HighRes { get; }

    /// <summary>SM.png, true where the HR pixel is clear; null for a test scene.</summary>
    public bool[]? Status { get; }

    public int HrWidth { get; }

    public int HrHeight { get; }

    /// <summary>HR side over LR side (3 in the archive).</summary>
    public int Scale => HighRes is null ? 0 : HrWidth / LrWidth;

    /// <summary>The looks sorted by clear pixels, most first (ties in file order): the order DeepSUM and the baseline use.</summary>
    public IReadOnlyList<ProbaVFrame> ByClearPixels() => ClearestOrder().Select(i => Frames[i]).ToList();

    /// <summary>The looks' indices in <see cref="ByClearPixels"/> order (for data that follows the looks, such as known shifts).</summary>
    public int[] ClearestOrder() => Enumerable.Range(0, Frames.Count).OrderByDescending(i => Frames[i].ClearCount).ThenBy(i => i).ToArray();

    /// <summary>
    /// Reads a scene folder. Problems are an <see cref="ImageFormatException"/> naming the file: no LR looks, an LR
    /// without its quality map, looks or maps of different sizes, an HR without its status map (or the other way
    /// round), an HR that is not a whole multiple of the LR, fewer looks than <paramref name="minimumFrames"/>.
    /// </summary>
    public static ProbaVScene Load(string folder, int minimumFrames = 1)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"'{folder}': PROBA-V scene folder not found");
        var looks = Directory.GetFiles(folder)
            .Select(p => (Path: p, Match: LookName().Match(Path.GetFileName(p))))
            .Where(t => t.Match.Success)
            .Select(t => (t.Path, Index: int.Parse(t.Match.Groups[1].Value, CultureInfo.InvariantCulture)))
            .OrderBy(t => t.Index)
            .ToList();
        if (looks.Count == 0) throw new ImageFormatException(folder, "holds no LR look (LR000.png, LR001.png, ...): not a PROBA-V scene folder");
        if (looks.Count < minimumFrames)
            throw new ImageFormatException(folder, $"holds {looks.Count} LR look(s); at least {minimumFrames} are needed");

        var raw = new ReadOptions { Stretch = StretchMode.Raw };
        int w = 0, h = 0;
        var frames = new List<ProbaVFrame>();
        foreach (var (path, index) in looks)
        {
            string qm = Path.Combine(folder, $"QM{index:D3}.png");
            if (!File.Exists(qm)) throw new ImageFormatException(path, $"has no quality map ({Path.GetFileName(qm)} is missing)");
            var image = ReadGrey(path, raw);
            var mask = ReadGrey(qm, raw);
            if (frames.Count == 0) (w, h) = (image.Width, image.Height);
            CheckSize(path, image, w, h, Path.GetFileName(looks[0].Path));
            CheckSize(qm, mask, w, h, Path.GetFileName(looks[0].Path));
            frames.Add(new ProbaVFrame(Path.GetFileNameWithoutExtension(path), Scale01(image.Planes[0]), mask.Planes[0].Select(v => v != 0).ToArray()));
        }

        string hrPath = Path.Combine(folder, "HR.png"), smPath = Path.Combine(folder, "SM.png");
        bool hasHr = File.Exists(hrPath), hasSm = File.Exists(smPath);
        if (hasHr != hasSm)
            throw new ImageFormatException(hasHr ? hrPath : smPath, $"has no {(hasHr ? "status map SM.png" : "HR.png")} beside it");
        if (!hasHr) return new ProbaVScene(folder, w, h, frames, null, null, 0, 0);
        var hr = ReadGrey(hrPath, raw);
        var sm = ReadGrey(smPath, raw);
        CheckSize(smPath, sm, hr.Width, hr.Height, "HR.png");
        if (hr.Width % w != 0 || hr.Height % h != 0 || hr.Width / w != hr.Height / h)
            throw new ImageFormatException(hrPath, $"is {hr.Width}x{hr.Height}, not a whole multiple of the {w}x{h} looks");
        return new ProbaVScene(folder, w, h, frames, Scale01(hr.Planes[0]), sm.Planes[0].Select(v => v != 0).ToArray(), hr.Width, hr.Height);
    }

    /// <summary>
    /// The challenge's baseline cPSNR of each scene from <c>norm.csv</c> ("imgset0000 45.34", one per line, space or
    /// comma separated). A malformed line is an <see cref="InvalidDataException"/> naming the file and line.
    /// </summary>
    public static IReadOnlyDictionary<string, double> ReadBaselines(string path)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0))
                throw new InvalidDataException($"'{path}': line {line}: expected 'scene cPSNR' with a positive cPSNR, got '{text.Trim()}'.");
            if (!result.TryAdd(parts[0], v)) throw new InvalidDataException($"'{path}': line {line}: scene '{parts[0]}' is listed twice.");
        }
        return result;
    }

    private static RasterImage ReadGrey(string path, ReadOptions raw)
    {
        var image = ImageReader.Read(path, raw);
        if (image.Bands != 1) throw new ImageFormatException(path, $"has {image.Bands} bands; PROBA-V images and masks are single-band");
        return image;
    }

    private static void CheckSize(string path, RasterImage image, int w, int h, string reference)
    {
        if (image.Width != w || image.Height != h)
            throw new ImageFormatException(path, $"is {image.Width}x{image.Height}, but {reference} is {w}x{h}");
    }

    private static float[] Scale01(float[] raw) => raw.Select(v => (float)(v / SampleScale)).ToArray();

    [GeneratedRegex(@"^LR(\d{3,})\.png$", RegexOptions.IgnoreCase)]
    private static partial Regex LookName();
}
