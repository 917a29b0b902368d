namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// A folder of co-registered GeoTIFF (or TIFF/PNG) looks of one area on one grid, read as a multi-image SR scene:
/// every <c>NAME.tif</c> in the folder (not its subfolders) is a look, in name order; an optional
/// <c>NAME_mask.tif</c> (or <c>NAME_mask.png</c>) beside it is its quality map, clear where nonzero, as PROBA-V's
/// QM files; nodata pixels (the file's GDAL_NODATA) are not clear either. Samples are read at full range (8-bit / 255,
/// 16-bit / 65535, floats taken as 0..1), so the SR can be written back in the looks' own units and depth.
/// Problems are an <see cref="ImageFormatException"/> naming the file: looks of different sizes, depths or grids
/// (georeference), a mask of another size, a look without the chosen band, a folder with no look.
/// </summary>
public sealed class CoRegisteredLooks
{
    private static readonly string[] LookExtensions = [".tif", ".tiff", ".png"];

    private CoRegisteredLooks(ProbaVScene scene, GeoReference? geo, int bitDepth, bool hasNoData)
    {
        Scene = scene;
        Geo = geo;
        BitDepth = bitDepth;
        HasNoData = hasNoData;
    }

    /// <summary>The looks as a scene (no HR), named after the folder.</summary>
    public ProbaVScene Scene { get; }

    /// <summary>The looks' common georeference (null when they carry none).</summary>
    public GeoReference? Geo { get; }

    /// <summary>Bits per sample of the looks: 8, or 16 for anything deeper (floats included).</summary>
    public int BitDepth { get; }

    /// <summary>True when a look declared nodata: the SR keeps nodata where no look is clear.</summary>
    public bool HasNoData { get; }

    /// <summary>True when the folder holds a look file that is not a mask (how <c>ilgpusat misr</c> tells this layout).</summary>
    public static bool IsLookFolder(string folder) => Directory.Exists(folder) && LookFiles(folder).Count > 0;

    /// <summary>Reads the looks of <paramref name="folder"/>, band <paramref name="band"/> (1-based) of each.</summary>
    public static CoRegisteredLooks Load(string folder, int band = 1, int minimumLooks = 1)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"'{folder}': folder of looks not found");
        if (band < 1) throw new ArgumentException($"CoRegisteredLooks: band must be 1 or more, got {band}.");
        var files = LookFiles(folder);
        if (files.Count == 0) throw new ImageFormatException(folder, "holds no look (NAME.tif, NAME.png; NAME_mask.* are masks)");
        if (files.Count < minimumLooks) throw new ImageFormatException(folder, $"holds {files.Count} look(s); at least {minimumLooks} are needed");

        var read = new ReadOptions { Stretch = StretchMode.FullRange, Bands = [band] };
        var frames = new List<ProbaVFrame>();
        RasterImage? first = null;
        bool noData = false;
        foreach (var path in files)
        {
            var look = ImageReader.Read(path, read);
            if (first is null) first = look;
            else
            {
                if (look.Width != first.Width || look.Height != first.Height)
                    throw new ImageFormatException(path, $"is {look.Width}x{look.Height}, but {Path.GetFileName(files[0])} is {first.Width}x{first.Height}: the looks must share one grid");
                if (Depth(look) != Depth(first))
                    throw new ImageFormatException(path, $"holds {look.SourceBitDepth}-bit samples, but {Path.GetFileName(files[0])} holds {first.SourceBitDepth}-bit ones");
                if (!SameGrid(look.Geo, first.Geo))
                    throw new ImageFormatException(path, $"is not on the grid of {Path.GetFileName(files[0])} (its georeference differs); co-register the looks first (e.g. gdalwarp to one grid)");
            }
            noData |= look.Valid is not null;
            var clear = look.Valid is { } valid ? (bool[])valid.Clone() : Enumerable.Repeat(true, look.Width * look.Height).ToArray();
            if (MaskOf(path) is { } maskPath)
            {
                var mask = ImageReader.Read(maskPath, new ReadOptions { Stretch = StretchMode.Raw, Bands = [1] });
                if (mask.Width != look.Width || mask.Height != look.Height)
                    throw new ImageFormatException(maskPath, $"is {mask.Width}x{mask.Height}, but its look {Path.GetFileName(path)} is {look.Width}x{look.Height}");
                for (int i = 0; i < clear.Length; i++) clear[i] &= mask.Planes[0][i] != 0;
            }
            frames.Add(new ProbaVFrame(Path.GetFileNameWithoutExtension(path), look.Planes[0], clear));
        }
        var scene = ProbaVScene.Create(Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), first!.Width, first.Height, frames);
        return new CoRegisteredLooks(scene, first.Geo, Depth(first), noData);
    }

    private static int Depth(RasterImage image) => image.SourceBitDepth > 8 ? 16 : 8;

    private static List<string> LookFiles(string folder)
        => Directory.GetFiles(folder)
            .Where(p => LookExtensions.Contains(Path.GetExtension(p).ToLowerInvariant()) && !IsMask(p))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static bool IsMask(string path) => Path.GetFileNameWithoutExtension(path).EndsWith("_mask", StringComparison.OrdinalIgnoreCase);

    private static string? MaskOf(string look)
    {
        string stem = Path.Combine(Path.GetDirectoryName(look)!, Path.GetFileNameWithoutExtension(look) + "_mask");
        return LookExtensions.Select(e => stem + e).FirstOrDefault(File.Exists);
    }

    // One grid: both without a georeference, or the same raster-to-model mapping (corners and pixel size) and CRS.
    private static bool SameGrid(GeoReference? a, GeoReference? b)
    {
        if (a is null || !a.HasGeoTransform) return b is null || !b.HasGeoTransform;
        if (b is null || !b.HasGeoTransform) return false;
        foreach (var (col, row) in new[] { (0.0, 0.0), (1.0, 0.0), (0.0, 1.0) })
        {
            var (ax, ay) = a.RasterToModel(col, row);
            var (bx, by) = b.RasterToModel(col, row);
            double tolerance = 1e-6 * Math.Max(1.0, Math.Max(Math.Abs(ax), Math.Abs(ay)));
            if (Math.Abs(ax - bx) > tolerance || Math.Abs(ay - by) > tolerance) return false;
        }
        return (a.GeoKeyDirectory ?? []).SequenceEqual(b.GeoKeyDirectory ?? []);
    }
}
