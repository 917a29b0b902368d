using System.Collections.Concurrent;
using System.Threading.Channels;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Data;

/// <summary>
/// Endless stream of training batches (Liu et al. 2018 data recipe, see docs/colour-and-data.md):
/// satellite and natural images mixed at <see cref="PatchDatasetOptions.SatelliteFraction"/>, 96x96
/// patches at stride 27, dihedral augmentation, LR input by bicubic down/up 4x, L* input and SR
/// target, soft-encoded a*b* at 24x24 and rebalancing weights.
/// <para>
/// Pipeline: per source, images are visited in a seeded permutation (a new one each pass); each visit
/// is a job that decodes the image and cuts its patches on a worker thread; jobs run ahead in
/// parallel but their results are consumed in job order, then pass a seeded shuffle buffer. One
/// planner thread draws samples (seeded source choice) and hands each batch to a worker for assembly;
/// finished batches wait in a bounded queue, in order. Every random choice comes from a generator
/// seeded from (seed, what, which), and no choice depends on thread timing, so a seed fixes the
/// batches exactly whatever the number of workers.
/// </para>
/// <para>
/// Resuming (<see cref="PatchDatasetOptions.StartBatch"/> = k): how many samples an image visit yields
/// depends only on the image's size (from its header), the options and the files known to be bad, never
/// on pixel values, so the planner replays batches 0..k-1 with placeholder samples (which visit, which
/// sample of it) and no decoding; at batch k it decodes just the visits whose samples still wait in the
/// shuffle buffers and goes on live. The result is exactly batches k, k+1, ... of a fresh stream.
/// </para>
/// </summary>
public sealed class PatchDataset : IDisposable, IAsyncDisposable
{
    private readonly PatchDatasetOptions _options;
    private readonly PatchMaker _maker;
    private readonly SoftEncoder _encoder;
    private readonly float[] _binWeights;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<Task<TrainingBatch>> _ready;
    private readonly ConcurrentDictionary<string, bool> _bad = new(StringComparer.Ordinal);
    private Task? _planner;
    private volatile bool _disposed;
    private readonly object _startLock = new();

    private PatchDataset(PatchDatasetOptions options, ImageCatalog satellite, ImageCatalog natural, PatchResampler resampler)
    {
        _options = options;
        Satellite = satellite;
        Natural = natural;
        _maker = new PatchMaker(resampler, options.Extras, options.AbScale);
        foreach (var file in options.KnownBadFiles) _bad.TryAdd(file, true);
        _encoder = new SoftEncoder(AbBins.Default, options.SoftEncodingNeighbours, options.SoftEncodingSigma);
        var weights = options.RebalancingWeights ?? ColorPrior.ImageNet.RebalancingWeights();
        _binWeights = weights.Select(w => (float)w).ToArray();
        _slots = new SemaphoreSlim(options.Workers, options.Workers);
        _ready = Channel.CreateBounded<Task<TrainingBatch>>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = false,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Statistics = new DatasetStatistics(options.ReportedFailures, [satellite, natural]);
    }

    /// <summary>Indexes the inputs (image headers) and prepares the pipeline; batches start on the first request.</summary>
    public static PatchDataset Open(PatchDatasetOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var resampler = new PatchResampler(options.PatchSize, options.Scale, options.Resize ?? PatchResampler.MatlabBicubic);
        var satellite = ImageCatalog.Build(options.SatelliteInputs, options.PatchSize, options.Stride, options.FailOnUnreadable,
                                           options.ReportedFailures, options.Workers, cancellationToken);
        var natural = ImageCatalog.Build(options.NaturalInputs, options.PatchSize, options.Stride, options.FailOnUnreadable,
                                         options.ReportedFailures, options.Workers, cancellationToken);
        if (satellite.Images.Count + natural.Images.Count == 0)
            throw new InvalidOperationException(
                $"PatchDataset: no usable image ({satellite.SkippedTooSmall + natural.SkippedTooSmall} smaller than {options.PatchSize}x{options.PatchSize}, " +
                $"{satellite.SkippedUnreadable + natural.SkippedUnreadable} unreadable) in {string.Join(", ", options.SatelliteInputs.Concat(options.NaturalInputs))}.");
        return new PatchDataset(options, satellite, natural, resampler);
    }

    public ImageCatalog Satellite { get; }

    public ImageCatalog Natural { get; }

    public DatasetStatistics Statistics { get; }

    public PatchDatasetOptions Options => _options;

    /// <summary>The files found unusable so far (unreadable, not colour, smaller than a patch once decoded), sorted;
    /// a resumed stream needs them (<see cref="PatchDatasetOptions.KnownBadFiles"/>).</summary>
    public IReadOnlyList<string> BadFiles => _bad.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The next batch; waits only if the workers are behind.</summary>
    public async ValueTask<TrainingBatch> NextBatchAsync(CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        Task<TrainingBatch> next;
        try
        {
            next = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            // The planner stopped: rethrow its failure, or report the disposal that stopped it.
            if (e.InnerException is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw new ObjectDisposedException(nameof(PatchDataset), "PatchDataset was disposed while a batch was awaited.");
        }
        return await next.ConfigureAwait(false);
    }

    /// <summary>Blocking form of <see cref="NextBatchAsync"/>.</summary>
    public TrainingBatch NextBatch(CancellationToken cancellationToken = default) =>
        NextBatchAsync(cancellationToken).AsTask().GetAwaiter().GetResult();

    private void EnsureStarted()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_planner is not null) return;
        lock (_startLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _planner ??= Task.Run(() => PlanAsync(_stop.Token));
        }
    }

    // The single thread of decisions: which source each sample comes from, which buffered sample is
    // drawn, which batch is next. Heavy work is handed to the workers.
    private async Task PlanAsync(CancellationToken ct)
    {
        try
        {
            SourceStream? sat = Satellite.Images.Count > 0 ? new SourceStream(this, Satellite, 0) : null;
            SourceStream? nat = Natural.Images.Count > 0 ? new SourceStream(this, Natural, 1) : null;
            var mix = new Random(Seeds.Derive(_options.Seed, "mix"));
            for (long index = 0; ; index++)
            {
                bool replay = index < _options.StartBatch;
                if (index == _options.StartBatch)
                {
                    // End of the replay (a no-op for a fresh stream): decode what the buffers hold.
                    if (sat is not null) await sat.GoLiveAsync(ct).ConfigureAwait(false);
                    if (nat is not null) await nat.GoLiveAsync(ct).ConfigureAwait(false);
                }
                var samples = new Sample[_options.BatchSize];
                for (int i = 0; i < samples.Length; i++)
                {
                    // The coin is flipped even when one source is missing, so the draw sequence
                    // does not depend on which folders exist.
                    bool fromSatellite = mix.NextDouble() < _options.SatelliteFraction;
                    var source = (fromSatellite ? sat : nat) ?? (sat ?? nat)!;
                    samples[i] = await source.NextAsync(ct).ConfigureAwait(false);
                }
                if (replay) continue;
                long batchIndex = index;
                var assembly = RunOnWorker(() => Assemble(batchIndex, samples), ct);
                await _ready.Writer.WriteAsync(assembly, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _ready.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _ready.Writer.TryComplete(e);
        }
    }

    private Task<T> RunOnWorker<T>(Func<T> work, CancellationToken ct) => Task.Run(async () =>
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        try { return work(); }
        finally { _slots.Release(); }
    }, ct);

    private TrainingBatch Assemble(long index, Sample[] samples)
    {
        int p = _options.PatchSize, t = p / _options.Scale, pp = p * p, tt = t * t;
        var batch = new TrainingBatch(index, samples.Length, p, t, _options.Extras);
        var a = new float[tt];
        var b = new float[tt];
        var bins = new int[tt];
        for (int i = 0; i < samples.Length; i++)
        {
            var (rec, map, satellite, _, _) = samples[i];
            if (rec is null) throw new InvalidOperationException("PatchDataset: a replay placeholder reached a live batch."); // a bug, never data
            Dihedral.Apply(rec.Input, batch.Input.AsSpan(i * pp, pp), p, map);
            Dihedral.Apply(rec.SrTarget, batch.SrTarget.AsSpan(i * pp, pp), p, map);
            Dihedral.Apply(rec.A, a, t, map);
            Dihedral.Apply(rec.B, b, t, map);
            _encoder.Encode(a, b, batch.ColorTarget.AsSpan(i * AbBins.Count * tt, AbBins.Count * tt));
            AbBins.Default.Nearest(a, b, bins);
            var w = batch.Weights.AsSpan(i * tt, tt);
            for (int j = 0; j < tt; j++) w[j] = _binWeights[bins[j]];
            if (batch.LowResInput is not null) Dihedral.Apply(rec.LowInput, batch.LowResInput.AsSpan(i * tt, tt), t, map);
            if (batch.AbTarget is not null)
            {
                Dihedral.Apply(rec.AbTarget.AsSpan(0, pp), batch.AbTarget.AsSpan(2 * i * pp, pp), p, map);
                Dihedral.Apply(rec.AbTarget.AsSpan(pp, pp), batch.AbTarget.AsSpan((2 * i + 1) * pp, pp), p, map);
            }
            batch.Origins[i] = new SampleOrigin(rec.File, rec.X, rec.Y, map, satellite);
        }
        Statistics.BatchMade();
        return batch;
    }

    // Runs on a worker: decode, cut the visit's patches, list its samples in a seeded order.
    private Sample[] ProcessImage(CatalogEntry entry, int jobSeed, bool satellite)
    {
        if (_bad.ContainsKey(entry.Path)) return [];
        RasterImage image;
        try
        {
            image = ImageReader.Read(entry.Path);
        }
        catch (Exception e) when (!_options.FailOnUnreadable && e is ImageFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            if (_bad.TryAdd(entry.Path, true)) Statistics.Unreadable(entry.Path, e.Message);
            return [];
        }
        if (image.Bands < 3)
        {
            if (_bad.TryAdd(entry.Path, true)) Statistics.NotColour(entry.Path, image.Bands);
            return [];
        }
        int p = _options.PatchSize, stride = _options.Stride;
        int count = PatchGrid.Count(image.Width, image.Height, p, stride);
        if (count == 0)
        {
            if (_bad.TryAdd(entry.Path, true)) Statistics.TooSmall();
            return [];
        }
        var rng = new Random(jobSeed);
        var positions = Enumerable.Range(0, count).ToArray();
        int take = _options.MaxPatchesPerImage > 0 ? Math.Min(count, _options.MaxPatchesPerImage) : count;
        if (take < count) PartialShuffle(positions, take, rng);
        var rgb = new[] { image.Planes[0], image.Planes[1], image.Planes[2] };
        var samples = new List<Sample>(take * (_options.Augmentation == Augmentation.AllEight ? 8 : 1));
        for (int k = 0; k < take; k++)
        {
            var (x, y) = PatchGrid.Origin(image.Width, positions[k], p, stride);
            var record = _maker.Make(rgb, image.Width, image.Height, x, y, entry.Path);
            switch (_options.Augmentation)
            {
                case Augmentation.None: samples.Add(new Sample(record, 0, satellite)); break;
                case Augmentation.RandomOne: samples.Add(new Sample(record, rng.Next(Dihedral.Count), satellite)); break;
                default: for (int m = 0; m < Dihedral.Count; m++) samples.Add(new Sample(record, m, satellite)); break;
            }
        }
        var result = samples.ToArray();
        PartialShuffle(result, result.Length, rng);
        Statistics.ImageDecoded(take);
        return result;
    }

    // How many samples ProcessImage gives for an entry, from its header size alone (the replay's count).
    private int PlannedSampleCount(CatalogEntry entry)
    {
        if (_bad.ContainsKey(entry.Path)) return 0;
        int count = PatchGrid.Count(entry.Width, entry.Height, _options.PatchSize, _options.Stride);
        int take = _options.MaxPatchesPerImage > 0 ? Math.Min(count, _options.MaxPatchesPerImage) : count;
        return take * (_options.Augmentation == Augmentation.AllEight ? Dihedral.Count : 1);
    }

    // Fisher-Yates over the first n slots.
    private static void PartialShuffle<T>(T[] items, int n, Random rng)
    {
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, items.Length);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        Task? planner;
        lock (_startLock)
        {
            if (_disposed) return;
            _disposed = true;
            _stop.Cancel();
            planner = _planner;
        }
        if (planner is not null) await planner.ConfigureAwait(false); // PlanAsync never throws
        // Let queued assemblies finish or observe cancellation so no worker outlives the dataset.
        while (_ready.Reader.TryRead(out var pending))
            try { await pending.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    // A replay placeholder has no Record yet: it names its visit (Job) and its place in the visit's list (Slot).
    private readonly record struct Sample(PatchRecord? Record, int Map, bool Satellite, long Job = -1, int Slot = -1);

    /// <summary>One source's images as an ordered stream of samples through a shuffle buffer.</summary>
    private sealed class SourceStream
    {
        private readonly PatchDataset _owner;
        private readonly ImageCatalog _catalog;
        private readonly int _id;
        private readonly Queue<Task<Sample[]>> _inFlight = new();
        private readonly List<Sample> _buffer = [];
        private readonly Random _draw;
        private Sample[] _current = [];
        private int _currentPos;
        private long _nextJob;
        private int[] _order = [];
        private long _orderPass = -1;
        private long _emptyVisits;
        private bool _replaying;

        public SourceStream(PatchDataset owner, ImageCatalog catalog, int id)
        {
            _owner = owner;
            _catalog = catalog;
            _id = id;
            _draw = new Random(Seeds.Derive(owner._options.Seed, "buffer", id));
            _replaying = owner._options.StartBatch > 0;
        }

        public async ValueTask<Sample> NextAsync(CancellationToken ct)
        {
            int capacity = _owner._options.ShuffleBuffer;
            while (_buffer.Count < capacity)
                _buffer.Add(await IncomingAsync(ct).ConfigureAwait(false));
            int k = _draw.Next(_buffer.Count);
            var chosen = _buffer[k];
            _buffer[k] = await IncomingAsync(ct).ConfigureAwait(false);
            return chosen;
        }

        private async ValueTask<Sample> IncomingAsync(CancellationToken ct)
        {
            while (_currentPos >= _current.Length)
            {
                if (_replaying)
                {
                    long job = _nextJob++;
                    _current = new Sample[_owner.PlannedSampleCount(EntryOf(job))];
                    for (int i = 0; i < _current.Length; i++) _current[i] = new Sample(null, 0, _id == 0, job, i);
                }
                else
                {
                    Refill(ct);
                    _current = await _inFlight.Dequeue().ConfigureAwait(false);
                }
                _currentPos = 0;
                _emptyVisits = _current.Length == 0 ? _emptyVisits + 1 : 0;
                if (_emptyVisits > _catalog.Images.Count)
                    throw new InvalidOperationException(
                        $"PatchDataset: a full pass over the {(_id == 0 ? "satellite" : "natural")} images gave no patch: {_owner.Statistics}");
            }
            return _current[_currentPos++];
        }

        // Keeps Prefetch image jobs running ahead, in job order.
        private void Refill(CancellationToken ct)
        {
            while (_inFlight.Count < _owner._options.Prefetch)
            {
                long job = _nextJob++;
                var entry = EntryOf(job);
                _inFlight.Enqueue(_owner.RunOnWorker(() => _owner.ProcessImage(entry, JobSeed(job), _id == 0), ct));
            }
        }

        // Visit number `job` of this source: a seeded permutation of the images per pass.
        private CatalogEntry EntryOf(long job)
        {
            int n = _catalog.Images.Count;
            long pass = job / n;
            if (pass != _orderPass)
            {
                _order = Enumerable.Range(0, n).ToArray();
                var rng = new Random(Seeds.Derive(_owner._options.Seed, "order", _id, pass));
                PartialShuffle(_order, n, rng);
                _orderPass = pass;
            }
            return _catalog.Images[_order[job % n]];
        }

        private int JobSeed(long job) => Seeds.Derive(_owner._options.Seed, "image", _id, job);

        /// <summary>Ends the replay: decodes the visits whose placeholders are still in the buffer or the current visit
        /// (on the workers), swaps in the real samples, and lets later visits be decoded as usual.</summary>
        public async Task GoLiveAsync(CancellationToken ct)
        {
            if (!_replaying) return;
            _replaying = false;
            var jobs = _buffer.Select(s => s.Job).Concat(_current.Skip(_currentPos).Select(s => s.Job)).Distinct().Order().ToArray();
            var decoded = new Dictionary<long, (CatalogEntry Entry, int Planned, Task<Sample[]> Samples)>();
            foreach (long job in jobs)
            {
                var entry = EntryOf(job);
                int planned = _owner.PlannedSampleCount(entry); // before the decode, which may mark the file bad
                decoded[job] = (entry, planned, _owner.RunOnWorker(() => _owner.ProcessImage(entry, JobSeed(job), _id == 0), ct));
            }
            async ValueTask<Sample> Real(Sample placeholder)
            {
                var (entry, planned, samples) = decoded[placeholder.Job];
                var list = await samples.ConfigureAwait(false);
                if (list.Length != planned)
                    throw new InvalidOperationException(
                        $"PatchDataset: resuming at batch {_owner._options.StartBatch}: {entry.Path} gave {list.Length} samples when decoded, " +
                        $"its header size promised {planned}; the images changed since the stream began, or the list of bad files is not the stream's.");
                return list[placeholder.Slot];
            }
            for (int i = 0; i < _buffer.Count; i++) _buffer[i] = await Real(_buffer[i]).ConfigureAwait(false);
            for (int i = _currentPos; i < _current.Length; i++) _current[i] = await Real(_current[i]).ConfigureAwait(false);
        }
    }
}
