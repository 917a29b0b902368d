namespace ILGpuSat.Engine.Modules;

/// <summary>torch.nn.Sequential: children named "0", "1", ... applied in order.</summary>
public class Sequential : Layer
{
    private readonly List<Layer> _layers = new();

    public Sequential(params Layer[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public int Count => _layers.Count;

    public Layer this[int index] => _layers[index];

    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Appends a layer under the next index as its name.</summary>
    public Sequential Add(Layer layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public override Tensor Forward(Tensor x) => Chain(_layers, x);

    /// <summary>
    /// Applies <paramref name="layers"/> in order. Outside grad mode each intermediate is released as soon as the next
    /// layer has read it (never <paramref name="input"/> itself, nor a layer's output that is its input unchanged), so
    /// a chain's inference peak is one layer's input and output, not every activation of the chain.
    /// </summary>
    public static Tensor Chain(IEnumerable<Layer> layers, Tensor input)
    {
        var x = input;
        foreach (var layer in layers)
        {
            var y = layer.Forward(x);
            x = ReferenceEquals(x, input) ? y : x.ReplacedBy(y);
        }
        return x;
    }

    public override string ToString()
        => "Sequential(\n" + string.Join("\n", _layers.Select((l, i) => $"  ({i}): {l}")) + "\n)";
}
