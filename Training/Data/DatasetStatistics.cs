namespace ILGpuSat.Training.Data;

/// <summary>Live counters of a <see cref="PatchDataset"/> (thread-safe).</summary>
public sealed class DatasetStatistics
{
    private readonly List<string> _failures = [];
    private readonly int _maxFailures;
    private long _imagesDecoded, _patchesMade, _batchesMade, _skippedTooSmall, _skippedUnreadable, _skippedNotColour;

    internal DatasetStatistics(int maxFailures, IEnumerable<ImageCatalog> catalogs)
    {
        _maxFailures = maxFailures;
        foreach (var c in catalogs)
        {
            _skippedTooSmall += c.SkippedTooSmall;
            _skippedUnreadable += c.SkippedUnreadable;
            foreach (var f in c.Failures) AddFailure(f);
        }
    }

    public long ImagesDecoded => Interlocked.Read(ref _imagesDecoded);

    public long PatchesMade => Interlocked.Read(ref _patchesMade);

    public long BatchesMade => Interlocked.Read(ref _batchesMade);

    /// <summary>Images smaller than one patch (at indexing or after decoding).</summary>
    public long SkippedTooSmall => Interlocked.Read(ref _skippedTooSmall);

    /// <summary>Images that could not be read (header at indexing, or data at decoding).</summary>
    public long SkippedUnreadable => Interlocked.Read(ref _skippedUnreadable);

    /// <summary>Images with fewer than 3 bands (grey): no colour target.</summary>
    public long SkippedNotColour => Interlocked.Read(ref _skippedNotColour);

    /// <summary>The first few failures, "path: reason".</summary>
    public IReadOnlyList<string> Failures
    {
        get { lock (_failures) return _failures.ToArray(); }
    }

    internal void ImageDecoded(int patches)
    {
        Interlocked.Increment(ref _imagesDecoded);
        Interlocked.Add(ref _patchesMade, patches);
    }

    internal void BatchMade() => Interlocked.Increment(ref _batchesMade);

    internal void TooSmall() => Interlocked.Increment(ref _skippedTooSmall);

    internal void NotColour(string path, int bands)
    {
        Interlocked.Increment(ref _skippedNotColour);
        AddFailure($"{path}: {bands} band(s), need RGB");
    }

    internal void Unreadable(string path, string reason)
    {
        Interlocked.Increment(ref _skippedUnreadable);
        AddFailure($"{path}: {reason}");
    }

    private void AddFailure(string line)
    {
        lock (_failures)
            if (_failures.Count < _maxFailures) _failures.Add(line);
    }

    public override string ToString() =>
        $"{ImagesDecoded} images decoded, {PatchesMade} patches, {BatchesMade} batches; skipped: {SkippedTooSmall} too small, " +
        $"{SkippedUnreadable} unreadable, {SkippedNotColour} not colour" +
        (Failures.Count > 0 ? $" (first: {string.Join("; ", Failures)})" : "");
}
