using System.Reflection;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// A trained network applied to images of any size: 4x super-resolution of L* and colorization, in overlapping
/// tiles blended without seams (docs/inference.md). Holds the network on one backend; no process-wide state, so
/// several enhancers (on several backends) can live side by side. One <see cref="Enhance"/> at a time per instance.
/// </summary>
public sealed class Enhancer : IDisposable
{
    /// <summary>Name of the embedded default weights file (Inference/DefaultModel/default.safetensors).</summary>
    public const string DefaultModelResource = "ILGpuSat.Inference.DefaultModel.default.safetensors";

    /// <summary>Largest automatic tile (LR pixels per side): beyond it tiles gain nothing and the blend band grows.</summary>
    internal const int MaxAutoTile = 512;

    /// <summary>Output rows converted to sRGB and handed to the sink at a time.</summary>
    internal const int EmitRows = 256;

    private readonly Backend _backend;
    private readonly SatNetwork _network;
    private readonly TileRunner _runner;
    private bool _disposed;
    private (double Bytes, double LargestTensorFloats)? _perLrPixel;
    private int? _measuredContext;

    private Enhancer(LoadedModel model, Backend backend)
    {
        Model = model;
        _backend = backend;
        _network = InferenceRuntime.Prepare(model.Network);
        _runner = new TileRunner(_network, backend);
        Multiple = LrMultiple(_network);
        int radius = ReceptiveField.RadiusInInputPixels(_network, model.Config);
        int perLr = _network.Input == NetworkInput.BicubicUpsampled ? _network.Scale : 1;
        // Bicubic x4 reads 2 LR pixels each side, bilinear x4 of the colour 1.
        ReceptiveContext = TileAxis.RoundUp((radius + perLr - 1) / perLr + 3, Multiple);
    }

    /// <summary>The network, its name, config and normalisation, as the weights file described them.</summary>
    public LoadedModel Model { get; }

    /// <summary>Tile positions and sizes are multiples of this many LR pixels (the model's size multiple at LR).</summary>
    internal int Multiple { get; }

    /// <summary>The receptive field in LR pixels (see <see cref="ReceptiveField"/>): context beyond it changes nothing.</summary>
    internal int ReceptiveContext { get; }

    /// <summary>
    /// The context tiled runs use: the option's, or the least at which the outputs stop changing
    /// (<see cref="EffectiveContext"/>, measured on first need; never below the border pad an untiled run reads).
    /// </summary>
    internal int ContextFor(EnhanceOptions options)
    {
        if (options.Context is { } chosen) return TileAxis.RoundUp(chosen, Multiple);
        return _measuredContext ??= EffectiveContext.Measure(_runner, ReceptiveContext, Multiple, TileAxis.BorderPadFor(Multiple));
    }

    /// <summary>Loads a weights file written by <see cref="ModelFile.Save"/> onto <paramref name="backend"/>.</summary>
    public static Enhancer Load(string modelPath, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(backend);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"'{modelPath}': no such model file.", modelPath);
        return new Enhancer(ModelFile.Load(modelPath, backend), backend);
    }

    /// <summary>Loads the default model embedded in this assembly.</summary>
    public static Enhancer LoadDefault(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return EmbeddedModel.Load(DefaultModelResource,
            $"this build of ILGpuSat.Inference has no default model: the embedded resource '{DefaultModelResource}' "
            + "(from Inference/DefaultModel/default.safetensors) is missing; pass a model file instead (--model).",
            path => new Enhancer(ModelFile.Load(path, backend), backend));
    }

    /// <summary>
    /// The 4x colour image of <paramref name="input"/> (and the grey SR image when asked), in memory. Grey or colour
    /// input (colour is reduced to L* and recoloured); nodata kept (scaled by nearest); georeference scaled.
    /// </summary>
    public EnhanceResult Enhance(RasterImage input, EnhanceOptions? options = null,
                                 IProgress<EnhanceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= EnhanceOptions.Default;
        int s = _network.Scale;
        long outPixels = (long)input.Width * s * input.Height * s;
        if (outPixels > int.MaxValue)
            throw new ArgumentException($"Enhance: the {input.Width * s}x{input.Height * s} output does not fit in memory as one image; "
                + "use EnhanceRows to stream it (the CLI writes such outputs as TIFF strips).");
        bool masked = input.Valid is { } v && Array.IndexOf(v, false) >= 0; // as LowResLab decides
        var sink = new InMemorySink(input.Width * s, input.Height * s, options.GreySr, masked);
        EnhanceRows(input, sink, options, progress, cancellationToken);
        var geo = input.Geo?.ScaledBy(s);
        var color = new RasterImage(sink.Width, sink.Height, [sink.R, sink.G, sink.B], sink.Valid, geo, input.SourceBitDepth);
        var grey = sink.Grey is null ? null : new RasterImage(sink.Width, sink.Height, [sink.Grey], (bool[]?)sink.Valid?.Clone(), geo, input.SourceBitDepth);
        return new EnhanceResult(color, grey);
    }

    /// <summary>
    /// Like <see cref="Enhance"/>, but hands the output to <paramref name="sink"/> in blocks of finished rows, top to
    /// bottom, so an output of any size needs memory only for one row of tiles (the input is held whole).
    /// </summary>
    public void EnhanceRows(RasterImage input, IEnhancedRowSink sink, EnhanceOptions? options = null,
                            IProgress<EnhanceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= EnhanceOptions.Default;
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        bool hasColour = _network.Tasks.HasFlag(NetworkTasks.ColorClassification) || _network.Tasks.HasFlag(NetworkTasks.ColorRegression);
        var lab = LowResLab.From(input, keepInputColour: !hasColour);
        var (xs, ys) = PlanTiles(input.Width, input.Height, options);
        if (xs.Count * ys.Count > 1) InferenceRuntime.CollectHostGarbage(); // what decoding and LowResLab left behind
        new TiledPass(this, lab, xs, ys, options, sink, progress, cancellationToken).Run();
    }

    /// <summary>The tile grid for an LR image of this size (automatic tile size when <see cref="EnhanceOptions.TileSize"/> is 0).</summary>
    internal (TileAxis X, TileAxis Y) PlanTiles(int width, int height, EnhanceOptions options)
    {
        int whole = Math.Max(TileAxis.RoundUp(width, Multiple), TileAxis.RoundUp(height, Multiple));
        var (wholeW, wholeH) = WholeImageWindow(width, height);
        int tile, context;
        bool oneTile = options.TileSize > 0
            ? options.TileSize >= whole && TileIndexable(wholeW, wholeH)
            : TileFits(wholeW, wholeH, width, height) && TileIndexable(wholeW, wholeH);
        if (oneTile)
            // One tile: the context is never read between tiles; only the border pad at the image's edges is.
            (tile, context) = (whole, Math.Max(ReceptiveContext, TileAxis.BorderPadFor(Multiple)));
        else
        {
            context = ContextFor(options);
            tile = options.TileSize > 0 ? IndexableTile(options.TileSize, context) : AutomaticTileSize(options.Overlap, context, width, height);
        }
        return (TileAxis.Create(width, tile, options.Overlap, context, Multiple),
                TileAxis.Create(height, tile, options.Overlap, context, Multiple));
    }

    /// <summary>How an image of this size would be cut into tiles (and with how much context) under these options.</summary>
    public TilingPlan PlanTiling(int width, int height, EnhanceOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= EnhanceOptions.Default;
        options.Validate();
        var (xs, ys) = PlanTiles(width, height, options);
        bool oneTile = xs.Count * ys.Count == 1;
        return new TilingPlan(xs.Count, ys.Count, oneTile ? Math.Max(width, height) : xs.Core,
                              oneTile ? 0 : xs.Context, xs.Overlap, ReceptiveContext,
                              (long)(TileBytes(xs.SpanOf(0), ys.SpanOf(0))), InferenceRuntime.TileBudgetBytes(_backend, width, height));
    }

    /// <summary>
    /// The LR window of one untiled forward of the whole image: its edges padded by the border pad only, as
    /// <see cref="TileAxis.End"/> reads them. When it fits, no context is computed twice and no tile is needed.
    /// </summary>
    private (int Width, int Height) WholeImageWindow(int width, int height)
    {
        int pad = TileAxis.BorderPadFor(Multiple);
        return (TileAxis.RoundUp(width, Multiple) + 2 * pad, TileAxis.RoundUp(height, Multiple) + 2 * pad);
    }

    /// <summary>Whether one tile over an LR window of <paramref name="lrWidth"/> x <paramref name="lrHeight"/> fits the
    /// backend's tile budget, by the measured bytes per LR pixel (<see cref="TileMemory"/>).</summary>
    private bool TileFits(int lrWidth, int lrHeight, int imageWidth, int imageHeight)
        => TileBytes(lrWidth, lrHeight) <= InferenceRuntime.TileBudgetBytes(_backend, imageWidth, imageHeight);

    private double TileBytes(int lrWidth, int lrHeight)
        => (double)lrWidth * lrHeight * PerLrPixel.Bytes;

    private (double Bytes, double LargestTensorFloats) PerLrPixel => _perLrPixel ??= TileMemory.PerLrPixel(_runner, _backend, Multiple);

    /// <summary>Whether every tensor of a tile over this LR window stays within the backend's per-tensor limit.</summary>
    private bool TileIndexable(int lrWidth, int lrHeight)
        => (double)lrWidth * lrHeight * PerLrPixel.LargestTensorFloats <= _backend.MaxBufferFloats;

    /// <summary>
    /// A chosen tile, made smaller where its window would hold a tensor past the backend's per-tensor limit (a
    /// 2048-pixel tile on CUDA would need a 313-bin softmax of 1.3 G floats; the kernels take 2^30).
    /// </summary>
    private int IndexableTile(int tile, int context)
    {
        while (tile > Multiple && !TileIndexable(tile + 2 * context, tile + 2 * context)) tile = Math.Max(Multiple, tile / 2 / Multiple * Multiple);
        return tile;
    }

    /// <summary>
    /// The largest core whose padded tile fits the backend's budget (<see cref="InferenceRuntime.TileBudgetBytes"/>) and
    /// whose blend band (three float planes, one core of output rows as wide as the image) fits the host's
    /// (<see cref="InferenceRuntime.BandBudgetBytes"/>).
    /// </summary>
    internal int AutomaticTileSize(int overlap, int context, int width, int height)
    {
        int s = _network.Scale;
        int minimum = TileAxis.RoundUp(Math.Max(2 * overlap, 1) + Multiple, Multiple);
        int best = minimum;
        for (int core = minimum; core <= MaxAutoTile; core += Multiple)
        {
            int span = core + 2 * context;
            double band = 3.0 * sizeof(float) * core * s * ((double)width * s);
            if (!TileFits(span, span, width, height) || !TileIndexable(span, span) || band > InferenceRuntime.BandBudgetBytes) break;
            best = core;
        }
        return best;
    }

    /// <summary>LR size multiple: the network's input multiple, at LR (a 4x bicubic input needs 8 / gcd(8, 4) = 2).</summary>
    private static int LrMultiple(SatNetwork network)
    {
        int m = network.SizeMultiple;
        if (network.Input == NetworkInput.LowResolution) return m;
        int g = Gcd(m, network.Scale);
        return m / g;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _runner.Dispose();
        _network.Dispose();
        if (!ReferenceEquals(_network, Model.Network)) Model.Network.Dispose();
    }

    /// <summary>
    /// One pass over the tile grid: tile rows top to bottom; each tile's core, weighted by the blend ramps, is added
    /// into a band of output rows as wide as the image and one core high; after each tile row the rows that no later
    /// tile touches are converted to sRGB and sent, and the overlap rows move to the top of the band.
    /// </summary>
    private sealed class TiledPass(Enhancer owner, LowResLab lab, TileAxis xs, TileAxis ys, EnhanceOptions options,
                                   IEnhancedRowSink sink, IProgress<EnhanceProgress>? progress, CancellationToken ct)
    {
        private readonly int _s = owner._network.Scale;

        public void Run()
        {
            int s = _s, ow = lab.Width * s, oh = lab.Height * s;
            int bandRows = ys.Core * s;
            long bandSize = (long)bandRows * ow;
            var bandL = new float[bandSize];
            var bandA = new float[bandSize];
            var bandB = new float[bandSize];
            var rows = new EnhancedRows(ow, Math.Min(bandRows, EmitRows), options.GreySr, lab.Valid is not null);
            // One LR window buffer for every tile (interior tiles are the largest), so tiles make no garbage.
            int windowMax = Enumerable.Range(0, xs.Count).Max(xs.SpanOf) * Enumerable.Range(0, ys.Count).Max(ys.SpanOf);
            _windowL = new float[windowMax];
            _windowA = lab.A is null ? null : new float[windowMax];
            _windowB = lab.B is null ? null : new float[windowMax];
            long total = (long)xs.Count * ys.Count, done = 0;
            var wx = new float[xs.Count][];
            for (int kx = 0; kx < xs.Count; kx++)
            {
                wx[kx] = new float[xs.Core * s];
                for (int u = 0; u < wx[kx].Length; u++) wx[kx][u] = xs.Weight(kx, u, s);
            }

            for (int ky = 0; ky < ys.Count; ky++)
            {
                int y0 = ys.Start(ky) * s;
                for (int kx = 0; kx < xs.Count; kx++)
                {
                    ct.ThrowIfCancellationRequested();
                    int spanX = xs.SpanOf(kx), spanY = ys.SpanOf(ky);
                    Extract(xs.Start(kx) - xs.Before(kx), ys.Start(ky) - ys.Before(ky), spanX, spanY);
                    var (l, a, b) = owner._runner.Run(_windowL, _windowA, _windowB, spanX, spanY, options.Temperature);
                    Accumulate(l, a, b, kx, ky, wx[kx], bandL, bandA, bandB, ow);
                    if (total > 1) InferenceRuntime.CollectHostGarbage();
                    progress?.Report(new EnhanceProgress(++done, total));
                }
                int finished = ky < ys.Count - 1 ? ys.Stride * s : bandRows;
                finished = Math.Min(finished, oh - y0);
                Emit(y0, finished, bandL, bandA, bandB, ow, rows);
                if (ky < ys.Count - 1)
                {
                    long keep = (long)(bandRows - ys.Stride * s) * ow, from = (long)ys.Stride * s * ow;
                    foreach (var p in new[] { bandL, bandA, bandB })
                    {
                        Array.Copy(p, from, p, 0, keep);
                        Array.Clear(p, (int)keep, (int)(bandSize - keep));
                    }
                }
            }
        }

        private float[] _windowL = [];
        private float[]? _windowA, _windowB;

        /// <summary>The tile's LR window (reflect-padded beyond the image) of L* and, when kept, a*b*, into the window buffers.</summary>
        private void Extract(int x0, int y0, int w, int h)
        {
            float[] l = _windowL;
            float[]? a = _windowA, b = _windowB;
            var cols = new int[w];
            for (int x = 0; x < w; x++) cols[x] = TileAxis.Reflect(x0 + x, lab.Width);
            for (int y = 0; y < h; y++)
            {
                int src = TileAxis.Reflect(y0 + y, lab.Height) * lab.Width;
                for (int x = 0; x < w; x++)
                {
                    l[y * w + x] = lab.L[src + cols[x]];
                    if (a is not null) { a[y * w + x] = lab.A![src + cols[x]]; b![y * w + x] = lab.B![src + cols[x]]; }
                }
            }
        }

        /// <summary>Adds the weighted core of tile (kx, ky) into the band (rows relative to the tile row's top).</summary>
        private void Accumulate(float[] l, float[] a, float[] b, int kx, int ky, float[] wx, float[] bandL, float[] bandA, float[] bandB, int ow)
        {
            int s = _s, tileW = xs.SpanOf(kx) * s, ctxX = xs.Before(kx) * s, ctxY = ys.Before(ky) * s;
            int outX0 = xs.Start(kx) * s;
            // A last core may run past its window (the window stops a border pad past the image): only the part inside counts.
            int cols = Math.Min(Math.Min(xs.Core, xs.End(kx) - xs.Start(kx)) * s, ow - outX0);
            int rowsInBand = Math.Min(ys.Core, ys.End(ky) - ys.Start(ky)) * s;
            Parallel.For(0, rowsInBand, v =>
            {
                float wy = ys.Weight(ky, v, s);
                int src = (ctxY + v) * tileW + ctxX;
                long dst = (long)v * ow + outX0;
                for (int u = 0; u < cols; u++)
                {
                    float w = wy * wx[u];
                    bandL[dst + u] += w * l[src + u];
                    bandA[dst + u] += w * a[src + u];
                    bandB[dst + u] += w * b[src + u];
                }
            });
        }

        /// <summary>
        /// Band rows [0, count) become output rows [y0, y0 + count): Lab to sRGB, the mask by nearest, to the sink, in
        /// blocks of at most <see cref="EmitRows"/> rows (the sRGB rows need not be as tall as the band).
        /// </summary>
        private void Emit(int y0, int count, float[] bandL, float[] bandA, float[] bandB, int ow, EnhancedRows rows)
        {
            int capacity = rows.Red.Length / ow;
            for (int first = 0; first < count; first += capacity)
                EmitBlock(y0, first, Math.Min(capacity, count - first), bandL, bandA, bandB, ow, rows);
        }

        private void EmitBlock(int y0, int first, int count, float[] bandL, float[] bandA, float[] bandB, int ow, EnhancedRows rows)
        {
            int s = _s;
            // The grey SR image is Lab (L*, 0, 0) to sRGB, red taken: one zero row for every row, and per thread a
            // scratch pair for the green and blue it discards (rows of a wide image would each allocate on the LOH).
            var zero = rows.Grey is null ? null : new float[ow];
            Parallel.For(0, count, () => rows.Grey is null ? null : new float[2 * ow], (v, _, scratch) =>
            {
                int o = v * ow;
                int from = (first + v) * ow;
                Lab.LabToRgb(bandL.AsSpan(from, ow), bandA.AsSpan(from, ow), bandB.AsSpan(from, ow),
                             rows.Red.AsSpan(o, ow), rows.Green.AsSpan(o, ow), rows.Blue.AsSpan(o, ow));
                if (rows.Grey is { } grey)
                    Lab.LabToRgb(bandL.AsSpan(from, ow), zero, zero, grey.AsSpan(o, ow), scratch.AsSpan(0, ow), scratch.AsSpan(ow, ow));
                if (rows.Valid is { } valid)
                {
                    int srcRow = (y0 + first + v) / s * lab.Width;
                    for (int x = 0; x < ow; x++)
                    {
                        bool ok = lab.Valid![srcRow + x / s];
                        valid[o + x] = ok;
                        if (!ok)
                        {
                            rows.Red[o + x] = rows.Green[o + x] = rows.Blue[o + x] = 0f;
                            if (rows.Grey is { } g) g[o + x] = 0f;
                        }
                    }
                }
                return scratch;
            }, _ => { });
            rows.Y0 = y0 + first;
            rows.Rows = count;
            sink.WriteRows(rows);
        }
    }

    /// <summary>Collects the rows into whole planes (the in-memory <see cref="Enhance"/>).</summary>
    private sealed class InMemorySink(int width, int height, bool grey, bool masked) : IEnhancedRowSink
    {
        public int Width { get; } = width;
        public int Height { get; } = height;
        public float[] R { get; } = new float[(long)width * height];
        public float[] G { get; } = new float[(long)width * height];
        public float[] B { get; } = new float[(long)width * height];
        public float[]? Grey { get; } = grey ? new float[(long)width * height] : null;
        public bool[]? Valid { get; } = masked ? new bool[(long)width * height] : null;

        public void WriteRows(EnhancedRows rows)
        {
            long dst = (long)rows.Y0 * Width;
            int n = rows.Rows * Width;
            Array.Copy(rows.Red, 0, R, dst, n);
            Array.Copy(rows.Green, 0, G, dst, n);
            Array.Copy(rows.Blue, 0, B, dst, n);
            if (Grey is not null) Array.Copy(rows.Grey!, 0, Grey, dst, n);
            if (Valid is not null) Array.Copy(rows.Valid!, 0, Valid, dst, n);
        }
    }
}
