using ILGpuSat.Engine;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks;

/// <summary>What one forward of a network costs, as its kernels report it.</summary>
/// <param name="Parameters">Trainable values.</param>
/// <param name="Flops">Floating-point operations of one eval-mode forward of one sample whose output is
/// <paramref name="OutputSide"/> x <paramref name="OutputSide"/>.</param>
/// <param name="MeasuredSide">The output side the forward actually ran at (see <see cref="ModelCost.Measure"/>).</param>
public sealed record ModelCost(long Parameters, double Flops, int OutputSide, int MeasuredSide)
{
    /// <summary>fp32 bytes of the parameters (what the weights file holds besides batch-norm statistics).</summary>
    public long ParameterBytes => 4 * Parameters;

    /// <summary>
    /// Runs one eval-mode, no-grad forward of a 1-sample input with a <see cref="KernelProfiler"/> on the network's
    /// backend and sums the FLOPs every kernel reports (a convolution 2 per multiply-add of its dense form, a
    /// transposed convolution as the convolution it is the adjoint of; batch norm, activations, additions,
    /// resampling their elementwise operations). The output is <paramref name="outputSide"/> square when the
    /// model's <see cref="SatNetwork.SizeMultiple"/> allows; otherwise the forward runs at the next size it does
    /// allow and the count is scaled by the ratio of output areas (every layer's work is proportional to its
    /// output area, and the output areas of all layers scale together when the side is a multiple of SizeMultiple;
    /// the bicubic upsampler's 2-pixel symmetric padding of a 1-channel image is the exception: 0.2% of regression-ed's count at full width).
    /// </summary>
    public static ModelCost Measure(SatNetwork network, int outputSide)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (outputSide < network.Scale)
            throw new ArgumentException($"model cost: output side {outputSide} is smaller than the scale {network.Scale}.");
        var backend = network.Parameters().First().Backend;
        int inputPer = network.Input == NetworkInput.LowResolution ? network.Scale : 1;
        int inputSide = (int)Math.Ceiling((double)outputSide / inputPer);
        inputSide = (inputSide + network.SizeMultiple - 1) / network.SizeMultiple * network.SizeMultiple;
        int measured = inputSide * inputPer;

        var profiler = new KernelProfiler();
        bool training = network.Training;
        var previous = backend.Profiler;
        network.Eval();
        try
        {
            using var scope = new TensorScope();
            using var _ = Autograd.NoGrad();
            var x = Tensor.Zeros([1, 1, inputSide, inputSide], backend);
            backend.Profiler = profiler;
            network.Forward(x);
            backend.Synchronize();
        }
        finally
        {
            backend.Profiler = previous;
            network.Train(training);
        }
        double flops = profiler.Launches.Sum(l => l.Flops) * ((double)outputSide * outputSide / ((double)measured * measured));
        return new ModelCost(network.Parameters().Sum(p => p.Length), flops, outputSide, measured);
    }
}
