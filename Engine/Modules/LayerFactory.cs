using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// Builds layers on one backend, drawing every initial weight from one seeded generator, so a network
/// reads <c>nn.Conv2d(32, 64, 3, padding: 1)</c> instead of repeating <c>backend:</c> and <c>rng:</c>
/// on every layer. Two factories made with the same backend kind and seed build identical networks;
/// nothing is shared between factories (there is no process-wide default backend or generator).
/// </summary>
public sealed class LayerFactory
{
    public LayerFactory(Backend backend, int seed) : this(backend, new Random(seed)) { }

    public LayerFactory(Backend backend, Random rng)
    {
        Backend = backend ?? throw new ArgumentNullException(nameof(backend));
        Rng = rng ?? throw new ArgumentNullException(nameof(rng));
    }

    public Backend Backend { get; }

    /// <summary>The generator initialisers draw from (in construction order).</summary>
    public Random Rng { get; }

    public Conv2d Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, bool bias = true)
        => new(inChannels, outChannels, kernelSize, Backend, Rng, stride, padding, dilation, bias);

    public ConvTranspose2d ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int outputPadding = 0, int dilation = 1, bool bias = true)
        => new(inChannels, outChannels, kernelSize, Backend, Rng, stride, padding, outputPadding, dilation, bias);

    public BatchNorm2d BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        => new(numFeatures, Backend, eps, momentum, affine, trackRunningStats);

    public PReLU PReLU(int numParameters = 1, float init = 0.25f) => new(numParameters, Backend, init);

    /// <summary>He normal initialisation of a weight from this factory's generator (Init.KaimingNormal).</summary>
    public void KaimingNormal(Tensor weight, float a = 0f, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
        => Init.KaimingNormal(weight, Rng, a, mode, nonlinearity);
}
