using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference.Tests;

/// <summary>Tiny catalog models saved as weights files, with batch-norm statistics that are not the identity.</summary>
internal static class TestModels
{
    /// <summary>Saves <paramref name="name"/> at <paramref name="config"/> into <paramref name="folder"/> and returns the path.</summary>
    public static string Save(string folder, string name, ModelConfig config, int seed = 1)
    {
        using var cpu = new Kernels.Cpu.CpuBackend();
        using var net = ModelCatalog.Create(name, new LayerFactory(cpu, seed), config);
        var rng = new Random(seed);
        // Eval-mode batch norm with running statistics far from (0, 1) and random affine terms: tiles must stay
        // independent with them, which train-mode (batch) statistics would break.
        foreach (var (key, t) in net.NamedBuffers())
        {
            if (key.EndsWith("running_mean", StringComparison.Ordinal)) t.CopyFrom(Values((int)t.Length, rng, -0.3, 0.3));
            else if (key.EndsWith("running_var", StringComparison.Ordinal)) t.CopyFrom(Values((int)t.Length, rng, 0.5, 2.0));
        }
        foreach (var (key, t) in net.NamedParameters())
        {
            // Zero-initialised heads (regression-ed, residual tails) would hide the network; give them weights.
            if (t.ToArray().All(v => v == 0) || key.Contains("bn", StringComparison.Ordinal))
                t.CopyFrom(Values((int)t.Length, rng, -0.1, 0.1));
        }
        string path = Path.Combine(folder, $"{name}-{Guid.NewGuid():N}.safetensors");
        ModelFile.Save(path, net, name, config);
        return path;
    }

    private static float[] Values(int n, Random rng, double lo, double hi)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return v;
    }

    /// <summary>A smooth grey test scene with some texture (values 0..1).</summary>
    public static RasterImage Grey(int w, int h, int seed = 3, double noise = 0.1)
    {
        var rng = new Random(seed);
        var p = new float[w * h];
        double fx = 0.07 + 0.05 * rng.NextDouble(), fy = 0.05 + 0.05 * rng.NextDouble();
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            p[y * w + x] = (float)Math.Clamp(0.5 + 0.3 * Math.Sin(fx * x) * Math.Cos(fy * y) + noise * (rng.NextDouble() - 0.5), 0, 1);
        return new RasterImage(w, h, [p]);
    }

    /// <summary>A colour scene whose L* is the grey scene's; <paramref name="hue"/> changes only a*b*.</summary>
    public static RasterImage Colour(int w, int h, double hue, int seed = 3)
    {
        var grey = Grey(w, h, seed).Planes[0];
        var l = new float[w * h];
        Imaging.Color.Lab.RgbToL(grey, grey, grey, l);
        var a = new float[w * h];
        var b = new float[w * h];
        for (int i = 0; i < a.Length; i++) { a[i] = (float)(20 * Math.Cos(hue + i * 1e-3)); b[i] = (float)(20 * Math.Sin(hue)); }
        var planes = new[] { new float[w * h], new float[w * h], new float[w * h] };
        Imaging.Color.Lab.LabToRgb(l, a, b, planes[0], planes[1], planes[2]);
        return new RasterImage(w, h, planes);
    }

    public static Backend Cpu() => new Kernels.Cpu.CpuBackend();
}
