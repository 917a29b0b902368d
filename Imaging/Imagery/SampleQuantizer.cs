namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// The one rule by which a 0..1 plane value becomes an integer sample on the way out, for every format:
/// round(v * max) with halves up, clamped to 0..max, NaN to 0. In double, because a float product near
/// 65535 has too few fraction bits to round half up reliably.
/// </summary>
internal static class SampleQuantizer
{
    public static int ToSample(float v, int max) => v >= 1f ? max : v > 0f ? (int)(v * (double)max + 0.5) : 0; // NaN -> 0
}
