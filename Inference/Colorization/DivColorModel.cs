using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// Diverse colorization with a trained divcolor (what <c>ilgpusat train --model divcolor</c> checkpoints), as Deshpande
/// et al. 2017 run it: the grey image is shrunk by area averaging to the model's S x S field, the MDN gives a mixture
/// over the VAE's codes from the grey features, and each of the most probable components' means is decoded into an ab
/// field. Each field is enlarged bicubically to the image and joined to the image's own full-resolution lightness
/// (L* = 100 grey), so the hypotheses differ in colour only. Colour is therefore at the field's resolution (an image of
/// 1024 pixels gets 64 x 64 colour cells of 16 pixels): the paper's design, colour at low resolution.
/// </summary>
public sealed class DivColorModel : IHypothesisColorizer
{
    private readonly DivColor _network;
    private readonly Backend _backend;

    private DivColorModel(DivColor network, Backend backend, IReadOnlyDictionary<string, string> metadata, string name)
    {
        _network = network;
        _backend = backend;
        Metadata = metadata;
        Name = name;
        _network.Eval();
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public DivColorConfig Config => _network.Config;

    public bool ReadsBand => ColorizerGrey.ReadsBand(Metadata);

    public int MaxHypotheses => Config.Components;

    /// <summary>The bundled divcolor models by name (docs/colorizers.md says how each was trained).</summary>
    public static IReadOnlyList<string> BundledNames { get; } = ["divcolor", "divcolor-sar"];

    public static DivColorModel LoadBundled(string name, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return EmbeddedModel.LoadBundled(name, BundledNames, (path, display) => Load(path, backend, display));
    }

    public static DivColorModel Load(string path, Backend backend) => Load(path, backend, $"divcolor ({Path.GetFileNameWithoutExtension(path)})");

    private static DivColorModel Load(string path, Backend backend, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(backend);
        var (arrays, metadata, config) = ColorizerFileReader.Read(path, DivColorFile.ModelName, "divcolor model", DivColorFile.ParseConfig);
        if (!metadata.TryGetValue(DivColorFile.StageKey, out var stage) || stage != DivColorFile.MdnStage)
            throw new InvalidDataException($"{path}: a divcolor checkpoint from before its MDN was trained (stage '{stage ?? "none"}'): it cannot rank colourings; use a checkpoint past the run's vaeSteps.");
        var network = new DivColor(new LayerFactory(backend, 0), config);
        var state = arrays.Where(a => DivColorFile.UsedAtInference(a.Name))
                          .ToDictionary(a => a.Name, a => Tensor.FromArray(a.Value.Data, a.Value.Shape, backend).Keep());
        // The encoder of true ab fields is training's alone (an exported file drops it); everything else must be there.
        try { network.LoadPart(state, DivColorFile.UsedAtInference); }
        catch (ArgumentException e)
        {
            network.Dispose();
            throw new InvalidDataException($"{path}: the divcolor weights do not fit its config: {e.Message}", e);
        }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return new DivColorModel(network, backend, metadata, name);
    }

    /// <summary>The most probable hypothesis.</summary>
    public float[][] Colorize(float[] grey, int width, int height, CancellationToken cancellationToken = default)
        => Hypotheses(grey, width, height, 1, cancellationToken)[0].Rgb;

    /// <summary>The <paramref name="count"/> most probable colourings (at most the mixture's components), by decreasing weight.</summary>
    public IReadOnlyList<ColourHypothesis> Hypotheses(float[] grey, int width, int height, int count, CancellationToken cancellationToken = default)
    {
        var fields = AbFields(grey, width, height, count);
        var result = new List<ColourHypothesis>(fields.Count);
        int s = Config.Size;
        foreach (var (weight, a, b) in fields)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var fullA = Resampler.Resize(a, s, s, width, height, ResampleKernel.Bicubic, antialias: true);
            var fullB = Resampler.Resize(b, s, s, width, height, ResampleKernel.Bicubic, antialias: true);
            result.Add(new ColourHypothesis(weight, Colorizers.RgbOf(grey, fullA, fullB)));
        }
        return result;
    }

    /// <summary>The hypotheses as S x S fields of a*, b* (ab units), with their mixture weights, most probable first.</summary>
    public IReadOnlyList<(double Weight, float[] A, float[] B)> AbFields(float[] grey, int width, int height, int count)
    {
        ArgumentNullException.ThrowIfNull(grey);
        if (grey.Length != width * height) throw new ArgumentException($"divcolor: {grey.Length} grey values for {width}x{height}.");
        int s = Config.Size, ss = s * s;
        var field = Field(grey, width, height, s);
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var features = _network.GreyFeatures(Tensor.FromArray(field, [1, 1, s, s], _backend));
        var (w, ranks, decoded) = _network.DecodeMostProbable(features, count);
        var ab = decoded.ToArray();
        double top = w.Max();
        var p = w.Select(v => Math.Exp(v - top)).ToArray();
        double total = p.Sum();
        const float abUnits = 110f;
        return Enumerable.Range(0, count).Select(r => (p[ranks[0][r]] / total,
                                        ab.AsSpan(2 * r * ss, ss).ToArray().Select(v => v * abUnits).ToArray(),
                                        ab.AsSpan((2 * r + 1) * ss, ss).ToArray().Select(v => v * abUnits).ToArray())).ToList();
    }

    /// <summary>The grey image at the field's S x S: area averages when shrinking (as training's fields), bicubic when a side is smaller.</summary>
    private static float[] Field(float[] grey, int width, int height, int s)
        => width >= s && height >= s ? AreaAverage.Shrink(grey, width, height, s, s) : Resampler.Resize(grey, width, height, s, s, ResampleKernel.Bicubic, antialias: true);

    public void Dispose() => _network.Dispose();
}
