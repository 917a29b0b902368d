using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// The colour of a catalog model with a colour head (liu2018-color, the joint liu2018, regression-ed) at the same
/// resolution: these read an LR image and colour its 4x output, so the grey image is shrunk 4x (bicubic, antialiased:
/// how training made its LR inputs), enhanced by the <see cref="Enhancer"/> (its tiling and all), and the a*b* of the
/// enhanced image are joined to the input's own lightness. The model's SR is discarded: only its colour is compared.
/// </summary>
public sealed class CatalogColorizer : IColorizer
{
    private readonly Enhancer _enhancer;

    private CatalogColorizer(Enhancer enhancer, string name)
    {
        var tasks = enhancer.Model.Network.Tasks;
        if ((tasks & (NetworkTasks.ColorClassification | NetworkTasks.ColorRegression)) == 0)
        {
            enhancer.Dispose();
            throw new InvalidDataException($"{name}: model '{enhancer.Model.ModelName}' has no colour head; colorize needs liu2018, liu2018-color or regression-ed.");
        }
        _enhancer = enhancer;
        Name = name;
    }

    public string Name { get; }

    public bool ReadsBand => false;

    /// <summary>The bundled default model (the joint liu2018) used for its colour alone: the name "liu2018-color" stands for it.</summary>
    public static CatalogColorizer LoadDefault(Backend backend) => new(Enhancer.LoadDefault(backend), "liu2018-color (bundled liu2018's colour branch)");

    public static CatalogColorizer Load(string path, Backend backend)
    {
        var enhancer = Enhancer.Load(path, backend);
        return new CatalogColorizer(enhancer, $"{enhancer.Model.ModelName} ({Path.GetFileNameWithoutExtension(path)})");
    }

    public float[][] Colorize(float[] grey, int width, int height, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grey);
        if (grey.Length != width * height) throw new ArgumentException($"colorize: {grey.Length} grey values for {width}x{height}.");
        int s = _enhancer.Model.Network.Scale;
        int lw = Math.Max(1, (width + s - 1) / s), lh = Math.Max(1, (height + s - 1) / s);
        // The enhancer reads a one-band image as sRGB grey: the grey of lightness 100 g.
        var srgbGrey = Colorizers.RgbOf(grey, new float[grey.Length], new float[grey.Length])[0];
        var low = Resampler.Resize(srgbGrey, width, height, lw, lh, ResampleKernel.Bicubic, antialias: true);
        var enhanced = _enhancer.Enhance(new RasterImage(lw, lh, [low]), cancellationToken: cancellationToken).Color;
        int n = enhanced.Width * enhanced.Height;
        var (l, a, b) = (new float[n], new float[n], new float[n]);
        Lab.RgbToLab(enhanced.Planes[0], enhanced.Planes[1], enhanced.Planes[2], l, a, b);
        if (enhanced.Width != width || enhanced.Height != height)
        {
            a = Resampler.Resize(a, enhanced.Width, enhanced.Height, width, height, ResampleKernel.Bilinear, antialias: true);
            b = Resampler.Resize(b, enhanced.Width, enhanced.Height, width, height, ResampleKernel.Bilinear, antialias: true);
        }
        return Colorizers.RgbOf(grey, a, b);
    }

    public void Dispose() => _enhancer.Dispose();
}
