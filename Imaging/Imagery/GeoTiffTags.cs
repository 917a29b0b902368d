using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Registers the GeoTIFF and GDAL tags with LibTiff.NET (it knows their numbers but has no field
/// definitions, so it would refuse to write them) and moves them between a <see cref="Tiff"/> and a
/// <see cref="GeoReference"/>. The tag extender is process-wide; it chains to any previous extender.
/// </summary>
internal static class GeoTiffTags
{
    static readonly object Gate = new();
    static bool registered;
    static Tiff.TiffExtendProc? parent;

    static readonly TiffFieldInfo[] Fields =
    {
        new(TiffTag.GEOTIFF_MODELPIXELSCALETAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.DOUBLE, FieldBit.Custom, true, true, "ModelPixelScale"),
        new(TiffTag.GEOTIFF_MODELTIEPOINTTAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.DOUBLE, FieldBit.Custom, true, true, "ModelTiepoint"),
        new(TiffTag.GEOTIFF_MODELTRANSFORMATIONTAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.DOUBLE, FieldBit.Custom, true, true, "ModelTransformation"),
        new(TiffTag.GEOTIFF_GEOKEYDIRECTORYTAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.SHORT, FieldBit.Custom, true, true, "GeoKeyDirectory"),
        new(TiffTag.GEOTIFF_GEODOUBLEPARAMSTAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.DOUBLE, FieldBit.Custom, true, true, "GeoDoubleParams"),
        new(TiffTag.GEOTIFF_GEOASCIIPARAMSTAG, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.ASCII, FieldBit.Custom, true, false, "GeoAsciiParams"),
        new(TiffTag.GDAL_NODATA, TiffFieldInfo.Variable, TiffFieldInfo.Variable, TiffType.ASCII, FieldBit.Custom, true, false, "GDAL_NODATA"),
    };

    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (registered) return;
            parent = Tiff.SetTagExtender(Extend);
            registered = true;
        }
    }

    static void Extend(Tiff tif)
    {
        tif.MergeFieldInfo(Fields, Fields.Length);
        parent?.Invoke(tif);
    }

    public static GeoReference? Read(Tiff tif)
    {
        var g = new GeoReference
        {
            ModelPixelScale = Doubles(tif, TiffTag.GEOTIFF_MODELPIXELSCALETAG),
            ModelTiepoint = Doubles(tif, TiffTag.GEOTIFF_MODELTIEPOINTTAG),
            ModelTransformation = Doubles(tif, TiffTag.GEOTIFF_MODELTRANSFORMATIONTAG),
            GeoKeyDirectory = Shorts(tif, TiffTag.GEOTIFF_GEOKEYDIRECTORYTAG),
            GeoDoubleParams = Doubles(tif, TiffTag.GEOTIFF_GEODOUBLEPARAMSTAG),
            GeoAsciiParams = Ascii(tif, TiffTag.GEOTIFF_GEOASCIIPARAMSTAG),
            GdalNoData = Ascii(tif, TiffTag.GDAL_NODATA),
        };
        bool any = g.ModelPixelScale is not null || g.ModelTiepoint is not null || g.ModelTransformation is not null
                   || g.GeoKeyDirectory is not null || g.GdalNoData is not null;
        return any ? g : null;
    }

    public static void Write(Tiff tif, GeoReference g)
    {
        SetDoubles(tif, TiffTag.GEOTIFF_MODELPIXELSCALETAG, g.ModelPixelScale);
        SetDoubles(tif, TiffTag.GEOTIFF_MODELTIEPOINTTAG, g.ModelTiepoint);
        SetDoubles(tif, TiffTag.GEOTIFF_MODELTRANSFORMATIONTAG, g.ModelTransformation);
        if (g.GeoKeyDirectory is { Length: > 0 } keys)
            Check(tif.SetField(TiffTag.GEOTIFF_GEOKEYDIRECTORYTAG, keys.Length, keys.Select(k => unchecked((short)k)).ToArray()), "GeoKeyDirectory");
        SetDoubles(tif, TiffTag.GEOTIFF_GEODOUBLEPARAMSTAG, g.GeoDoubleParams);
        if (g.GeoAsciiParams is { Length: > 0 } a) Check(tif.SetField(TiffTag.GEOTIFF_GEOASCIIPARAMSTAG, a), "GeoAsciiParams");
        if (g.GdalNoData is { Length: > 0 } nd) Check(tif.SetField(TiffTag.GDAL_NODATA, nd), "GDAL_NODATA");
    }

    static void SetDoubles(Tiff tif, TiffTag tag, double[]? v)
    {
        if (v is { Length: > 0 }) Check(tif.SetField(tag, v.Length, v), tag.ToString());
    }

    static void Check(bool ok, string what)
    {
        if (!ok) throw new InvalidOperationException($"LibTiff refused to set GeoTIFF tag {what}");
    }

    static double[]? Doubles(Tiff tif, TiffTag tag)
    {
        var v = tif.GetField(tag);
        if (v is null || v.Length < 2) return null;
        return v[1].ToDoubleArray() is { Length: > 0 } d ? d : null;
    }

    static ushort[]? Shorts(Tiff tif, TiffTag tag)
    {
        var v = tif.GetField(tag);
        if (v is null || v.Length < 2) return null;
        var s = v[1].ToShortArray();
        return s is { Length: > 0 } ? s.Select(x => unchecked((ushort)x)).ToArray() : null;
    }

    static string? Ascii(Tiff tif, TiffTag tag)
    {
        var v = tif.GetField(tag);
        if (v is null || v.Length < 1) return null;
        // LibTiff.NET keeps the trailing NUL of ASCII values.
        string s = v[0].ToString().TrimEnd('\0');
        return s.Length > 0 ? s : null;
    }
}
