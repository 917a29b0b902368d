using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Resampling;

/// <summary>
/// The two references a multi-image SR result is compared with in the PROBA-V challenge (the slides' Table I):
/// <list type="bullet">
/// <item><see cref="ChallengeBaseline"/>: the organisers' baseline, the bicubic upscaling of the mean of the clearest
/// looks (every look with the most clear pixels), each pixel averaged over the looks clear there (over all of them
/// where none is).</item>
/// <item><see cref="ClearestBicubic"/>: bicubic upscaling of the single clearest look.</item>
/// </list>
/// Bicubic is <see cref="Resampler.Bicubic"/> (MATLAB imresize's kernel, as the rest of the project).
/// </summary>
public static class ProbaVBaseline
{
    public static float[] ChallengeBaseline(ProbaVScene scene, int scale)
    {
        ArgumentNullException.ThrowIfNull(scene);
        int max = scene.Frames.Max(f => f.ClearCount);
        var clearest = scene.Frames.Where(f => f.ClearCount == max).ToList();
        int n = scene.LrWidth * scene.LrHeight;
        var mean = new float[n];
        for (int i = 0; i < n; i++)
        {
            double sum = 0, all = 0;
            int count = 0;
            foreach (var f in clearest)
            {
                all += f.Pixels[i];
                if (!f.Clear[i]) continue;
                sum += f.Pixels[i];
                count++;
            }
            mean[i] = (float)(count > 0 ? sum / count : all / clearest.Count);
        }
        return Upscale(mean, scene, scale);
    }

    public static float[] ClearestBicubic(ProbaVScene scene, int scale)
    {
        ArgumentNullException.ThrowIfNull(scene);
        return Upscale(scene.ByClearPixels()[0].Pixels, scene, scale);
    }

    private static float[] Upscale(float[] lr, ProbaVScene scene, int scale)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), $"ProbaVBaseline: scale must be at least 1, got {scale}.");
        return Resampler.Bicubic(lr, scene.LrWidth, scene.LrHeight, scene.LrWidth * scale, scene.LrHeight * scale);
    }
}
