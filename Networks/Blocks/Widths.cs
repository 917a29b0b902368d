namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// The width multiplier every catalog model takes: a layer's channel count at full width times the
/// multiplier, rounded half up, and never below 1 (floor(c * w + 0.5); Tools/Bench/torch_models.py
/// rounds the same way, so both sides build the same shapes).
/// </summary>
public static class Widths
{
    public static int Scale(int channels, double width)
    {
        if (channels <= 0) throw new ArgumentException($"width: channel count {channels} must be positive.");
        Check(width, "width");
        return Math.Max(1, (int)Math.Floor(channels * width + 0.5));
    }

    /// <summary>Throws unless <paramref name="width"/> is a positive finite multiplier; the message names the field.</summary>
    public static void Check(double width, string field)
    {
        if (!double.IsFinite(width) || width <= 0)
            throw new ArgumentException($"{field} must be a positive finite multiplier, got {width}.");
        // Past 64x a 512-channel layer has 32768 channels: a typo, not a model.
        if (width > 64)
            throw new ArgumentException($"{field} {width} is larger than 64; that is not a model this machine can build.");
    }
}
