using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// An upper bound of how far (in network-input pixels) an output pixel of a network can see: every
/// convolution of the module tree is walked in registration order as if they were one chain, each adding
/// its reach times the current stride product. Branches that in fact run side by side are so added up,
/// which over-counts; a module run several times (recurrent-residual's shared unit) is counted that often.
/// Tiles padded by this much context give the untiled result exactly (to float rounding).
/// </summary>
internal static class ReceptiveField
{
    public static int RadiusInInputPixels(SatNetwork network, ModelConfig config)
    {
        int repeats = config is RecurrentResidualConfig rr ? rr.Recursions : 1;
        double jump = 1, radius = 0;
        foreach (var (name, module) in network.NamedModules())
        {
            int times = repeats > 1 && name.StartsWith("unit.", StringComparison.Ordinal) ? repeats : 1;
            switch (module)
            {
                case Conv2d c:
                    radius += times * Math.Ceiling((c.Weight.Size(2) - 1) * c.Dilation / 2.0) * jump;
                    jump *= c.Stride;
                    break;
                case ConvTranspose2d t:
                    // An output pixel of a stride-s transposed convolution reads ceil(k d / 2s) inputs each side.
                    radius += times * Math.Ceiling(t.Weight.Size(2) * t.Dilation / (2.0 * t.Stride)) * jump;
                    jump /= t.Stride;
                    break;
            }
        }
        // Layers that are no modules (nearest upsampling, the in-network bicubic of regression-ed) reach at most
        // two LR pixels further.
        return (int)Math.Ceiling(radius) + 2 * network.Scale;
    }
}
