using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// A trained network as a table row: the LR grey image through <see cref="Enhancer.Enhance"/> (the shipped
/// pipeline: tiles, blend, colour), its grey SR result and, for models with a colour head, its colour result.
/// </summary>
public sealed class EnhancerMethod : IEvaluatedMethod
{
    private readonly Enhancer _enhancer;
    private readonly EnhanceOptions _options;

    /// <param name="name">The row label; null = the model's catalog name.</param>
    public EnhancerMethod(Enhancer enhancer, string? name = null, EnhanceOptions? options = null)
    {
        _enhancer = enhancer ?? throw new ArgumentNullException(nameof(enhancer));
        _options = (options ?? EnhanceOptions.Default) with { GreySr = true };
        Name = name ?? enhancer.Model.ModelName;
        var tasks = enhancer.Model.Network.Tasks;
        Colours = tasks.HasFlag(NetworkTasks.ColorClassification) || tasks.HasFlag(NetworkTasks.ColorRegression);
        Parameters = enhancer.Model.Network.Parameters().Sum(p => (long)p.Length);
    }

    public string Name { get; }
    public long Parameters { get; }
    public bool Colours { get; }

    public MethodOutput Run(RasterImage lowResolution, int scale)
    {
        if (scale != _enhancer.Model.Network.Scale)
            throw new ArgumentException($"{Name}: the model enlarges {_enhancer.Model.Network.Scale}x, the evaluation asks for {scale}x.");
        var result = _enhancer.Enhance(lowResolution, _options);
        var grey = result.GreySr ?? throw new InvalidOperationException($"{Name}: the enhancer returned no grey SR image although it was asked for one.");
        return new MethodOutput(grey.Planes[0], Colours ? result.Color : null);
    }

    public void Dispose() => _enhancer.Dispose();
}
