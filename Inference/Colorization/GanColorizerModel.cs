using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// Colorization with a trained SpaceNet GAN generator (what <c>ilgpusat train --model gan-colorizer</c> checkpoints:
/// generator.* and discriminator.* with the config in the metadata; only the generator is kept). The grey input is
/// what the model learned from (<see cref="Colorizers.GreyOf"/>): a colour image's L* / 100 for a model trained on colour images,
/// band 1 at full range for one trained on grey / colour pairs (SAR); the output is sRGB of the same size. Images larger than a tile run in tiles that read <see cref="Context"/> pixels beyond their core and are
/// blended over the overlap, with reflection at the image's edges (the enhancer's <see cref="TileAxis"/>), so memory is
/// bounded by the tile.
/// </summary>
public sealed class GanColorizerModel : IColorizer
{
    private readonly GanGenerator _generator;
    private readonly Backend _backend;

    /// <summary>Pixels each tile reads beyond its core: above the generator's receptive radius (about 20 pixels).</summary>
    public const int Context = 32;

    private GanColorizerModel(GanGenerator generator, Backend backend, IReadOnlyDictionary<string, string> metadata, string name)
    {
        Name = name;
        _generator = generator;
        _backend = backend;
        Metadata = metadata;
        _generator.Eval();
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public string Name { get; }

    public GanColorizerConfig Config => _generator.Config;

    /// <summary>True when the model learned from band 1 of separate grey images (SAR), false for L* / 100 of colour images.</summary>
    public bool ReadsBand => ColorizerGrey.ReadsBand(Metadata);

    /// <summary>The bundled GAN colorizers by name (docs/colorizers.md says how each was trained).</summary>
    public static IReadOnlyList<string> BundledNames { get; } = ["gan-colorizer", "gan-colorizer-sar"];

    /// <summary>Loads a bundled GAN colorizer: gan-colorizer (optical, AID) or gan-colorizer-sar (Sentinel-1 VH).</summary>
    public static GanColorizerModel LoadBundled(string name, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return EmbeddedModel.LoadBundled(name, BundledNames, (path, display) => Load(path, backend, display));
    }

    public static GanColorizerModel Load(string path, Backend backend) => Load(path, backend, $"gan-colorizer ({Path.GetFileNameWithoutExtension(path)})");

    private static GanColorizerModel Load(string path, Backend backend, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(backend);
        var (arrays, metadata, config) = ColorizerFileReader.Read(path, GanColorizerFile.ModelName, "GAN colorizer", GanColorizerFile.ParseConfig);
        var generator = new GanGenerator(new LayerFactory(backend, 0), config);
        const string prefix = GanColorizerFile.GeneratorPrefix;
        var state = arrays.Where(a => a.Name.StartsWith(prefix, StringComparison.Ordinal))
                          .ToDictionary(a => a.Name[prefix.Length..], a => Tensor.FromArray(a.Value.Data, a.Value.Shape, backend).Keep());
        try { generator.LoadStateDict(state, strict: true); }
        catch (ArgumentException e)
        {
            generator.Dispose();
            throw new InvalidDataException($"{path}: the generator's weights do not fit its config: {e.Message}", e);
        }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return new GanColorizerModel(generator, backend, metadata, name);
    }

    /// <summary>sRGB planes (3 x width x height, [0, 1]) of a grey image (width x height, [0, 1]).</summary>
    public float[][] Colorize(float[] grey, int width, int height, int tile = 512, int overlap = 16, IProgress<(int Done, int Total)>? progress = null,
                              CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grey);
        if (grey.Length != width * height) throw new ArgumentException($"colorize: {grey.Length} grey values for {width}x{height}.");
        int m = GanGenerator.SizeMultiple;
        var xs = TileAxis.Create(width, tile, overlap, Context, m);
        var ys = TileAxis.Create(height, tile, overlap, Context, m);
        var rgb = new[] { new float[grey.Length], new float[grey.Length], new float[grey.Length] };
        int done = 0, total = xs.Count * ys.Count;
        for (int ky = 0; ky < ys.Count; ky++)
            for (int kx = 0; kx < xs.Count; kx++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int wx0 = xs.Start(kx) - xs.Before(kx), wy0 = ys.Start(ky) - ys.Before(ky);
                int tw = xs.SpanOf(kx), th = ys.SpanOf(ky);
                var window = new float[tw * th];
                for (int y = 0; y < th; y++)
                {
                    int sy = TileAxis.Reflect(wy0 + y, height);
                    for (int x = 0; x < tw; x++) window[y * tw + x] = grey[sy * width + TileAxis.Reflect(wx0 + x, width)];
                }
                float[] output;
                using (var scope = new TensorScope())
                using (Autograd.NoGrad())
                    output = _generator.Forward(Tensor.FromArray(window, [1, 1, th, tw], _backend)).ToArray();
                int cx1 = Math.Min(width, xs.Start(kx) + xs.Core), cy1 = Math.Min(height, ys.Start(ky) + ys.Core);
                for (int y = ys.Start(ky); y < cy1; y++)
                {
                    float wy = ys.Weight(ky, y - ys.Start(ky), 1);
                    int ty = y - wy0;
                    for (int x = xs.Start(kx); x < cx1; x++)
                    {
                        float w = wy * xs.Weight(kx, x - xs.Start(kx), 1);
                        int t = ty * tw + x - wx0;
                        for (int c = 0; c < 3; c++) rgb[c][y * width + x] += w * output[c * tw * th + t];
                    }
                }
                progress?.Report((++done, total));
            }
        return rgb;
    }

    float[][] IColorizer.Colorize(float[] grey, int width, int height, CancellationToken cancellationToken)
        => Colorize(grey, width, height, cancellationToken: cancellationToken);

    public void Dispose() => _generator.Dispose();
}
