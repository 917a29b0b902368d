using ILGpuSat.Common;
using ILGpuSat.Engine;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Training.Config;

namespace ILGpuSat.Training.Runs;

/// <summary>
/// Validation on held-out HR colour images, deterministic: the first N images of the folder (path order),
/// each cut to its centred square of the configured side (rounded down to what the network accepts), made
/// LR by bicubic down 4x as in training. Per run: Y-PSNR and SSIM (BT.601 Y, range 255, border 4) of the
/// SR result and of bicubic (SR L* joined with the bicubic a*b*, so Y measures the L* the network made), the
/// rebalanced colour cross-entropy at 1/4, colourfulness of the coloured result and of the truth, a row of
/// validation.csv, and a picture grid validation/step-N.png (LR input, bicubic, SR, SR + colour by annealed
/// mean T = 0.38, ground truth) for the first four images.
/// </summary>
public sealed class Validator
{
    private const int Scale = 4, GridImages = 4;
    private readonly SatNetwork _network;
    private readonly Backend _backend;
    private readonly List<Case> _cases = [];

    public Validator(DataConfig data, SatNetwork network, Backend backend, string csvPath, int keepRows)
    {
        _network = network;
        _backend = backend;
        int multiple = Scale * network.SizeMultiple;
        var encoder = new SoftEncoder(AbBins.Default);
        var binWeights = Trainer.RebalancingWeights(data);
        foreach (var file in Data.ImageCatalog.ListImageFiles([data.Validation!]))
        {
            if (_cases.Count == data.ValidationImages) break;
            var image = ImageReader.Read(file);
            if (image.Bands < 3) continue;
            int side = Math.Min(data.ValidationSize, Math.Min(image.Width, image.Height)) / multiple * multiple;
            if (side < 8) continue;
            _cases.Add(Case.Make(file, image, side, encoder, binWeights, network.Normalization));
        }
        if (_cases.Count == 0)
            throw new InvalidOperationException($"validation: {data.Validation} holds no colour image of at least {Math.Max(8, multiple)}x{Math.Max(8, multiple)} pixels.");
        Log = MetricsLog.Open(csvPath, ["step", "psnr_sr", "ssim_sr", "psnr_bicubic", "ssim_bicubic", "color_loss", "colourfulness", "colourfulness_truth"], keepRows);
    }

    public MetricsLog Log { get; }

    public int Images => _cases.Count;

    /// <summary>The last row, in words, for the progress display.</summary>
    public string? LastSummary { get; private set; }

    public void Run(long step, string runFolder)
    {
        var sums = new double[7];
        var grid = new List<float[][]>();
        int cell = _cases.Take(GridImages).Max(c => c.Side);
        _network.Eval();
        try
        {
            foreach (var c in _cases)
            {
                var r = Evaluate(c);
                for (int i = 0; i < sums.Length; i++) sums[i] += r.Metrics[i];
                if (grid.Count < GridImages) grid.Add(r.Pictures.SelectMany(p => p).ToArray());
            }
        }
        finally { _network.Train(); }
        var row = new double[8];
        row[0] = step;
        for (int i = 0; i < 7; i++) row[i + 1] = sums[i] / _cases.Count;
        Log.Append(row);
        LastSummary = $"validation: Y-PSNR {row[1]:F2} dB (bicubic {row[3]:F2}), SSIM {row[2]:F4} (bicubic {row[4]:F4}), colour loss {row[5]:F4}";
        WriteGrid(Path.Combine(runFolder, "validation", $"step-{step:D7}.png"), grid, cell);
    }

    private (double[] Metrics, float[][][] Pictures) Evaluate(Case c)
    {
        int s = c.Side, t = s / Scale, n = s * s;
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var input = _network.Input == NetworkInput.LowResolution
            ? Tensor.FromArray(c.LowInput, [1, 1, t, t], _backend)
            : Tensor.FromArray(c.Input, [1, 1, s, s], _backend);
        var output = _network.Forward(input);
        var norm = _network.Normalization;
        var srL = output.Sr is null ? c.UpL : output.Sr.ToArray().Select(norm.DenormaliseL).Select(l => Math.Clamp(l, 0f, 100f)).ToArray();
        var srRgb = ToRgb(srL, c.UpA, c.UpB);
        double colorLoss = double.NaN;
        float[] a = c.UpA, b = c.UpB;
        bool coloured = false;
        if (output.ColorLogits is not null)
        {
            var target = Tensor.FromArray(c.ColorTarget, [1, AbBins.Count, t, t], _backend);
            var weights = Tensor.FromArray(c.ColorWeights, [1, 1, t, t], _backend);
            colorLoss = F.SoftCrossEntropy(output.ColorLogits, target, weights).Item();
            var la = new float[t * t]; var lb = new float[t * t];
            AnnealedMean.FromLogits(output.ColorLogits.ToArray(), la, lb);
            a = Resampler.Resize(la, t, t, s, s, ResampleKernel.Bilinear, antialias: false);
            b = Resampler.Resize(lb, t, t, s, s, ResampleKernel.Bilinear, antialias: false);
            coloured = true;
        }
        else if (output.Ab is not null)
        {
            var ab = output.Ab.ToArray();
            a = ab.AsSpan(0, n).ToArray().Select(v => v / norm.AbScale).ToArray();
            b = ab.AsSpan(n, n).ToArray().Select(v => v / norm.AbScale).ToArray();
            coloured = true;
        }
        var colour = coloured ? ToRgb(srL, a, b) : ToRgb(srL, new float[n], new float[n]);
        var srY = ImageMetrics.LumaY(srRgb[0], srRgb[1], srRgb[2]);
        var metrics = new[]
        {
            ImageMetrics.Psnr(c.TruthY, srY, s, s, 255, Scale), ImageMetrics.Ssim(c.TruthY, srY, s, s, 255, Scale),
            ImageMetrics.Psnr(c.TruthY, c.BicubicY, s, s, 255, Scale), ImageMetrics.Ssim(c.TruthY, c.BicubicY, s, s, 255, Scale),
            colorLoss, ColorMetrics.Colourfulness(colour[0], colour[1], colour[2]), c.TruthColourfulness,
        };
        var grey = (float[] l) => { var g = l.Select(v => v / 100f).ToArray(); return new[] { g, g, g }; };
        var pictures = new[] { grey(c.LowLNearest), grey(c.UpL), grey(srL), colour, c.Truth };
        return (metrics, pictures);
    }

    private static float[][] ToRgb(float[] l, float[] a, float[] b)
    {
        var rgb = new[] { new float[l.Length], new float[l.Length], new float[l.Length] };
        Lab.LabToRgb(l, a, b, rgb[0], rgb[1], rgb[2]);
        foreach (var p in rgb) for (int i = 0; i < p.Length; i++) p[i] = Math.Clamp(p[i], 0f, 1f);
        return rgb;
    }

    // Rows of five pictures; each picture is three planes of side `Side` (smaller ones sit top-left in a black cell).
    private void WriteGrid(string path, List<float[][]> rows, int cell)
    {
        const int columns = 5, gap = 2;
        int width = columns * cell + (columns - 1) * gap, height = rows.Count * cell + (rows.Count - 1) * gap;
        var planes = new[] { new float[width * height], new float[width * height], new float[width * height] };
        for (int r = 0; r < rows.Count; r++)
        {
            int side = _cases[r].Side;
            for (int col = 0; col < columns; col++)
                for (int ch = 0; ch < 3; ch++)
                {
                    var src = rows[r][col * 3 + ch];
                    for (int y = 0; y < side; y++)
                        src.AsSpan(y * side, side).CopyTo(planes[ch].AsSpan((r * (cell + gap) + y) * width + col * (cell + gap), side));
                }
        }
        ImageWriter.Write(path, new RasterImage(width, height, planes), new WriteOptions { Format = ImageFileFormat.Png });
    }

    private sealed record Case(string File, int Side, float[][] Truth, float[] Input, float[] LowInput, float[] LowLNearest, float[] UpL, float[] UpA, float[] UpB,
                               float[] TruthY, float[] BicubicY, double TruthColourfulness, float[] ColorTarget, float[] ColorWeights)
    {
        public static Case Make(string file, RasterImage image, int s, SoftEncoder encoder, float[] binWeights, LabNormalization norm)
        {
            int t = s / Scale, x0 = (image.Width - s) / 2, y0 = (image.Height - s) / 2;
            var hr = new float[3][];
            for (int c = 0; c < 3; c++)
            {
                hr[c] = new float[s * s];
                for (int y = 0; y < s; y++) image.Planes[c].AsSpan((y0 + y) * image.Width + x0, s).CopyTo(hr[c].AsSpan(y * s, s));
            }
            var low = hr.Select(p => Clamp(Resampler.Bicubic(p, s, s, t, t))).ToArray();
            var up = low.Select(p => Clamp(Resampler.Bicubic(p, t, t, s, s))).ToArray();
            var (upL, upA, upB) = ToLab(up, s * s);
            var (lowL, lowA, lowB) = ToLab(low, t * t);
            var nearest = new float[s * s];
            for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) nearest[y * s + x] = lowL[y / Scale * t + x / Scale];
            var target = new float[AbBins.Count * t * t];
            encoder.Encode(lowA, lowB, target);
            var bins = new int[t * t];
            AbBins.Default.Nearest(lowA, lowB, bins);
            return new Case(file, s, hr, upL.Select(norm.NormaliseL).ToArray(), lowL.Select(norm.NormaliseL).ToArray(), nearest, upL, upA, upB,
                            ImageMetrics.LumaY(hr[0], hr[1], hr[2]), ImageMetrics.LumaY(up[0], up[1], up[2]),
                            ColorMetrics.Colourfulness(hr[0], hr[1], hr[2]), target, bins.Select(q => binWeights[q]).ToArray());
        }

        private static float[] Clamp(float[] p)
        {
            for (int i = 0; i < p.Length; i++) p[i] = Math.Clamp(p[i], 0f, 1f);
            return p;
        }

        private static (float[] L, float[] A, float[] B) ToLab(float[][] rgb, int n)
        {
            var l = new float[n]; var a = new float[n]; var b = new float[n];
            Lab.RgbToLab(rgb[0], rgb[1], rgb[2], l, a, b);
            return (l, a, b);
        }
    }
}
