using System.Globalization;
using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Misr;

namespace ILGpuSat.Inference.Misr;

/// <summary>
/// Multi-image SR with a trained DeepSUM: a scene's clearest <see cref="DeepSumConfig.Frames"/> looks (the clearest
/// first, as in training), bicubic x Scale, standardised (by the clearest look's own statistics, or the model's
/// constants: <see cref="MisrOptions.NormaliseScene"/>), masks nearest-upsampled; the network in eval mode without
/// gradients; the SR mapped back and clamped to [0, 1]. The model file is what
/// <c>ilgpusat train --model deepsum</c> checkpoints: the DeepSUM state dict with its config and scale in the metadata.
/// Scenes larger than a tile run in blended tiles and scenes with more looks than the network fuses in sliding
/// windows (<see cref="MisrOptions"/>).
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

    /// <summary>
    /// LR pixels a tile reads beyond its core where it meets another tile: the network's receptive radius (SISRNet's
    /// 3 x 3 layers, the registration filter's half-width, FusionNet's 3 x 3 x 3 layers, the single-image head) in
    /// LR pixels, plus the bicubic kernel's 2. With a scene's statistics and registration fixed, every core pixel then
    /// sees what it sees in an untiled run.
    /// </summary>
    public int Context
    {
        get
        {
            int radius = Config.SisrLayers + (_single is not null ? 1 : (Config.UseRegNet ? Config.FilterSize / 2 : 0) + Config.FusionLayers);
            return (radius + Scale - 1) / Scale + 2;
        }
    }

    /// <summary>
    /// The SR image of a scene (LrWidth x Scale by LrHeight x Scale, [0, 1]). The looks are ordered by clear pixels;
    /// the clearest is the reference. A scene with more looks than the network fuses is fused in windows (DeepSUM's
    /// sliding window): the reference with looks 2..T, then with 3..T+1, and so on, up to
    /// <see cref="MisrOptions.MaxWindows"/>; the windows' SRs are averaged. Every window keeps the same reference
    /// (docs/misr.md says why), so their outputs lie on one grid. A scene larger than
    /// <see cref="MisrOptions.TileSize"/> runs in blended tiles with its registration and normalisation statistics
    /// measured once per window in a central window.
    /// </summary>
    public float[] SuperResolve(ProbaVScene scene, MisrOptions? options = null, IProgress<MisrProgress>? progress = null,
                                CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scene);
        options ??= MisrOptions.Default;
        options.Validate();
        int t = IsSingleImage ? 1 : Config.Frames;
        if (scene.Frames.Count < t)
            throw new ArgumentException($"{scene.Folder}: {scene.Frames.Count} looks; DeepSUM fuses {t} (give a scene with at least {t}).");
        var order = scene.ByClearPixels();
        var (mean, std) = options.NormaliseScene ? ClearStatistics(order[0]) : (Config.Mean, Config.Std);
        int windows = Math.Min(options.MaxWindows, order.Count - t + 1);
        int lrW = scene.LrWidth, lrH = scene.LrHeight, w = lrW * Scale, h = lrH * Scale;
        var xs = TileAxis.Create(lrW, options.TileSize, options.Overlap, Context, 1);
        var ys = TileAxis.Create(lrH, options.TileSize, options.Overlap, Context, 1);
        bool tiled = xs.Count * ys.Count > 1;
        int passes = windows * (xs.Count * ys.Count + (tiled ? 1 : 0)), done = 0;
        var sum = new float[(long)w * h];
        for (int k = 0; k < windows; k++)
        {
            var looks = order.Take(1).Concat(order.Skip(1 + k).Take(t - 1)).ToList();
            if (!tiled)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add(sum, Run(looks, lrW, lrH, null, mean, std).Sr);
                progress?.Report(new MisrProgress(++done, passes));
                continue;
            }
            FuseTiled(looks, lrW, lrH, xs, ys, options.StatisticsWindow, mean, std, sum, () => progress?.Report(new MisrProgress(++done, passes)), cancellationToken);
        }
        for (int i = 0; i < sum.Length; i++) sum[i] = Math.Clamp(sum[i] / windows * std + mean, 0f, 1f);
        return sum;
    }

    // One window of looks in tiles: registration filters and every instance norm's statistics measured once on the
    // central statistics window, then each tile's core, weighted by the tiles' raised-cosine blend, added into sum.
    private void FuseTiled(List<ProbaVFrame> looks, int lrW, int lrH, TileAxis xs, TileAxis ys, int statisticsWindow,
                           float mean, float std, float[] sum, Action passed, CancellationToken ct)
    {
        var norms = (_single ?? (Module)_net).NamedModules().Select(m => m.Module).OfType<InstanceNorm2d>().ToList();
        try
        {
            ct.ThrowIfCancellationRequested();
            int sw = Math.Min(lrW, statisticsWindow), sh = Math.Min(lrH, statisticsWindow);
            foreach (var norm in norms) norm.CaptureStatistics = true;
            var (_, filters) = Run(Crop(looks, lrW, (lrW - sw) / 2, (lrH - sh) / 2, sw, sh), sw, sh, null, mean, std);
            foreach (var norm in norms)
            {
                norm.CaptureStatistics = false;
                norm.Statistics = norm.Captured;
            }
            passed();
            int s = Scale, w = lrW * s;
            for (int ky = 0; ky < ys.Count; ky++)
                for (int kx = 0; kx < xs.Count; kx++)
                {
                    ct.ThrowIfCancellationRequested();
                    int x0 = Math.Max(0, xs.Start(kx) - xs.Context), x1 = Math.Min(lrW, xs.Start(kx) + xs.Core + xs.Context);
                    int y0 = Math.Max(0, ys.Start(ky) - ys.Context), y1 = Math.Min(lrH, ys.Start(ky) + ys.Core + ys.Context);
                    var (tile, _) = Run(Crop(looks, lrW, x0, y0, x1 - x0, y1 - y0), x1 - x0, y1 - y0, filters, mean, std);
                    int tw = (x1 - x0) * s;
                    int cx0 = xs.Start(kx) * s, cx1 = Math.Min(lrW, xs.Start(kx) + xs.Core) * s;
                    int cy0 = ys.Start(ky) * s, cy1 = Math.Min(lrH, ys.Start(ky) + ys.Core) * s;
                    for (int y = cy0; y < cy1; y++)
                    {
                        float wy = ys.Weight(ky, y - cy0, s);
                        long row = (long)y * w, tileRow = (long)(y - y0 * s) * tw - x0 * s;
                        for (int x = cx0; x < cx1; x++) sum[row + x] += wy * xs.Weight(kx, x - cx0, s) * tile[tileRow + x];
                    }
                    passed();
                }
        }
        finally
        {
            foreach (var norm in norms)
            {
                norm.CaptureStatistics = false;
                norm.Statistics = null;
            }
        }
    }

    // The standardised SR of looks (lrW x lrH) and the registration filters used (null for the single-image model or
    // without RegNet); given filters replace RegNet's.
    private (float[] Sr, float[]? Filters) Run(List<ProbaVFrame> looks, int lrW, int lrH, float[]? filters, float mean, float std)
    {
        int t = looks.Count, w = lrW * Scale, h = lrH * Scale, hw = w * h;
        var frames = new float[(long)t * hw];
        var masks = new float[frames.Length];
        LookStack.Write(looks, lrW, lrH, Scale, mean, std, frames, masks);
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var backend = _net.Parameters().First().Backend;
        if (_single is not null) return (_single.Forward(Tensor.FromArray(frames, [1, 1, h, w], backend)).ToArray(), null);
        int k = Config.FilterSize;
        var given = filters is null ? null : Tensor.FromArray(filters, [t - 1, 1, k, k], backend);
        var output = _net.Forward(Tensor.FromArray(frames, [1, t, 1, h, w], backend), Tensor.FromArray(masks, [1, t, 1, h, w], backend), given);
        return (output.Sr.ToArray(), output.Filters?.ToArray());
    }

    // The mean and standard deviation of a look's clear pixels (all pixels when none is clear; std 1 when flat).
    private static (float Mean, float Std) ClearStatistics(ProbaVFrame look)
    {
        bool any = look.ClearCount > 0;
        double sum = 0, squares = 0;
        long count = 0;
        for (int i = 0; i < look.Pixels.Length; i++)
        {
            if (any && !look.Clear[i]) continue;
            sum += look.Pixels[i];
            squares += (double)look.Pixels[i] * look.Pixels[i];
            count++;
        }
        double mean = sum / count, std = Math.Sqrt(Math.Max(0, squares / count - mean * mean));
        return ((float)mean, std > 1e-6 ? (float)std : 1f);
    }

    private static List<ProbaVFrame> Crop(List<ProbaVFrame> looks, int lrW, int x0, int y0, int cw, int ch)
        => looks.Select(f =>
        {
            var pixels = new float[cw * ch];
            var clear = new bool[cw * ch];
            for (int y = 0; y < ch; y++)
            {
                Array.Copy(f.Pixels, (y0 + y) * lrW + x0, pixels, y * cw, cw);
                Array.Copy(f.Clear, (y0 + y) * lrW + x0, clear, y * cw, cw);
            }
            return new ProbaVFrame(f.Name, pixels, clear);
        }).ToList();

    private static void Add(float[] sum, float[] values)
    {
        for (int i = 0; i < sum.Length; i++) sum[i] += values[i];
    }

    public void Dispose()
    {
        _single?.Head.Dispose();
        _net.Dispose();
    }
}
