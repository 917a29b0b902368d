using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// An estimate of the device bytes one forward takes per network-input pixel, from the module tree: each
/// convolution's output (channels / stride product^2 per pixel) is counted three times (the convolution, its batch
/// norm and its activation live until the tile's scope ends) plus the largest im2col workspace (in-channels x k^2).
/// Over-counts branches that free early; good enough to size tiles, not an accounting.
/// </summary>
internal static class TileMemory
{
    public static double BytesPerInputPixel(SatNetwork network)
    {
        double jump = 1, activations = 1, workspace = 0;
        foreach (var (_, module) in network.NamedModules())
        {
            switch (module)
            {
                case Conv2d c:
                    workspace = Math.Max(workspace, (double)c.Weight.Size(1) * c.Weight.Size(2) * c.Weight.Size(3) / (jump * jump));
                    jump *= c.Stride;
                    activations += 3.0 * c.Weight.Size(0) / (jump * jump);
                    break;
                case ConvTranspose2d t:
                    jump /= t.Stride;
                    activations += 3.0 * t.Weight.Size(1) / (jump * jump);
                    workspace = Math.Max(workspace, (double)t.Weight.Size(1) * t.Weight.Size(2) * t.Weight.Size(3) / (jump * jump));
                    break;
            }
        }
        return 4 * (activations + workspace);
    }
}
