using System.Globalization;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Writes a (Geo)TIFF top to bottom, a block of rows at a time, for images too large to hold in memory
/// (a 4x output of a 10,000 x 10,000 input is 40,000 x 40,000). Strips of deflate-compressed, chunky
/// 8- or 16-bit samples; BigTIFF ("w8") when the uncompressed samples could pass 4 GB, since compression
/// cannot be counted on to stay under the classic format's 32-bit offsets.
/// <para>
/// The caller owns the stream (usually an <c>AtomicFile</c> temporary, so an unfinished image never
/// appears under its real name); <see cref="Finish"/> must be called after the last row, and checks that
/// every row came.
/// </para>
/// <para>
/// Nodata cannot follow <see cref="NoDataRule"/>, which looks at every sample before choosing a value:
/// here the value is fixed up front: the source's nodata tag when it is an integer the type holds, else 0;
/// a valid sample that lands on it is moved one step away (toward the middle of the range), and masked
/// pixels get it. The tag is written when the image has a mask or the source had a tag.
/// </para>
/// </summary>
public sealed class TiffStripWriter : IDisposable
{
    private readonly Tiff _tif;
    private readonly string _path;
    private readonly LibTiffErrors.Scope _log;
    private readonly int _width, _height, _bands, _bitDepth, _rowsPerStrip;
    private readonly ushort? _noData;
    private readonly byte[] _strip;
    private int _rowsDone, _stripRows, _stripIndex;
    private bool _finished;

    /// <param name="stream">Where the file goes (read access too: LibTiff reads back its directory).</param>
    /// <param name="path">The file's name, for messages.</param>
    /// <param name="masked">Whether rows will carry a validity mask (decides the nodata tag).</param>
    public TiffStripWriter(Stream stream, string path, int width, int height, int bands, int bitDepth,
                           GeoReference? geo, bool masked)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (width <= 0 || height <= 0) throw new ArgumentException($"'{path}': TIFF size must be positive, got {width}x{height}.");
        if (bands is < 1 or > 4) throw new ArgumentException($"'{path}': TiffStripWriter writes 1 to 4 bands, got {bands}.");
        if (bitDepth is not (8 or 16)) throw new ArgumentException($"'{path}': bit depth must be 8 or 16, got {bitDepth}.");
        _path = path;
        (_width, _height, _bands, _bitDepth) = (width, height, bands, bitDepth);
        int max = bitDepth == 16 ? 65535 : 255;
        double? tagged = geo?.GdalNoData is { } t && double.TryParse(t.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
        if (masked || geo?.GdalNoData is not null)
            _noData = tagged is { } n && n == Math.Floor(n) && n >= 0 && n <= max ? (ushort)n : (ushort)0;
        if (geo is not null || _noData is not null)
            geo = (geo ?? new GeoReference()) with { GdalNoData = _noData?.ToString(CultureInfo.InvariantCulture) };

        long rowBytes = (long)width * bands * (bitDepth / 8);
        bool big = rowBytes * height > uint.MaxValue - (1L << 26); // leave room for tags and strip tables
        GeoTiffTags.EnsureRegistered();
        _log = LibTiffErrors.Capture();
        _tif = Tiff.ClientOpen(path, big ? "w8" : "w", stream, new CallerOwnedStream())
            ?? throw new ImageFormatException(path, $"cannot create TIFF: {_log.Describe()}");
        _tif.SetField(TiffTag.IMAGEWIDTH, width);
        _tif.SetField(TiffTag.IMAGELENGTH, height);
        _tif.SetField(TiffTag.SAMPLESPERPIXEL, bands);
        _tif.SetField(TiffTag.BITSPERSAMPLE, bitDepth);
        _tif.SetField(TiffTag.SAMPLEFORMAT, SampleFormat.UINT);
        _tif.SetField(TiffTag.ORIENTATION, Orientation.TOPLEFT);
        bool rgb = bands >= 3;
        _tif.SetField(TiffTag.PHOTOMETRIC, rgb ? Photometric.RGB : Photometric.MINISBLACK);
        if (bands is 2 or 4) _tif.SetField(TiffTag.EXTRASAMPLES, 1, new[] { (short)ExtraSample.UNASSALPHA });
        _tif.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
        _tif.SetField(TiffTag.COMPRESSION, Compression.ADOBE_DEFLATE);
        _rowsPerStrip = (int)Math.Clamp((1 << 16) / Math.Max(rowBytes, 1), 1, height);
        _tif.SetField(TiffTag.ROWSPERSTRIP, _rowsPerStrip);
        if (geo is not null) GeoTiffTags.Write(_tif, geo);
        _strip = new byte[_rowsPerStrip * rowBytes];
    }

    public int Width => _width;
    public int Height => _height;
    public int RowsWritten => _rowsDone;

    /// <summary>
    /// Appends <paramref name="rows"/> rows: <paramref name="planes"/> are <c>bands</c> planes of rows x Width
    /// values in 0..1 (row-major); <paramref name="valid"/> (rows x Width) marks nodata, null for all valid.
    /// </summary>
    public void WriteRows(int rows, IReadOnlyList<float[]> planes, bool[]? valid, int offset = 0)
    {
        ArgumentNullException.ThrowIfNull(planes);
        if (_finished) throw new InvalidOperationException($"'{_path}': the TIFF is finished.");
        if (planes.Count != _bands) throw new ArgumentException($"'{_path}': {planes.Count} planes for a {_bands}-band TIFF.");
        if (rows < 0 || _rowsDone + rows > _height) throw new ArgumentException($"'{_path}': {rows} more rows after {_rowsDone} pass the height {_height}.");
        int max = _bitDepth == 16 ? 65535 : 255, bps = _bitDepth / 8;
        for (int r = 0; r < rows; r++)
        {
            int rowBase = _stripRows * _width * _bands;
            int src = offset + r * _width;
            for (int x = 0; x < _width; x++)
            {
                bool ok = valid is null || valid[src + x];
                for (int b = 0; b < _bands; b++)
                {
                    int q;
                    if (!ok) q = _noData ?? 0;
                    else
                    {
                        q = SampleQuantizer.ToSample(planes[b][src + x], max);
                        if (_noData is { } nd && q == nd) q = nd == max ? max - 1 : nd + 1;
                    }
                    int o = rowBase + x * _bands + b;
                    if (bps == 1) _strip[o] = (byte)q;
                    else { _strip[2 * o] = (byte)q; _strip[2 * o + 1] = (byte)(q >> 8); } // little-endian file
                }
            }
            _stripRows++;
            _rowsDone++;
            if (_stripRows == _rowsPerStrip || _rowsDone == _height) FlushStrip();
        }
    }

    private void FlushStrip()
    {
        int bytes = _stripRows * _width * _bands * (_bitDepth / 8);
        if (_tif.WriteEncodedStrip(_stripIndex++, _strip, bytes) < 0)
            throw new ImageFormatException(_path, $"LibTiff cannot write strip {_stripIndex - 1}: {_log.Describe()}");
        _stripRows = 0;
    }

    /// <summary>Writes the directory; throws unless all Height rows were written.</summary>
    public void Finish()
    {
        if (_finished) return;
        if (_rowsDone != _height) throw new InvalidOperationException($"'{_path}': {_rowsDone} of {_height} rows were written.");
        if (!_tif.WriteDirectory() || _log.HasErrors)
            throw new ImageFormatException(_path, $"LibTiff cannot write the TIFF directory: {_log.Describe()}");
        _tif.Flush();
        _finished = true;
    }

    public void Dispose()
    {
        _tif.Dispose();
        _log.Dispose();
    }

    /// <summary>The caller owns (and disposes) the stream; LibTiff must not close it.</summary>
    private sealed class CallerOwnedStream : TiffStream
    {
        public override void Close(object clientData) { }
    }
}
