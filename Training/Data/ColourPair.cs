using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Data;

/// <summary>
/// A colorizer's training image: the colour target's sRGB planes at full range and the grey read with it, L* / 100
/// of the target or, with a grey partner (SAR with its Lab-fused target), that image's band 1 at full range.
/// </summary>
public sealed record ColourPair(float[] Grey, float[][] Rgb, int Width, int Height)
{
    /// <summary>Reads a target and its grey partner (null: the target's own lightness); a target without RGB or a partner of another size is named.</summary>
    public static ColourPair Read((string? Grey, string Colour) file)
    {
        var colour = ImageReader.Read(file.Colour, new ReadOptions { Stretch = StretchMode.FullRange });
        if (colour.Bands < 3) throw new ImageFormatException(file.Colour, $"has {colour.Bands} band(s); a colour target needs RGB");
        var rgb = colour.Planes.Take(3).ToArray();
        if (file.Grey is null) return new ColourPair(Lab.UnitLightness(rgb[0], rgb[1], rgb[2]), rgb, colour.Width, colour.Height);
        var g = ImageReader.Read(file.Grey, new ReadOptions { Stretch = StretchMode.FullRange, Bands = [1] });
        if (g.Width != colour.Width || g.Height != colour.Height)
            throw new ImageFormatException(file.Grey, $"is {g.Width}x{g.Height}, but its colour target {Path.GetFileName(file.Colour)} is {colour.Width}x{colour.Height}");
        return new ColourPair(g.Planes[0], rgb, colour.Width, colour.Height);
    }
}

/// <summary>
/// The most recently used decoded pairs (at most <c>capacity</c>), each kept as what its sampler derives from it once
/// (the pair itself for windows, its a*b* planes for divcolor's fields), so a batch decodes no file it saw lately.
/// </summary>
public sealed class RecentColourPairs<T>(int capacity, Func<(string? Grey, string Colour), ColourPair, T> derive)
{
    private readonly Dictionary<string, T> _cache = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public T Get((string? Grey, string Colour) file)
    {
        if (_cache.TryGetValue(file.Colour, out var hit)) return hit;
        var entry = derive(file, ColourPair.Read(file));
        _cache[file.Colour] = entry;
        _order.Enqueue(file.Colour);
        if (_order.Count > capacity) _cache.Remove(_order.Dequeue());
        return entry;
    }
}
