using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Data;

/// <summary>One usable image of a catalog with its size and patch count.</summary>
public sealed record CatalogEntry(string Path, int Width, int Height, int Patches);

/// <summary>
/// The images under a list of folders/files (recursively, sorted by ordinal path so every run sees
/// the same order), with their sizes read from the headers. Images too small for one patch and
/// files whose header cannot be read are skipped and counted (or, with failOnUnreadable, an
/// unreadable file throws).
/// </summary>
public sealed class ImageCatalog
{
    /// <summary>File extensions taken as images (case-insensitive).</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".tif", ".tiff" };

    private ImageCatalog(IReadOnlyList<CatalogEntry> images, int tooSmall, int unreadable, IReadOnlyList<string> failures)
    {
        Images = images;
        SkippedTooSmall = tooSmall;
        SkippedUnreadable = unreadable;
        Failures = failures;
    }

    public IReadOnlyList<CatalogEntry> Images { get; }

    /// <summary>Images smaller than one patch in either dimension.</summary>
    public int SkippedTooSmall { get; }

    /// <summary>Files whose header could not be read.</summary>
    public int SkippedUnreadable { get; }

    /// <summary>The first few unreadable files as "path: reason".</summary>
    public IReadOnlyList<string> Failures { get; }

    public long TotalPatches => Images.Sum(e => (long)e.Patches);

    /// <summary>All image files under the inputs (folders are searched recursively), sorted, without duplicates.</summary>
    public static IReadOnlyList<string> ListImageFiles(IEnumerable<string> inputs)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                foreach (var f in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories))
                    if (ImageExtensions.Contains(System.IO.Path.GetExtension(f))) files.Add(System.IO.Path.GetFullPath(f));
            }
            else if (File.Exists(input)) files.Add(System.IO.Path.GetFullPath(input));
            else throw new DirectoryNotFoundException($"ImageCatalog: input '{input}' is neither a folder nor a file.");
        }
        return files.ToList();
    }

    /// <summary>Indexes the inputs; header reads run on up to <paramref name="workers"/> threads.</summary>
    public static ImageCatalog Build(IEnumerable<string> inputs, int patchSize, int stride, bool failOnUnreadable = false,
                                     int maxReportedFailures = 5, int workers = 2, CancellationToken cancellationToken = default)
    {
        var files = ListImageFiles(inputs);
        var sizes = new (int W, int H, string? Error)[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers), CancellationToken = cancellationToken },
            i => sizes[i] = ReadSize(files[i]));
        var images = new List<CatalogEntry>();
        var failures = new List<string>();
        int tooSmall = 0, unreadable = 0;
        for (int i = 0; i < files.Count; i++)
        {
            var (w, h, error) = sizes[i];
            if (error is not null)
            {
                if (failOnUnreadable) throw new ImageFormatException(files[i], $"cannot read the image header: {error}");
                unreadable++;
                if (failures.Count < maxReportedFailures) failures.Add($"{files[i]}: {error}");
                continue;
            }
            int patches = PatchGrid.Count(w, h, patchSize, stride);
            if (patches == 0) { tooSmall++; continue; }
            images.Add(new CatalogEntry(files[i], w, h, patches));
        }
        return new ImageCatalog(images, tooSmall, unreadable, failures);
    }

    // Sizes from the headers where the format allows it (ImageReader.ReadSize).
    private static (int, int, string?) ReadSize(string path)
    {
        try
        {
            var (w, h) = ImageReader.ReadSize(path);
            return (w, h, null);
        }
        catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return (0, 0, e.Message);
        }
    }
}
