using System.Globalization;
using BitMiracle.LibTiff.Classic;

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
/// Writes <see cref="RasterImage"/> planes (0..1) as PNG, JPEG or (Geo)TIFF, rounded to 8 (or, for PNG and TIFF, 16) bits.
/// Only TIFF carries the georeference and the nodata mask (as GDAL_NODATA); PNG (1-4 bands) and JPEG
/// (grey or RGB, alpha ignored) carry pixels only (see <see cref="PngJpegCodec"/>). Output goes to a temporary file in
/// the destination folder that is renamed over the target only when complete, so a crash never leaves a
/// half-written image under the real name.
/// </summary>
public static class ImageWriter
{
    public static void Write(string path, RasterImage image, WriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(image);
        options ??= WriteOptions.Default;
        var format = options.Format == ImageFileFormat.Auto ? FromExtension(path) : options.Format;
        Validate(path, image, format, options);

        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            switch (format)
            {
                case ImageFileFormat.Png: PngJpegCodec.Write(temp, image, options, jpeg: false); break;
                case ImageFileFormat.Jpeg: PngJpegCodec.Write(temp, image, options, jpeg: true); break;
                default: WriteTiff(temp, full, image, options); break;
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static ImageFileFormat FromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
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

    static void WriteTiff(string temp, string finalPath, RasterImage image, WriteOptions o)
    {
        GeoTiffTags.EnsureRegistered();
        using var log = LibTiffErrors.Capture();
        int w = image.Width, h = image.Height, c = image.Bands, bps = o.BitDepth / 8;
        var geo = o.Geo ?? image.Geo;
        double? noData = null;
        if (image.Valid is not null)
        {
            // Masked pixels get the nodata value so the mask survives a round trip (GDAL semantics).
            noData = geo?.GdalNoData is { } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : 0.0;
            if (geo is null || geo.GdalNoData is null) geo = (geo ?? new GeoReference()) with { GdalNoData = noData.Value.ToString(CultureInfo.InvariantCulture) };
        }

        using (Tiff? tif = Tiff.Open(temp, "w"))
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
            var samples = Quantise(image, o, noData);
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
                        throw new ImageFormatException(finalPath, $"cannot write TIFF tile: {log.Describe()}");
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
                        throw new ImageFormatException(finalPath, $"cannot write TIFF strip: {log.Describe()}");
                }
            }
            if (!tif.WriteDirectory() || log.HasErrors)
                throw new ImageFormatException(finalPath, $"cannot write TIFF: {log.Describe()}");
        }
    }

    /// <summary>Planes to integer samples (rounded, clamped); masked pixels take the nodata value.</summary>
    static ushort[][] Quantise(RasterImage image, WriteOptions o, double? noData)
    {
        double max = o.BitDepth == 16 ? 65535 : 255;
        var result = new ushort[image.Bands][];
        Parallel.For(0, image.Bands, b =>
        {
            var p = image.Planes[b];
            var q = result[b] = new ushort[p.Length];
            BandStretch? s = o.RestoreSourceRange && o.BitDepth == 16 && image.Stretch is { } st && b < st.Length ? st[b] : null;
            ushort nd = (ushort)Math.Clamp(Math.Round(noData ?? 0), 0, max);
            for (int i = 0; i < p.Length; i++)
            {
                if (noData is not null && !image.Valid![i]) { q[i] = nd; continue; }
                float v = float.IsNaN(p[i]) ? 0f : p[i];
                double x = s is { } bs ? bs.Invert(Math.Clamp(v, 0f, 1f)) : v * max;
                q[i] = (ushort)Math.Clamp(Math.Round(x), 0, max);
            }
        });
        return result;
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
