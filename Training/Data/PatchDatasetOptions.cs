using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Training.Data;

/// <summary>How the dihedral augmentation is drawn.</summary>
public enum Augmentation
{
    /// <summary>Patches as cut.</summary>
    None,

    /// <summary>Each patch visit gets one of the 8 maps at random (every map equally likely over passes).</summary>
    RandomOne,

    /// <summary>Each patch is emitted in all 8 orientations (the paper's 8x data set).</summary>
    AllEight,
}

/// <summary>Settings of a <see cref="PatchDataset"/>. Defaults follow docs/liu2018-reference.md.</summary>
public sealed record PatchDatasetOptions
{
    /// <summary>Folders/files of satellite images.</summary>
    public IReadOnlyList<string> SatelliteInputs { get; init; } = [];

    /// <summary>Folders/files of natural images.</summary>
    public IReadOnlyList<string> NaturalInputs { get; init; } = [];

    /// <summary>Expected fraction of samples drawn from the satellite images (each sample is a seeded coin flip).</summary>
    public double SatelliteFraction { get; init; } = 0.5;

    public int PatchSize { get; init; } = 96;

    public int Stride { get; init; } = 27;

    /// <summary>Super-resolution factor; the colour target is PatchSize / Scale on a side.</summary>
    public int Scale { get; init; } = 4;

    public int BatchSize { get; init; } = 32;

    public int Seed { get; init; }

    public Augmentation Augmentation { get; init; } = Augmentation.RandomOne;

    /// <summary>Patches taken per image visit (a seeded subset of the grid when an image has more), so large natural
    /// images do not flood the shuffle buffer; later passes take other subsets. 0 = all.</summary>
    public int MaxPatchesPerImage { get; init; } = 32;

    /// <summary>Samples held per source for shuffling across images.</summary>
    public int ShuffleBuffer { get; init; } = 1024;

    /// <summary>Threads that decode images, cut patches and assemble batches.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Batches prepared ahead of the consumer.</summary>
    public int QueueCapacity { get; init; } = 4;

    /// <summary>Images decoded ahead, per source.</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>Nearest bins in the soft colour target (5 as in the papers' text, 10 as in Zhang's code).</summary>
    public int SoftEncodingNeighbours { get; init; } = 5;

    public float SoftEncodingSigma { get; init; } = 5f;

    /// <summary>Per-bin rebalancing weights (313); null = weights of Zhang's ImageNet prior (lambda 0.5).</summary>
    public IReadOnlyList<double>? RebalancingWeights { get; init; }

    /// <summary>Throw on an unreadable image instead of skipping and counting it.</summary>
    public bool FailOnUnreadable { get; init; }

    /// <summary>How many unreadable file names are kept for the report.</summary>
    public int ReportedFailures { get; init; } = 5;

    /// <summary>Extra planes each batch carries (the LR L* input, the HR a*b* target); none by default.</summary>
    public PatchExtras Extras { get; init; }

    /// <summary>Multiplies the HR a*b* of <see cref="PatchExtras.AbTarget"/> (the network's a*b* normalisation).</summary>
    public float AbScale { get; init; } = 1f / 110f;

    /// <summary>
    /// Position of the first batch to deliver: the stream then gives exactly batches StartBatch,
    /// StartBatch + 1, ... of a fresh stream with the same options. The plan up to there is replayed from
    /// the image sizes alone; only the images whose patches are still waiting in the shuffle buffers are
    /// decoded (see docs/training.md, "data position").
    /// </summary>
    public long StartBatch { get; init; }

    /// <summary>
    /// Files an earlier stream found unusable when decoded (<see cref="PatchDataset.BadFiles"/>). A
    /// resumed stream (StartBatch &gt; 0) does not decode the images it skips over, so it must be told
    /// which of them gave no patch.
    /// </summary>
    public IReadOnlyCollection<string> KnownBadFiles { get; init; } = [];

    /// <summary>The resize for LR inputs and colour targets; null = <see cref="PatchResampler.MatlabBicubic"/>.</summary>
    public PlaneResize? Resize { get; init; }

    internal void Validate()
    {
        void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"PatchDatasetOptions: {message}");
        }
        Check(SatelliteInputs.Count + NaturalInputs.Count > 0, "no satellite or natural inputs given.");
        Check(SatelliteFraction is >= 0 and <= 1, $"SatelliteFraction must be in [0, 1], got {SatelliteFraction}.");
        Check(Scale >= 1 && PatchSize >= Scale && PatchSize % Scale == 0, $"PatchSize ({PatchSize}) must be a positive multiple of Scale ({Scale}).");
        Check(Stride >= 1, $"Stride must be positive, got {Stride}.");
        Check(BatchSize >= 1, $"BatchSize must be positive, got {BatchSize}.");
        Check(MaxPatchesPerImage >= 0, $"MaxPatchesPerImage must be >= 0, got {MaxPatchesPerImage}.");
        Check(ShuffleBuffer >= 1, $"ShuffleBuffer must be positive, got {ShuffleBuffer}.");
        Check(Workers >= 1, $"Workers must be positive, got {Workers}.");
        Check(QueueCapacity >= 1, $"QueueCapacity must be positive, got {QueueCapacity}.");
        Check(Prefetch >= 1, $"Prefetch must be positive, got {Prefetch}.");
        Check(StartBatch >= 0, $"StartBatch must be >= 0, got {StartBatch}.");
        Check(AbScale > 0 && float.IsFinite(AbScale), $"AbScale must be positive and finite, got {AbScale}.");
        Check(RebalancingWeights is null || RebalancingWeights.Count == AbBins.Count,
              $"RebalancingWeights must have {AbBins.Count} entries, got {RebalancingWeights?.Count}.");
    }
}
