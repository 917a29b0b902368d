namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// Which grey a colorizer learned from, kept in its weights file's metadata under <see cref="Key"/> so inference reads
/// an image as training did: <see cref="Lightness"/> (L* / 100 of colour images) or <see cref="Band"/> (band 1 of
/// separate grey images at full range: SAR paired with its Lab-fused target).
/// </summary>
public static class ColorizerGrey
{
    public const string Key = "ilgpusat.grey";

    public const string Lightness = "lightness";

    public const string Band = "band1";

    /// <summary>The value for a run with (true) or without a grey folder.</summary>
    public static string Of(bool greyFolder) => greyFolder ? Band : Lightness;

    /// <summary>True when the metadata says band 1; files without the key learned from lightness.</summary>
    public static bool ReadsBand(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.TryGetValue(Key, out var g) && g == Band;
    }
}
