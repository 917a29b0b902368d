using System.Globalization;
using BitMiracle.LibTiff.Classic;
using ILGpuSat.Common;

namespace ILGpuSat.Imaging.Imagery;

public enum ImageFileFormat { Auto, Png, Jpeg, Tiff }

public enum TiffCompressionKind { None, Lzw, Deflate }

/// <summary>Options for <see cref="ImageWriter.Write"/>.</summary>
public sealed record WriteOptions
{
    /// <summary>Auto picks the format from the extension (.png, .jpg/.jpeg, .tif/.tiff).</summary>
    public ImageFileFormat Format { get; init; } = ImageFileFormat.Auto;
    /// <summary>JPEG quality 1..100.</summary>
    public int JpegQuality { get; init; } = 95;
    /// <summary>Sample depth of PNG and TIFF output: 8 or 16 (unsigned). JPEG is always 8-bit.</summary>
    public int BitDepth { get; init; } = 8;
    public TiffCompressionKind TiffCompression { get; init; } = TiffCompressionKind.Deflate;
    /// <summary>Write TIFF tiles (<see cref="TileSize"/> square) instead of strips.</summary>
    public bool Tiled { get; init; }
    public int TileSize { get; init; } = 256;
    /// <summary>Planar (band-sequential) TIFF instead of chunky (pixel-interleaved).</summary>
    public bool Planar { get; init; }
    /// <summary>For a 16-bit TIFF of a stretched image: map 0..1 back through <see cref="RasterImage.Stretch"/>
    /// to source units instead of spreading 0..1 over 0..65535.</summary>
    public bool RestoreSourceRange { get; init; }
    /// <summary>Georeference to write; null uses the image's own <see cref="RasterImage.Geo"/>.</summary>
    public GeoReference? Geo { get; init; }

    public static WriteOptions Default { get; } = new();
}

/// <summary>
/// Writes <see cref="RasterImage"/> planes (0..1) as PNG (8 or 16 bits), JPEG (8 bits) or (Geo)TIFF (8 or 16
/// bits). Only TIFF carries the georeference and the nodata mask (as GDAL_NODATA, see <see cref="NoDataRule"/>);
/// PNG (1-4 bands) and JPEG (grey or RGB, alpha ignored) carry pixels only. Every format is written through
/// <see cref="AtomicFile"/>: a temporary in the destination folder renamed over the target only when complete,
/// so a failure or a kill never leaves a half-written image under the real name nor loses the old one, and no
/// temporary is left behind. Failures are an <see cref="ImageFormatException"/> (the image cannot be written
/// in that format) or an <see cref="IOException"/> (the file system refused: disk full, a directory, no
/// permission), each one sentence naming the file.
/// </summary>
public static class ImageWriter
{
    /// <summary>Test seam: wraps the stream each image is written to (e.g. to simulate a full disk).</summary>
    internal static Func<Stream, Stream>? StreamWrapper { get; set; }

    public static void Write(string path, RasterImage image, WriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(image);
        options ??= WriteOptions.Default;
        var format = options.Format == ImageFileFormat.Auto ? FormatFromExtension(path) : options.Format;
        Validate(path, image, format, options);
        string name = format switch { ImageFileFormat.Png => "PNG", ImageFileFormat.Jpeg => "JPEG", _ => "TIFF" };
        try
        {
            AtomicFile.Write(path, file =>
            {
                var stream = StreamWrapper?.Invoke(file) ?? file;
                switch (format)
                {
                    case ImageFileFormat.Png: PngJpegCodec.Write(stream, image, options, jpeg: false); break;
                    case ImageFileFormat.Jpeg: PngJpegCodec.Write(stream, image, options, jpeg: true); break;
                    default: WriteTiff(stream, path, image, options); break;
                }
                stream.Flush();
            });
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new IOException($"'{path}': cannot write the {name}: {Describe(e)}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"'{path}': cannot write the {name}: permission denied ({e.Message})", e);
        }
    }

    /// <summary>The file system's reason in words a user acts on.</summary>
    static string Describe(IOException e) => IsDiskFull(e) ? "disk full (no space left on the device)" : e.Message;

    /// <summary>ENOSPC (28) on Unix, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    internal static bool IsDiskFull(Exception e) =>
        e.HResult == 28 || (e.HResult & 0xFFFF) is 0x70 or 0x27 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    /// <summary>The format <see cref="Write"/> picks for <paramref name="path"/> (by its extension); unknown extensions throw.</summary>
    public static ImageFileFormat FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => ImageFileFormat.Png,
        ".jpg" or ".jpeg" => ImageFileFormat.Jpeg,
        ".tif" or ".tiff" => ImageFileFormat.Tiff,
        var e => throw new ImageFormatException(path, $"cannot choose an output format from extension '{e}' (use .png, .jpg, .tif or WriteOptions.Format)"),
    };

    static void Validate(string path, RasterImage image, ImageFileFormat format, WriteOptions o)
    {
        if (format is ImageFileFormat.Png or ImageFileFormat.Jpeg && image.Bands > 4)
            throw new ImageFormatException(path, $"{format} holds at most 4 bands, the image has {image.Bands}; select bands or write a TIFF");
        if (format == ImageFileFormat.Jpeg && (o.JpegQuality < 1 || o.JpegQuality > 100))
            throw new ArgumentException($"ImageWriter.Write('{path}'): JPEG quality must be 1..100, got {o.JpegQuality}");
        if (o.BitDepth is not (8 or 16))
            throw new ArgumentException($"ImageWriter.Write('{path}'): bit depth must be 8 or 16, got {o.BitDepth}");
        if (format == ImageFileFormat.Tiff && o.Tiled && (o.TileSize <= 0 || o.TileSize % 16 != 0))
            throw new ArgumentException($"ImageWriter.Write('{path}'): TIFF tile size must be a positive multiple of 16, got {o.TileSize}");
    }

    static void WriteTiff(Stream stream, string finalPath, RasterImage image, WriteOptions o)
    {
        GeoTiffTags.EnsureRegistered();
        using var log = LibTiffErrors.Capture();
        int w = image.Width, h = image.Height, c = image.Bands, bps = o.BitDepth / 8;
        var geo = o.Geo ?? image.Geo;
        var (samples, noData) = NoDataRule.Quantise(image, o.BitDepth, o.RestoreSourceRange, geo?.GdalNoData);
        string? noDataTag = noData?.ToString(CultureInfo.InvariantCulture);
        if (geo is not null || noDataTag is not null) geo = (geo ?? new GeoReference()) with { GdalNoData = noDataTag };

        // LibTiff swallows the stream's exceptions and reports "Write error"; the stream keeps the real one.
        var tiffStream = new FailureRecordingTiffStream();
        using (Tiff? tif = Tiff.ClientOpen(finalPath, "w", stream, tiffStream))
        {
            if (tif is null) throw new ImageFormatException(finalPath, $"cannot create TIFF: {log.Describe()}");
            tif.SetField(TiffTag.IMAGEWIDTH, w);
            tif.SetField(TiffTag.IMAGELENGTH, h);
            tif.SetField(TiffTag.SAMPLESPERPIXEL, c);
            tif.SetField(TiffTag.BITSPERSAMPLE, o.BitDepth);
            tif.SetField(TiffTag.SAMPLEFORMAT, SampleFormat.UINT);
            tif.SetField(TiffTag.ORIENTATION, Orientation.TOPLEFT);
            bool rgb = c == 3 || c == 4;
            tif.SetField(TiffTag.PHOTOMETRIC, rgb ? Photometric.RGB : Photometric.MINISBLACK);
            int extra = c - (rgb ? 3 : 1);
            if (extra > 0)
            {
                var kinds = new short[extra];
                if (c == 2 || c == 4) kinds[0] = (short)ExtraSample.UNASSALPHA; // others unspecified (multispectral)
                tif.SetField(TiffTag.EXTRASAMPLES, extra, kinds);
            }
            var planar = o.Planar ? PlanarConfig.SEPARATE : PlanarConfig.CONTIG;
            tif.SetField(TiffTag.PLANARCONFIG, planar);
            tif.SetField(TiffTag.COMPRESSION, o.TiffCompression switch
            {
                TiffCompressionKind.Lzw => Compression.LZW,
                TiffCompressionKind.Deflate => Compression.ADOBE_DEFLATE,
                _ => Compression.NONE,
            });
            if (geo is not null) GeoTiffTags.Write(tif, geo);

            int chunkSpp = o.Planar ? 1 : c;
            if (o.Tiled)
            {
                int ts = o.TileSize;
                tif.SetField(TiffTag.TILEWIDTH, ts);
                tif.SetField(TiffTag.TILELENGTH, ts);
                var buf = new byte[(long)ts * ts * chunkSpp * bps];
                for (int plane = 0; plane < (o.Planar ? c : 1); plane++)
                for (int ty = 0; ty < h; ty += ts)
                for (int tx = 0; tx < w; tx += ts)
                {
                    Array.Clear(buf);
                    Pack(samples, w, c, bps, o.Planar ? plane : -1, tx, ty, Math.Min(ts, w - tx), Math.Min(ts, h - ty), ts, buf);
                    if (tif.WriteEncodedTile(tif.ComputeTile(tx, ty, 0, (short)plane), buf, buf.Length) < 0)
                        Fail(finalPath, tiffStream, log, "tile");
                }
            }
            else
            {
                int rowBytes = w * chunkSpp * bps;
                int rps = Math.Clamp((1 << 16) / Math.Max(rowBytes, 1), 1, h);
                tif.SetField(TiffTag.ROWSPERSTRIP, rps);
                var buf = new byte[(long)rps * rowBytes];
                int stripsPerPlane = (h + rps - 1) / rps;
                for (int plane = 0; plane < (o.Planar ? c : 1); plane++)
                for (int s = 0; s < stripsPerPlane; s++)
                {
                    int rows = Math.Min(rps, h - s * rps);
                    Pack(samples, w, c, bps, o.Planar ? plane : -1, 0, s * rps, w, rows, w, buf);
                    if (tif.WriteEncodedStrip(plane * stripsPerPlane + s, buf, rows * rowBytes) < 0)
                        Fail(finalPath, tiffStream, log, "strip");
                }
            }
            if (!tif.WriteDirectory() || log.HasErrors || tiffStream.Failure is not null)
                Fail(finalPath, tiffStream, log, "directory");
        }
        if (tiffStream.Failure is not null) Fail(finalPath, tiffStream, log, "data");
    }

    /// <summary>A failed LibTiff write: the file system's own exception when there is one (disk full...), else LibTiff's words.</summary>
    static void Fail(string path, FailureRecordingTiffStream stream, LibTiffErrors.Scope log, string what)
    {
        if (stream.Failure is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        throw new ImageFormatException(path, $"LibTiff cannot write the TIFF {what}: {log.Describe()}");
    }

    /// <summary>LibTiff's default stream over the caller's <see cref="Stream"/>, remembering the first write failure.</summary>
    sealed class FailureRecordingTiffStream : TiffStream
    {
        public Exception? Failure { get; private set; }

        public override void Write(object clientData, byte[] buffer, int offset, int count)
        {
            try { base.Write(clientData, buffer, offset, count); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Failure ??= e; throw; }
        }

        // The caller owns (and disposes) the stream; LibTiff must not close it before it is flushed.
        public override void Close(object clientData) { }
    }

    /// <summary>Copies a cols x rows window at (x0, y0) into a chunk buffer with <paramref name="chunkWidth"/> samples per row.</summary>
    static void Pack(ushort[][] samples, int width, int bands, int bps, int plane, int x0, int y0, int cols, int rows, int chunkWidth, byte[] buf)
    {
        int spp = plane >= 0 ? 1 : bands;
        for (int r = 0; r < rows; r++)
        for (int x = 0; x < cols; x++)
        {
            int src = (y0 + r) * width + x0 + x;
            int dst = (r * chunkWidth + x) * spp;
            for (int k = 0; k < spp; k++)
            {
                ushort v = samples[plane >= 0 ? plane : k][src];
                if (bps == 1) buf[dst + k] = (byte)v;
                else { buf[2 * (dst + k)] = (byte)v; buf[2 * (dst + k) + 1] = (byte)(v >> 8); } // native little-endian file
            }
        }
    }
}
