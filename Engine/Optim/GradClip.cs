using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Optim;

/// <summary>torch.nn.utils.clip_grad_norm_ without waiting for the device.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales every gradient by min(1, maxNorm / (total + 1e-6)), total = the L2 norm of all
    /// gradients together, and returns total as a one-element tensor (still on the device; read it
    /// with Item() when needed). Parameters without a gradient are skipped.
    /// </summary>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentException($"clip_grad_norm: max norm must be positive, got {maxNorm}.");
        var all = parameters.ToList();
        if (all.Count == 0) throw new ArgumentException("clip_grad_norm: no parameters given.");
        var grads = all.Select(p => p.Grad).OfType<Tensor>().ToList();
        var backend = grads.Count > 0 ? grads[0].Backend : all[0].Backend;
        var total = Tensor.Zeros([], backend: backend);
        if (grads.Count == 0) return total;

        var sumOfSquares = Tensor.Zeros([], backend: backend);
        using (var part = backend.Allocate(1))
        {
            foreach (var g in grads)
            {
                if (!ReferenceEquals(g.Backend, backend))
                    throw new ArgumentException("clip_grad_norm: gradients live on different backends.");
                backend.SumOfSquares(g.Buffer, part);
                backend.Axpy(1f, part, sumOfSquares.Buffer);
            }
        }
        foreach (var g in grads)
        {
            backend.ClipByGlobalNorm(g.Buffer, sumOfSquares.Buffer, maxNorm);
            g.MarkModified();
        }
        backend.Sqrt(sumOfSquares.Buffer, total.Buffer);
        sumOfSquares.Dispose();
        return total;
    }
}
