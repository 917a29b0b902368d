using System.Globalization;
using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Misr;

namespace ILGpuSat.Inference.Misr;

/// <summary>
/// Multi-image SR with a trained DeepSUM: a scene's clearest <see cref="DeepSumConfig.Frames"/> looks (the clearest
/// first, as in training), bicubic x Scale, standardised with the model's constants, masks nearest-upsampled; the
/// network in eval mode without gradients; the SR de-standardised to [0, 1]. The model file is what
/// <c>ilgpusat train --model deepsum</c> checkpoints: the DeepSUM state dict with its config and scale in the metadata.
/// The whole scene runs at once (a 128 x 128 PROBA-V scene needs a few GB on the CPU); tiling is not done yet.
/// <see cref="LoadDefault"/> loads the bundled model.
/// </summary>
public sealed class MisrEnhancer : IDisposable
{
    private readonly DeepSum _net;
    private readonly SisrPretrainer? _single;

    private MisrEnhancer(DeepSum net, int scale, SisrPretrainer? single, IReadOnlyDictionary<string, string> metadata)
    {
        _net = net;
        _single = single;
        Scale = scale;
        Metadata = metadata;
        _net.Eval();
        _single?.Eval();
    }

    /// <summary>A SISRNet-stage checkpoint: single-image SR of the clearest look (the table's single-image row).</summary>
    public bool IsSingleImage => _single is not null;

    /// <summary>The file's metadata (stage, step, the simulator it was trained on).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public DeepSumConfig Config => _net.Config;

    public int Scale { get; }

    /// <summary>The embedded resource of the bundled DeepSUM (Inference/DefaultModel/deepsum.safetensors).</summary>
    public const string DefaultModelResource = "ILGpuSat.Inference.DefaultModel.deepsum.safetensors";

    /// <summary>Loads the DeepSUM bundled in this assembly (docs/misr.md says how it was trained).</summary>
    public static MisrEnhancer LoadDefault(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return EmbeddedModel.Load(DefaultModelResource,
            $"this build of ILGpuSat.Inference has no bundled DeepSUM (resource '{DefaultModelResource}'); pass a model file (--model).",
            path => Load(path, backend));
    }

    public static MisrEnhancer Load(string path, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(backend);
        var (arrays, metadata) = SafeTensors.Read(path);
        if (!metadata.TryGetValue(ModelFile.ModelKey, out var model) || model != DeepSumFile.ModelName)
            throw new InvalidDataException($"{path}: not a DeepSUM weights file (its metadata names model '{model ?? "none"}'; train one with ilgpusat train --model deepsum).");
        DeepSumConfig config;
        int scale;
        try
        {
            config = DeepSumFile.ParseConfig(metadata[ModelFile.ConfigKey]);
            scale = int.Parse(metadata[DeepSumFile.ScaleKey], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: the DeepSUM config or scale in its metadata is unreadable: {e.Message}", e);
        }
        var net = new DeepSum(backend, 0, config);
        SisrPretrainer? single = null;
        bool singleStage = metadata.TryGetValue(DeepSumFile.StageKey, out var stage) && stage == DeepSumFile.SingleImageStage;
        try
        {
            var own = net.StateDict();
            var state = arrays.Where(a => own.ContainsKey(a.Name)).ToDictionary(a => a.Name, a => Tensor.FromArray(a.Value.Data, a.Value.Shape, backend).Keep());
            try { net.LoadStateDict(state, strict: true); }
            finally { foreach (var t in state.Values) t.Dispose(); }
            if (singleStage)
            {
                single = new SisrPretrainer(net.Sisr, backend, new Random(0), config);
                var head = arrays.Where(a => a.Name.StartsWith(DeepSumFile.HeadPrefix, StringComparison.Ordinal))
                                 .ToDictionary(a => a.Name[DeepSumFile.HeadPrefix.Length..], a => Tensor.FromArray(a.Value.Data, a.Value.Shape, backend).Keep());
                try { single.Head.LoadStateDict(head, strict: true); }
                finally { foreach (var t in head.Values) t.Dispose(); }
            }
        }
        catch (ArgumentException e)
        {
            net.Dispose();
            throw new InvalidDataException($"{path}: the weights do not fit DeepSUM with its config: {e.Message}", e);
        }
        return new MisrEnhancer(net, scale, single, metadata);
    }

    /// <summary>The SR image of a scene (LrWidth x Scale by LrHeight x Scale, [0, 1]).</summary>
    public float[] SuperResolve(ProbaVScene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        int t = Config.Frames;
        if (scene.Frames.Count < t)
            throw new ArgumentException($"{scene.Folder}: {scene.Frames.Count} looks; DeepSUM fuses {t} (give a scene with at least {t}).");
        int w = scene.LrWidth * Scale, h = scene.LrHeight * Scale, hw = w * h;
        var frames = new float[(long)t * hw];
        var masks = new float[frames.Length];
        LookStack.Write(scene.ByClearPixels().Take(t).ToList(), scene.LrWidth, scene.LrHeight, Scale, Config.Mean, Config.Std, frames, masks);
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var backend = _net.Parameters().First().Backend;
        var sr = _single is not null
            ? _single.Forward(Tensor.FromArray(frames.AsSpan(0, hw).ToArray(), [1, 1, h, w], backend)).ToArray()
            : _net.Forward(Tensor.FromArray(frames, [1, t, 1, h, w], backend), Tensor.FromArray(masks, [1, t, 1, h, w], backend)).Sr.ToArray();
        for (int i = 0; i < sr.Length; i++) sr[i] = Math.Clamp(sr[i] * Config.Std + Config.Mean, 0f, 1f);
        return sr;
    }

    public void Dispose()
    {
        _single?.Head.Dispose();
        _net.Dispose();
    }
}
