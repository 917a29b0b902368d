using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Training.Color;
using ILGpuSat.Training.Data;

namespace ILGpuSat.Training.Runs;

/// <summary>One divcolor training run (the VAE, then the MDN), written as RUN/config.json before the first step (docs/colorizers.md).</summary>
public sealed record DivColorTrainConfig
{
    /// <summary>Folders or files of colour targets (optical images, or the Lab-fused SAR targets of fuse-sar).</summary>
    public IReadOnlyList<string> Data { get; init; } = [];

    /// <summary>A folder of grey inputs paired with <see cref="Data"/> by file name (SAR); null = grey is each target's L* / 100.</summary>
    public string? Grey { get; init; }

    public DivColorConfig Model { get; init; } = new();

    /// <summary>Share of files held out by name for validation.</summary>
    public double HeldOut { get; init; } = 0.1;

    /// <summary>File names held out instead of the hashed share (data split by footprint, as sar-optical).</summary>
    public IReadOnlyList<string>? HeldOutNames { get; init; }

    /// <summary>The least crop, in field sides: a field covers MinFactor x Size pixels or more, up to the whole image.</summary>
    public int MinFactor { get; init; } = 4;

    public int Batch { get; init; } = 32;

    /// <summary>Steps of the first stage (the VAE: grey encoder, encoder, decoder); the MDN's steps follow.</summary>
    public long VaeSteps { get; init; } = 3000;

    public long MdnSteps { get; init; } = 1000;

    /// <summary>Adam for both stages, betas 0.9 / 0.999 as the two-stage recipe.</summary>
    public double VaeLr { get; init; } = 1e-3;

    public double MdnLr { get; init; } = 1e-3;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    /// <summary>The 313 rebalancing weights of the colour-rebalanced L2 (.npy or .txt, as the prior command writes them); null = Zhang's ImageNet prior's.</summary>
    public string? RebalancingWeights { get; init; }

    /// <summary>Training fields the ab principal components are fitted on, and how many components the Mahalanobis loss keeps.</summary>
    public int PcaFields { get; init; } = 1024;

    public int PcaComponents { get; init; } = 20;

    /// <summary>
    /// Weights of the decoder's losses and of the KL term, all per field. The colour-rebalanced L2 and the gradient loss
    /// are sums of squares over a field's values divided by twice the training fields' mean variance per value: a
    /// Gaussian likelihood whose deviation is the data's own, so that predicting the mean field costs about D / 2 on any
    /// data (muted SAR targets as vivid photographs). In absolute units (ab / 110) a muted set's errors are small beside
    /// the KL term and the code collapses; with the L2 alone beside the whitened Mahalanobis loss, that loss's minor
    /// components (tiny variances, huge weights) drive the gradient and it collapses too (docs/colorizers.md).
    /// </summary>
    public double HistogramWeight { get; init; } = 1;

    public double MahalanobisWeight { get; init; } = 1;

    public double GradientWeight { get; init; } = 1;

    public double KlWeight { get; init; } = 1;

    /// <summary>
    /// Over these first steps the sampling noise and the KL weight both rise linearly from 0 (the VAE starts as a plain
    /// autoencoder, z = mu): the decoder has the grey features through its skip connections and, given noisy codes from
    /// the start, learns to ignore z (posterior collapse; docs/colorizers.md).
    /// </summary>
    public long KlWarmupSteps { get; init; } = 500;

    /// <summary>
    /// The fixed standard deviation of every mixture component (the MDN predicts weights and means only). 1.5 rather
    /// than 0.5: on AID's codes the top hypothesis' held-out error was 7.66 against 8.17 ab units (docs/colorizers.md).
    /// </summary>
    public double MdnSigma { get; init; } = 1.5;

    /// <summary>
    /// A divcolor checkpoint to start from: everything but the MDN head is loaded (the head starts fresh), so with
    /// vaeSteps 0 a run trains only a new MDN on a trained VAE (another mdnSigma, more components' steps).
    /// </summary>
    public string? Init { get; init; }

    public int Seed { get; init; } = 1;

    public int LogInterval { get; init; } = 10;

    public int ValidateInterval { get; init; } = 250;

    public int ValidationFields { get; init; } = 64;

    public int CheckpointInterval { get; init; } = 100;

    public int KeepLast { get; init; } = 2;

    public long Steps => VaeSteps + MdnSteps;

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The share of the sampling noise and of the KL weight in force at a step: 0 at step 0, 1 from KlWarmupSteps on.</summary>
    public double WarmupAt(long step) => KlWarmupSteps <= 0 ? 1 : Math.Min(1, (double)step / KlWarmupSteps);

    public double KlWeightAt(long step) => KlWeight * WarmupAt(step);

    public DivColorTrainConfig Validate()
    {
        static void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ArgumentException($"divcolor config: {key} {problem}");
        }
        Model.Validate();
        Check(Data.Count > 0, "data", "names no folder of colour targets.");
        Check(Grey is null || Directory.Exists(Grey), "grey", $"names a folder that does not exist: {Grey}.");
        Check(RebalancingWeights is null || File.Exists(RebalancingWeights), "rebalancingWeights", $"names a file that does not exist: {RebalancingWeights}.");
        Check(Batch >= 1 && VaeSteps >= 0 && MdnSteps >= 0 && VaeSteps + MdnSteps >= 1, "batch / vaeSteps / mdnSteps", "must be 0 or more, with at least one step, and batch positive.");
        Check(VaeSteps >= 1 || Init is not null, "vaeSteps", "may be 0 only with init (a trained VAE to fit a new MDN on).");
        Check(Init is null || File.Exists(Init), "init", $"names a file that does not exist: {Init}.");
        Check(MinFactor >= 1, "minFactor", "must be at least 1.");
        Check(VaeLr > 0 && MdnLr > 0, "vaeLr / mdnLr", "must be positive.");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "beta1 / beta2", "must lie in [0, 1).");
        Check(PcaComponents >= 1 && PcaFields > PcaComponents, "pcaFields / pcaComponents", "need more fields than components, and at least one component.");
        Check(HistogramWeight >= 0 && MahalanobisWeight >= 0 && GradientWeight >= 0 && KlWeight >= 0 && KlWarmupSteps >= 0,
              "histogramWeight / mahalanobisWeight / gradientWeight / klWeight / klWarmupSteps", "must be 0 or more.");
        Check(MdnSigma > 0, "mdnSigma", "must be positive.");
        Check(HeldOut is > 0 and < 1, "heldOut", $"must lie in (0, 1), got {HeldOut}.");
        Check(LogInterval >= 1 && ValidateInterval >= 0 && CheckpointInterval >= 1 && KeepLast >= 1 && ValidationFields >= 1,
              "intervals", "must be positive (validateInterval 0 = never).");
        return this;
    }
}

/// <summary>
/// Trains divcolor in the two stages of Deshpande et al. 2017 (docs/colorizers.md), one Adam per stage:
/// <list type="number">
/// <item>the VAE, steps 1..VaeSteps: z = mu + sigma eps from the encoder of the true ab field, decoded with the grey
/// features; loss = colour-rebalanced L2 + Mahalanobis loss in the ab principal components (fitted once on training
/// fields, with MathNet.Numerics, and kept in RUN/ab_pca_whitening.npy) + gradient loss + KL (weight warmed up);</item>
/// <item>the MDN, the next MdnSteps: the grey encoder and the VAE frozen (eval mode), the mixture head fitted by NLL to
/// the encoder's means of the true fields, every component with the fixed deviation MdnSigma.</item>
/// </list>
/// metrics.csv holds every term (NaN where a stage has none), plotted to vae_losses.png and mdn_nll.png;
/// validation.csv the held-out reconstruction and prior-mean errors (stage 1), and the MDN's NLL, top-1 and best-of-K
/// errors and the diversity of its K hypotheses (stage 2). Checkpoints hold the network and both optimizers; a resumed
/// run continues exactly.
/// </summary>
public sealed class DivColorTrainer : IDisposable
{
    public const string ModelName = DivColorFile.ModelName;
    public const string PcaName = "ab_pca_whitening.npy";
    public const string VarianceName = "ab_field_variance.txt";

    /// <summary>The MDN head's starting scale (<see cref="DivColor.ShrinkMixtureHead"/>).</summary>
    public const float MixtureHeadScale = 0.01f;

    private static readonly string[] MetricColumns = ["step", "loss", "histogram", "mahalanobis", "gradient", "kl", "nll"];
    private static readonly string[] ValidationColumns = ["step", "recon_rmse", "prior_rmse", "nll", "top1_rmse", "best_rmse", "diversity"];

    private readonly DivColorTrainConfig _config;
    private readonly Backend _backend;
    private readonly DivColor _model;
    private readonly Adam _optVae, _optMdn;
    private readonly ColourFields _train, _heldOut;
    private readonly Tensor _whitening;
    private readonly double _fieldVariance;
    private readonly CheckpointStore _store;
    private readonly MetricsLog _metrics, _validation;
    private readonly string _run;
    private long _step;
    private readonly double[] _sums = new double[MetricColumns.Length - 1];
    private int _summed;

    private DivColorTrainer(DivColorTrainConfig config, string run, Backend backend, TrainingState? resume, string? weights,
                            (string Vae, string Mdn)? optimizers)
    {
        _config = config;
        _backend = backend;
        _run = run;
        _model = new DivColor(new LayerFactory(backend, config.Seed), config.Model);
        if (weights is not null) LoadWeights(weights);
        else
        {
            if (config.Init is not null) LoadVae(config.Init);
            _model.ShrinkMixtureHead(MixtureHeadScale);
        }
        _optVae = new Adam(_model.VaeParameters(), (float)config.VaeLr, (float)config.Beta1, (float)config.Beta2);
        _optMdn = new Adam(_model.MixtureParameters(), (float)config.MdnLr, (float)config.Beta1, (float)config.Beta2);
        var binWeights = (config.RebalancingWeights is null ? ColorPrior.ImageNet.RebalancingWeights() : PriorFiles.LoadWeights(config.RebalancingWeights))
                         .Select(w => (float)w).ToArray();
        var (trainFiles, heldFiles) = ColourWindows.Files(config.Data, config.Grey, config.HeldOut, config.HeldOutNames);
        if (heldFiles.Count == 0) heldFiles = [trainFiles[^1]];
        _train = new ColourFields(trainFiles, config.Model.Size, config.MinFactor, binWeights, config.Seed);
        _heldOut = new ColourFields(heldFiles, config.Model.Size, config.MinFactor, binWeights, config.Seed + 7919);
        var (whitening, variance) = FieldStatistics();
        _whitening = Tensor.FromArray(whitening, [config.PcaComponents, 2 * config.Model.Size * config.Model.Size], backend).Keep();
        _fieldVariance = variance;
        _store = new CheckpointStore(run);
        _metrics = MetricsLog.Open(Path.Combine(run, "metrics.csv"), MetricColumns, resume?.MetricRows ?? 0);
        _validation = MetricsLog.Open(Path.Combine(run, "validation.csv"), ValidationColumns, resume?.ValidationRows ?? 0);
        if (resume is not null)
        {
            _optVae.LoadState(optimizers!.Value.Vae, _model.NamedParameters());
            _optMdn.LoadState(optimizers.Value.Mdn, _model.NamedParameters());
            _step = resume.Step;
            for (int i = 0; i < _sums.Length && i < resume.IntervalSums.Count; i++) _sums[i] = resume.IntervalSums[i];
            _summed = resume.IntervalSteps;
        }
    }

    public DivColor Model => _model;

    public static long Start(DivColorTrainConfig config, string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        config.Validate();
        RunFolder.Begin(run, config, DivColorTrainConfig.JsonOptions);
        using var trainer = new DivColorTrainer(config, run, backend, null, null, null);
        return trainer.Run(report, ct);
    }

    public static long Resume(string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        var config = RunFolder.ReadConfig<DivColorTrainConfig>(run, DivColorTrainConfig.JsonOptions).Validate();
        var store = new CheckpointStore(run);
        var (pointer, state) = store.ReadLatest();
        using var trainer = new DivColorTrainer(config, run, backend, state, Path.Combine(store.Folder, CheckpointStore.WeightsName(pointer.Step)),
            (Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step, "vae")), Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step, "mdn"))));
        return trainer.Run(report, ct);
    }

    /// <summary>
    /// The whitening weights [K, D] of the ab principal components and the fields' mean variance per value: fitted on
    /// PcaFields training fields when the run starts and kept in the run folder, so a resumed run (and a rerun on
    /// another machine) uses the very same basis and scale.
    /// </summary>
    private (float[] Whitening, double Variance) FieldStatistics()
    {
        string path = Path.Combine(_run, PcaName);
        int k = _config.PcaComponents, d = 2 * _config.Model.Size * _config.Model.Size;
        if (File.Exists(path))
        {
            var (data, shape) = Npy.Read(path);
            if (shape.Length != 2 || shape[0] != k || shape[1] != d)
                throw new InvalidDataException($"{path}: whitening weights of shape [{string.Join(", ", shape)}], but this run needs [{k}, {d}].");
            string variancePath = Path.Combine(_run, VarianceName);
            if (!File.Exists(variancePath) || !double.TryParse(File.ReadAllText(variancePath), NumberStyles.Float, CultureInfo.InvariantCulture, out double kept) || !(kept > 0))
                throw new InvalidDataException($"{variancePath}: missing or not a positive number (the fields' variance, written with {PcaName}).");
            return (data, kept);
        }
        var fields = new List<float[]>(_config.PcaFields);
        for (int i = 0; i < _config.PcaFields; i += _config.Batch)
        {
            int count = Math.Min(_config.Batch, _config.PcaFields - i);
            var b = _train.Batch(-1_000_000 - i, count);
            for (int j = 0; j < count; j++) fields.Add(b.Ab.AsSpan(j * d, d).ToArray());
        }
        var whitening = AbPrincipalComponents.Fit(fields, k).WhiteningWeights();
        Npy.Write(path, whitening, [k, d]);
        double variance = MeanVariance(fields);
        Common.AtomicFile.WriteAllText(Path.Combine(_run, VarianceName), variance.ToString("R", CultureInfo.InvariantCulture));
        return (whitening, variance);
    }

    /// <summary>The fields' variance per value about the mean field, averaged over the D values.</summary>
    private static double MeanVariance(IReadOnlyList<float[]> fields)
    {
        int d = fields[0].Length, m = fields.Count;
        double total = 0;
        for (int j = 0; j < d; j++)
        {
            double mean = 0, squares = 0;
            foreach (var f in fields) mean += f[j];
            mean /= m;
            foreach (var f in fields) squares += (f[j] - mean) * (f[j] - mean);
            total += squares / (m - 1);
        }
        return Math.Max(total / d, 1e-12);
    }

    private void LoadWeights(string path)
    {
        var loaded = SafeTensors.Load(path, _backend);
        try { _model.LoadStateDict(loaded, strict: true); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: not a checkpoint of this divcolor: {e.Message}", e); }
        finally { foreach (var t in loaded.Values) t.Dispose(); }
    }

    /// <summary>Everything but the MDN head from a divcolor checkpoint (the encoder included: the MDN learns its codes).</summary>
    private void LoadVae(string path)
    {
        var loaded = SafeTensors.Load(path, _backend);
        try { _model.LoadPart(loaded, name => !DivColorFile.InMixtureHead(name)); }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"init {path}: not a divcolor checkpoint of this config: {e.Message} (an exported file lacks the encoder; start from a checkpoint)", e);
        }
        finally { foreach (var t in loaded.Values) t.Dispose(); }
    }

    private bool InVaeStage(long step) => step < _config.VaeSteps;

    private long Run(Action<string>? report, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long clockStep = _step;
        while (_step < _config.Steps && !ct.IsCancellationRequested)
        {
            bool vae = InVaeStage(_step);
            var b = _train.Batch(_step, _config.Batch);
            var terms = vae ? VaeStep(b) : MdnStep(b);
            if (!terms.Where((_, i) => vae ? i < 5 : i == 5).All(double.IsFinite))
                throw new TrainingDivergedException(_step + 1, $"step {_step + 1}: a divcolor loss is not finite ({string.Join(", ", terms)}).");
            _step++;
            for (int i = 0; i < _sums.Length; i++) _sums[i] += terms[i];
            _summed++;
            bool stageEnd = _step == _config.VaeSteps || _step == _config.Steps;
            if (_step % _config.LogInterval == 0 || stageEnd)
            {
                var mean = _sums.Select(v => v / _summed).ToArray();
                _metrics.Append([_step, .. mean]);
                double rate = _config.Batch * (_step - clockStep) / clock.Elapsed.TotalSeconds;
                report?.Invoke(vae
                    ? $"step {_step}/{_config.Steps} VAE  loss {mean[0]:G4} (rebalanced L2 {mean[1]:G4}, Mahalanobis {mean[2]:G4}, gradient {mean[3]:G4}, KL {mean[4]:G4})  {rate:F0} fields/s"
                    : $"step {_step}/{_config.Steps} MDN  NLL {mean[5]:G4}  {rate:F0} fields/s");
                Array.Clear(_sums);
                _summed = 0;
                WritePlots();
            }
            if (_config.ValidateInterval > 0 && (_step % _config.ValidateInterval == 0 || stageEnd))
            {
                string summary = Validate(); // not inside report?.Invoke(...), which would skip it without a reporter
                report?.Invoke(summary);
            }
            if (_step % _config.CheckpointInterval == 0 || stageEnd) Checkpoint();
        }
        if (_step < _config.Steps) Checkpoint();
        return _step;
    }

    private int FieldValues => 2 * _config.Model.Size * _config.Model.Size;

    /// <summary>The VAE's step; returns loss, rebalanced L2, Mahalanobis, gradient, KL (each per field) and NaN for the NLL.</summary>
    private double[] VaeStep(ColourFieldBatch b)
    {
        int n = b.Count, s = b.Side, d = FieldValues;
        using var scope = new TensorScope();
        _model.Train();
        var grey = Tensor.FromArray(b.Grey, [n, 1, s, s], _backend);
        var ab = Tensor.FromArray(b.Ab, [n, 2, s, s], _backend);
        var weights = Tensor.FromArray(b.Weights, [n, 2, s, s], _backend);
        _optVae.ZeroGrad();
        var features = _model.GreyFeatures(grey);
        var (mu, logVar) = _model.Encode(ab);
        var epsilon = F.StandardNormal([n, _config.Model.Z], new Random(Seeds.Derive(_config.Seed, "vae-epsilon", _step)), _backend);
        var z = F.Add(mu, F.Mul(F.Exp(F.Mul(logVar, 0.5f)), F.Mul(epsilon, (float)_config.WarmupAt(_step))));
        var predicted = _model.Decode(z, features);
        var (histogram, mahalanobis, gradient) = DecoderLosses(predicted, ab, weights, n, d);
        var kl = F.GaussianKl(mu, logVar, n);
        var decoder = F.Add(F.Add(F.Mul(histogram, (float)_config.HistogramWeight), F.Mul(mahalanobis, (float)_config.MahalanobisWeight)),
                            F.Mul(gradient, (float)_config.GradientWeight));
        double klWeight = _config.KlWeightAt(_step);
        var loss = klWeight > 0 ? F.Add(decoder, F.Mul(kl, (float)klWeight)) : decoder; // 0 x an overflowing KL would be NaN
        loss.Backward();
        _optVae.Step();
        return [loss.Item(), histogram.Item(), mahalanobis.Item(), gradient.Item(), kl.Item(), double.NaN];
    }

    /// <summary>
    /// The decoder's three losses per field: the rebalanced L2 and the gradient loss as sums over the field's D values
    /// over twice the fields' variance, the Mahalanobis loss as the sum of the whitened errors' squares.
    /// </summary>
    private (Tensor Histogram, Tensor Mahalanobis, Tensor Gradient) DecoderLosses(Tensor predicted, Tensor ab, Tensor weights, int n, int d)
    {
        float perField = (float)(d / (2 * _fieldVariance));
        var histogram = F.Mul(F.WeightedMseLoss(predicted, ab, weights), perField);
        var whitened = F.Linear(F.Flatten(F.Sub(predicted, ab)), _whitening);
        var mahalanobis = F.Mul(F.Sum(F.Mul(whitened, whitened)), 1f / n);
        var gradient = F.Mul(F.GradientLoss(predicted, ab), perField);
        return (histogram, mahalanobis, gradient);
    }

    /// <summary>The MDN's step on frozen grey features and the encoder's means; NaN for the VAE's terms, then the NLL.</summary>
    private double[] MdnStep(ColourFieldBatch b)
    {
        int n = b.Count, s = b.Side;
        using var scope = new TensorScope();
        _model.Eval();
        var grey = Tensor.FromArray(b.Grey, [n, 1, s, s], _backend);
        var ab = Tensor.FromArray(b.Ab, [n, 2, s, s], _backend);
        Tensor[] features;
        Tensor codes;
        using (Autograd.NoGrad())
        {
            features = _model.GreyFeatures(grey);
            codes = _model.Encode(ab).Mu;
        }
        _optMdn.ZeroGrad();
        var nll = MixtureNll(features, codes, n);
        nll.Backward();
        _optMdn.Step();
        return [nll.Item(), double.NaN, double.NaN, double.NaN, double.NaN, nll.Item()];
    }

    private Tensor MixtureNll(Tensor[] features, Tensor codes, int n)
    {
        var (logits, means) = _model.Mixture(features);
        var logStd = Tensor.Full([n, _config.Model.Components, _config.Model.Z], (float)Math.Log(_config.MdnSigma), _backend);
        return F.GaussianMixtureNll(codes, logits, means, logStd);
    }

    /// <summary>
    /// Held-out fields, errors as ab RMSE in ab units: the VAE's reconstruction (decoding the posterior mean) and the
    /// prior mean (z = 0); once the MDN trains, its NLL, the error of its top hypothesis and of the best of its K, and
    /// their diversity (the mean over pairs of hypotheses of the mean per-pixel ab distance).
    /// </summary>
    private string Validate()
    {
        _model.Eval();
        int total = _config.ValidationFields, s = _config.Model.Size, ss = s * s, k = _config.Model.Components;
        bool mdn = !InVaeStage(_step - 1);
        double recon = 0, prior = 0, nll = 0, top = 0, best = 0, diversity = 0;
        try
        {
            using var noGrad = Autograd.NoGrad();
            for (int i = 0; i < total; i += _config.Batch)
            {
                int n = Math.Min(_config.Batch, total - i);
                using var scope = new TensorScope();
                var b = _heldOut.Batch(-1 - i, n);
                var grey = Tensor.FromArray(b.Grey, [n, 1, s, s], _backend);
                var ab = Tensor.FromArray(b.Ab, [n, 2, s, s], _backend);
                var features = _model.GreyFeatures(grey);
                var codes = _model.Encode(ab).Mu;
                recon += SquaredErrors(_model.Decode(codes, features).ToArray(), b.Ab, n).Sum();
                prior += SquaredErrors(_model.Decode(Tensor.Zeros([n, _config.Model.Z], backend: _backend), features).ToArray(), b.Ab, n).Sum();
                if (!mdn) continue;
                nll += MixtureNll(features, codes, n).Item() * n;
                var hypotheses = Hypotheses(features, n);
                var errors = hypotheses.Select(h => SquaredErrors(h, b.Ab, n)).ToArray();
                for (int f = 0; f < n; f++)
                {
                    top += errors[0][f];
                    best += errors.Min(e => e[f]);
                    diversity += Diversity(hypotheses, f, ss);
                }
            }
        }
        finally
        {
            if (InVaeStage(_step)) _model.Train();
        }
        double Rmse(double sumOfSquares) => 110 * Math.Sqrt(sumOfSquares / (total * 2.0 * ss));
        double nan = double.NaN;
        _validation.Append([_step, Rmse(recon), Rmse(prior), mdn ? nll / total : nan, mdn ? Rmse(top) : nan, mdn ? Rmse(best) : nan, mdn ? diversity / total : nan]);
        string line = $"{_step}: validation: ab RMSE reconstructed {Rmse(recon):F2}, prior mean {Rmse(prior):F2}";
        return mdn ? line + $"; MDN NLL {nll / total:F2}, top-1 {Rmse(top):F2}, best of {k} {Rmse(best):F2}, diversity {diversity / total:F2} (ab units)" : line;
    }

    /// <summary>The decoded means of the mixture, by decreasing weight per field: K arrays of [n, 2, S, S] (ab / 110).</summary>
    private float[][] Hypotheses(Tensor[] features, int n)
    {
        int k = _config.Model.Components, d = FieldValues;
        var decoded = _model.DecodeMostProbable(features, k).Ab.ToArray();
        return Enumerable.Range(0, k).Select(r => decoded.AsSpan(r * n * d, n * d).ToArray()).ToArray();
    }

    private double[] SquaredErrors(float[] predicted, float[] truth, int n)
    {
        int d = FieldValues;
        var e = new double[n];
        for (int f = 0; f < n; f++)
            for (int j = f * d; j < (f + 1) * d; j++)
            {
                double diff = predicted[j] - truth[j];
                e[f] += diff * diff;
            }
        return e;
    }

    /// <summary>The diversity of field f's hypotheses (<see cref="ColorMetrics.MeanPairwiseAbDistance"/>), in ab units.</summary>
    private static double Diversity(float[][] hypotheses, int f, int ss)
    {
        int d = 2 * ss;
        var fields = hypotheses.Select(h => (h.AsSpan(f * d, ss).ToArray(), h.AsSpan(f * d + ss, ss).ToArray())).ToList();
        return 110 * ColorMetrics.MeanPairwiseAbDistance(fields);
    }

    private void WritePlots()
    {
        try
        {
            var rows = _metrics.Rows;
            var vae = rows.Where(r => double.IsFinite(r[2])).ToList();
            var mdn = rows.Where(r => double.IsFinite(r[6])).ToList();
            if (vae.Count > 0)
                Plots.Curves(Path.Combine(_run, "vae_losses.png"), "divcolor VAE losses (per field, mean per log interval)", "loss", vae.Select(r => r[0]).ToArray(),
                    [("total", vae.Select(r => r[1]).ToArray()), ("rebalanced L2", vae.Select(r => r[2]).ToArray()), ("Mahalanobis", vae.Select(r => r[3]).ToArray()),
                     ("gradient", vae.Select(r => r[4]).ToArray()), ("KL", vae.Select(r => r[5]).ToArray())]);
            if (mdn.Count > 0)
                Plots.Curves(Path.Combine(_run, "mdn_nll.png"), "divcolor MDN negative log-likelihood of the VAE codes", "NLL", mdn.Select(r => r[0]).ToArray(),
                    [("NLL", mdn.Select(r => r[6]).ToArray())]);
        }
        catch (IOException) { } // a plot is a convenience; the CSV is the record
    }

    private void Checkpoint()
    {
        var state = new TrainingState
        {
            Step = _step, Eta = _config.KlWeightAt(_step), SchedulerEpoch = 0, LearningRate = (float)(InVaeStage(_step) ? _config.VaeLr : _config.MdnLr),
            DataBatches = _step, BadFiles = [], MetricRows = _metrics.Rows.Count, ValidationRows = _validation.Rows.Count,
            IntervalSums = [.. _sums], IntervalSteps = _summed,
        };
        _store.Write(_step, SaveWeights,
            [("vae", path => _optVae.SaveState(path, _model.NamedParameters())), ("mdn", path => _optMdn.SaveState(path, _model.NamedParameters()))],
            state, _config.KeepLast);
    }

    /// <summary>The network with the model name, config, stage reached and grey in its metadata (docs/colorizers.md).</summary>
    private void SaveWeights(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            [ModelFile.ModelKey] = ModelName, ["step"] = _step.ToString(CultureInfo.InvariantCulture),
            [ModelFile.ConfigKey] = DivColorFile.ConfigJson(_config.Model),
            [DivColorFile.StageKey] = _step > _config.VaeSteps ? DivColorFile.MdnStage : DivColorFile.VaeStage,
            [ColorizerGrey.Key] = ColorizerGrey.Of(_config.Grey is not null),
        };
        SafeTensors.Save(path, _model.StateDict(), metadata);
    }

    public void Dispose()
    {
        _optVae.Dispose();
        _optMdn.Dispose();
        _whitening.Dispose();
        _model.Dispose();
    }
}
