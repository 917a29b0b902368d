namespace ILGpuSat.Inference;

/// <summary>
/// How much context a tile really needs, measured on the network itself. <see cref="ReceptiveField"/> bounds how
/// far an output pixel can see (liu2018: 64 LR pixels, through the trunk's dilated convolutions), but a trained
/// network's influence decays long before that bound, and context costs: a 222-pixel core padded by 64 on each
/// side computes 2.5 times its own pixels. The probe does what tiling does: a tile of noise with the full bound of
/// context is the reference, and the same core with only d pixels of context around it (the window cropped, as a
/// tile's window is: zero padding then starts d pixels out, deep in the network as well as at its input) must give
/// every output of the core (L*, a*, b*) within <see cref="Tolerance"/> of it; the context is the smallest such d.
/// Noise has more detail far from the core than real imagery, so real tiles agree with the untiled run at least
/// as closely (docs/inference.md has the measurement on a Landsat scene).
/// </summary>
internal static class EffectiveContext
{
    /// <summary>Largest change of a core output allowed (L* 0..100 and a*b* units: 0.02 is 0.05/255 of an 8-bit sRGB level).</summary>
    public const float Tolerance = 0.02f;

    /// <param name="bound">The receptive-field context (a multiple of <paramref name="multiple"/>): the answer is at most this.</param>
    /// <param name="minimum">The least context a tile may read (the border pad the untiled run reads at the image's edges).</param>
    public static int Measure(TileRunner runner, int bound, int multiple, int minimum)
    {
        int core = TileAxis.RoundUp(16, multiple), side = core + 2 * bound, s = runner.Scale;
        var rng = new Random(20181);
        var probe = new float[side * side];
        for (int i = 0; i < probe.Length; i++) probe[i] = 100f * rng.NextSingle();
        var reference = Core(runner.Run(probe, null, null, side, side), side * s, bound * s, core * s);

        for (int d = TileAxis.RoundUp(Math.Max(minimum, multiple), multiple); d < bound; d += multiple)
        {
            int window = core + 2 * d, from = bound - d;
            var cropped = new float[window * window];
            for (int y = 0; y < window; y++) Array.Copy(probe, (from + y) * side + from, cropped, y * window, window);
            var result = Core(runner.Run(cropped, null, null, window, window), window * s, d * s, core * s);
            float worst = 0;
            for (int i = 0; i < result.Length; i++) worst = Math.Max(worst, Math.Abs(result[i] - reference[i]));
            if (worst <= Tolerance) return d;
        }
        return bound;
    }

    /// <summary>The core's outputs (L*, a*, b* of the square [offset, offset + size)) copied out of the runner's planes.</summary>
    private static float[] Core((float[] L, float[] A, float[] B) planes, int width, int offset, int size)
    {
        var core = new float[3 * size * size];
        int k = 0;
        foreach (var plane in new[] { planes.L, planes.A, planes.B })
            for (int y = offset; y < offset + size; y++)
                for (int x = offset; x < offset + size; x++) core[k++] = plane[y * width + x];
        return core;
    }
}
