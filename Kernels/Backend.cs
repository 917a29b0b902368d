namespace ILGpuSat.Kernels;

/// <summary>
/// A float32 buffer owned by one backend (host array for the CPU backend, device memory for CUDA).
/// Disposing returns the memory to the backend's pool.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(Backend backend, long length)
    {
        Backend = backend;
        Length = length;
        backend.CountAllocated(length);
    }

    public Backend Backend { get; }
    public long Length { get; }
    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Backend.CountReleased(Length);
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Gives the memory back to the pool.</summary>
    protected abstract void Release();
}

/// <summary>
/// Every kernel the engine needs, on buffers and shapes. All tensors are float32, NCHW and
/// contiguous. Unless a method says it accumulates, it overwrites its outputs. Scalar results
/// (losses, sums) go to one-element buffers so that a training step never has to wait for the
/// device; scalar upstream gradients come in the same way.
///
/// Implementations: <c>Cpu.CpuBackend</c> (managed, SIMD, multithreaded; the reference) and
/// <c>Cuda.CudaBackend</c> (ILGPU kernels).
/// </summary>
public abstract class Backend : IDisposable
{
    public abstract string Name { get; }

    /// <summary>When set, every kernel launch is timed and recorded.</summary>
    public KernelProfiler? Profiler { get; set; }

    private long _bytesInUse, _peakBytesInUse, _largestBuffer;

    /// <summary>Bytes of the buffers alive now (4 per float requested; pool slack and idle pooled memory not counted).</summary>
    public long BytesInUse => Interlocked.Read(ref _bytesInUse);

    /// <summary>The most <see cref="BytesInUse"/> has been since the backend was made or <see cref="ResetPeakBytesInUse"/> was called
    /// (PyTorch's max_memory_allocated, on any backend).</summary>
    public long PeakBytesInUse => Interlocked.Read(ref _peakBytesInUse);

    /// <summary>Floats of the longest buffer allocated since the backend was made or <see cref="ResetPeakBytesInUse"/> was called.</summary>
    public long LargestBufferFloats => Interlocked.Read(ref _largestBuffer);

    /// <summary>
    /// The most floats one image's tensor (batch 1) may hold for every op of this backend: the CUDA kernels index
    /// with 32 bits, cut larger tensors into launches of whole images (or channels, planes, flat ranges) but never
    /// one image of a convolution, so 2^30; the CPU backend holds a .NET array. Callers that size work (the
    /// enhancer's tiles) stay below it.
    /// </summary>
    public virtual long MaxBufferFloats => Array.MaxLength;

    public void ResetPeakBytesInUse()
    {
        Interlocked.Exchange(ref _peakBytesInUse, BytesInUse);
        Interlocked.Exchange(ref _largestBuffer, 0);
    }

    internal void CountAllocated(long floats)
    {
        long now = Interlocked.Add(ref _bytesInUse, floats * sizeof(float));
        long peak;
        while (now > (peak = Interlocked.Read(ref _peakBytesInUse)) && Interlocked.CompareExchange(ref _peakBytesInUse, now, peak) != peak) { }
        long largest;
        while (floats > (largest = Interlocked.Read(ref _largestBuffer)) && Interlocked.CompareExchange(ref _largestBuffer, floats, largest) != largest) { }
    }

    internal void CountReleased(long floats) => Interlocked.Add(ref _bytesInUse, -floats * sizeof(float));

    /// <summary>
    /// Bytes this backend can still hand out for new buffers, for callers that size their work to memory
    /// (the enhancer's tiles). CUDA: free device memory plus the idle pool; CPU: what the GC reports available,
    /// less the buffers alive. An estimate at the time of the call, not a reservation.
    /// </summary>
    public abstract long AvailableBytes { get; }

    /// <summary>The GC's view of free host memory: its limit (the machine's RAM or the container's) less the memory in use at the last collection.</summary>
    protected static long FreeHostBytes()
    {
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
    }

    // ---- memory -------------------------------------------------------------------------------

    /// <summary>A buffer of <paramref name="length"/> floats from the pool; contents undefined.</summary>
    public abstract DeviceBuffer Allocate(long length);
    public abstract void Upload(ReadOnlySpan<float> source, DeviceBuffer destination);
    public abstract void Download(DeviceBuffer source, Span<float> destination);
    /// <summary>Waits until every kernel queued so far has finished.</summary>
    public abstract void Synchronize();

    // ---- elementwise (n = y.Length unless stated) ----------------------------------------------

    public abstract void Fill(DeviceBuffer y, float value);
    /// <summary>y[i] = scalar[0] * scale: broadcasts a one-element buffer (gradient of sum/mean).</summary>
    public abstract void FillFromScalar(DeviceBuffer scalar, float scale, DeviceBuffer y);
    public abstract void Copy(DeviceBuffer x, DeviceBuffer y);
    /// <summary>y = a + b</summary>
    public abstract void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);
    /// <summary>y = a * b (elementwise)</summary>
    public abstract void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);
    /// <summary>y = alpha * x</summary>
    public abstract void Scale(DeviceBuffer x, float alpha, DeviceBuffer y);
    /// <summary>y = sqrt(x) (the global gradient norm from its sum of squares)</summary>
    public abstract void Sqrt(DeviceBuffer x, DeviceBuffer y);
    /// <summary>y += alpha * x (gradient accumulation)</summary>
    public abstract void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y);

    // ---- activations ---------------------------------------------------------------------------

    public abstract void Relu(DeviceBuffer x, DeviceBuffer y);
    public abstract void ReluBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);
    public abstract void LeakyRelu(DeviceBuffer x, float negativeSlope, DeviceBuffer y);
    public abstract void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float negativeSlope, DeviceBuffer dx);
    /// <summary>y = f(x) for a smooth pointwise function (exp, log, sigmoid, softplus).</summary>
    public abstract void Pointwise(PointwiseFunction f, DeviceBuffer x, DeviceBuffer y);
    /// <summary>
    /// dx = dy * f'(x), from <paramref name="saved"/>: the forward's output y for exp and sigmoid, its input x for log
    /// and softplus (<see cref="PointwiseFunctions.BackwardReadsOutput"/>).
    /// </summary>
    public abstract void PointwiseBackward(PointwiseFunction f, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx);
    /// <summary>PReLU with weight.Length == 1 (shared) or == g.C (per channel).</summary>
    public abstract void PRelu(DeviceBuffer x, DeviceBuffer weight, ChannelGeometry g, DeviceBuffer y);
    /// <summary>dx and dweight (overwritten, summed over N and HW) of PReLU.</summary>
    public abstract void PReluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dweight);

    // ---- per-channel bias ----------------------------------------------------------------------

    /// <summary>y[n,c,:] = x[n,c,:] + bias[c] (x and y may be the same buffer).</summary>
    public abstract void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, ChannelGeometry g, DeviceBuffer y);
    /// <summary>sum[c] = sum over n and pixels of x[n,c,:] (bias gradient).</summary>
    public abstract void ChannelSum(DeviceBuffer x, ChannelGeometry g, DeviceBuffer sum);

    // ---- batch norm ----------------------------------------------------------------------------

    /// <summary>
    /// Training mode: normalises with the batch mean and biased variance, writes mean and
    /// 1/sqrt(var+eps) for the backward pass, and updates the running statistics (when given) as
    /// running = (1-momentum)*running + momentum*batch, with the unbiased variance.
    /// </summary>
    public abstract void BatchNormTrain(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, ChannelGeometry g, float eps,
        DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd,
        DeviceBuffer? runningMean, DeviceBuffer? runningVar, float momentum);
    public abstract void BatchNormTrainBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma,
        DeviceBuffer saveMean, DeviceBuffer saveInvStd, ChannelGeometry g,
        DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta);
    /// <summary>Eval mode: normalises with the running statistics.</summary>
    public abstract void BatchNormEval(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
        DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer y);
    public abstract void BatchNormEvalBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma,
        DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps,
        DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta);

    // ---- convolution ---------------------------------------------------------------------------

    /// <summary>y = conv2d(x, w) + bias; w is OIHW.</summary>
    public abstract void Conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, Conv2dGeometry g, DeviceBuffer y);
    /// <summary>dx = gradient of conv2d with respect to its input (also the transposed convolution).</summary>
    public abstract void Conv2dBackwardData(DeviceBuffer dy, DeviceBuffer w, Conv2dGeometry g, DeviceBuffer dx);
    /// <summary>dw (OIHW) and, when given, dbias; both overwritten.</summary>
    public abstract void Conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, Conv2dGeometry g, DeviceBuffer dw, DeviceBuffer? dbias);
    /// <summary>
    /// Inference convolution: y = epilogue(conv2d(x, w)) with bias, activation and optional post-affine applied
    /// as each output tile is stored (<see cref="ConvEpilogue"/>). Forward only: there is no backward.
    /// </summary>
    public abstract void Conv2dFused(DeviceBuffer x, DeviceBuffer w, Conv2dGeometry g, in ConvEpilogue epilogue, DeviceBuffer y);

    // ---- layout --------------------------------------------------------------------------------

    /// <summary>
    /// Copies channels [srcOffset, srcOffset+count) of src [n, srcChannels, hw] into channels
    /// [dstOffset, dstOffset+count) of dst [n, dstChannels, hw]; the rest of dst is untouched.
    /// Channel concat and slice (forward and backward) are made of this.
    /// </summary>
    public abstract void CopyChannels(DeviceBuffer src, int srcChannels, int srcOffset,
        DeviceBuffer dst, int dstChannels, int dstOffset, int count, int n, int hw);

    // ---- resampling (planes = N*C) -------------------------------------------------------------

    /// <summary>Bilinear resize, align_corners=false, scale = in/out size (PyTorch's default).</summary>
    public abstract void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y);
    public abstract void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx);
    /// <summary>Nearest resize as PyTorch's mode='nearest': src = floor(dst * in / out).</summary>
    public abstract void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y);
    public abstract void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx);
    /// <summary>2x2 max-pool, stride 2 (odd trailing row/column dropped, as PyTorch).</summary>
    public abstract void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y);
    /// <summary>Routes dy to the first maximum of each window (recomputed from x).</summary>
    public abstract void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx);

    // ---- reductions ----------------------------------------------------------------------------

    /// <summary>result[0] = sum of x.</summary>
    public abstract void Sum(DeviceBuffer x, DeviceBuffer result);
    /// <summary>result[0] = sum of x*x (global gradient norm).</summary>
    public abstract void SumOfSquares(DeviceBuffer x, DeviceBuffer result);

    // ---- softmax over channels (per pixel) -----------------------------------------------------

    public abstract void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y);
    /// <summary>dx = y * (dy - sum_c dy*y), from the forward output y.</summary>
    public abstract void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx);
    public abstract void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y);
    /// <summary>dx = dy - exp(y) * sum_c dy, from the forward output y.</summary>
    public abstract void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx);

    // ---- losses (mean reduction, result in a one-element buffer) --------------------------------

    /// <summary>loss[0] = mean((pred - target)^2).</summary>
    public abstract void MseLoss(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer loss);
    /// <summary>dpred = dloss[0] * 2 (pred - target) / n.</summary>
    public abstract void MseLossBackward(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer dloss, DeviceBuffer dpred);
    /// <summary>
    /// Softmax cross-entropy against soft targets over the channel axis with optional per-pixel
    /// weights [N,1,H,W]: loss[0] = mean over the N*HW pixels of w * (-sum_c z_c log softmax_c(x)).
    /// One fused pass; the colorization loss.
    /// </summary>
    public abstract void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss);
    /// <summary>dlogits = dloss[0] * w * (softmax(x) * sum_c z_c - z) / (N*HW).</summary>
    public abstract void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g,
        DeviceBuffer dloss, DeviceBuffer dlogits);

    // ---- optimizers (in place on param and state) ----------------------------------------------

    /// <summary>
    /// PyTorch's SGD: g = grad + wd*param; with momentum, buf = firstStep ? g : momentum*buf + (1-dampening)*g,
    /// g = nesterov ? g + momentum*buf : buf; param -= lr*g.
    /// </summary>
    public abstract void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer,
        float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep);
    /// <summary>
    /// PyTorch's Adam (decoupled=false: L2 added to the gradient) or AdamW (decoupled=true:
    /// param *= 1 - lr*wd). step counts from 1.
    /// </summary>
    public abstract void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step);
    /// <summary>grad *= min(1, maxNorm / (sqrt(sumOfSquares[0]) + 1e-6)) (clip by global norm).</summary>
    public abstract void ClipByGlobalNorm(DeviceBuffer grad, DeviceBuffer sumOfSquares, float maxNorm);

    // ---- profiling -----------------------------------------------------------------------------

    /// <summary>
    /// Call at the top of every kernel method: <c>using var _ = Profile("conv2d_fwd", flops, bytes);</c>.
    /// Free when no profiler is attached.
    /// </summary>
    protected ProfileScope Profile(string kernel, double flops = 0, double bytes = 0)
        => Profiler is null ? default : new ProfileScope(this, Profiler, kernel, flops, bytes);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    protected static void CheckLength(string op, string name, DeviceBuffer b, long expected)
    {
        if (b.Length < expected)
            throw new ArgumentException($"{op}: buffer '{name}' holds {b.Length} floats, needs {expected}.");
    }
}
