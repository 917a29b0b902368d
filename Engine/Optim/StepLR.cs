namespace ILGpuSat.Engine.Optim;

/// <summary>
/// torch.optim.lr_scheduler.StepLR: after every <c>stepSize</c> calls of <see cref="Step"/> (epochs)
/// the learning rate is multiplied by <c>gamma</c>: lr = initial_lr * gamma^(epoch / stepSize).
/// </summary>
public sealed class StepLR
{
    private readonly Optimizer _optimizer;

    public StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (stepSize <= 0) throw new ArgumentException($"StepLR: step size must be positive, got {stepSize}.");
        _optimizer = optimizer;
        StepSize = stepSize;
        Gamma = gamma;
        BaseLearningRate = optimizer.LearningRate;
    }

    public int StepSize { get; }
    public float Gamma { get; }
    public float BaseLearningRate { get; }

    /// <summary>Number of <see cref="Step"/> calls so far (PyTorch's last_epoch).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate the optimizer now uses.</summary>
    public float LastLearningRate => _optimizer.LearningRate;

    /// <summary>Resumes a schedule: <paramref name="lastEpoch"/> epochs have ended (the optimizer's rate is set to match).</summary>
    public void Restore(int lastEpoch)
    {
        if (lastEpoch < 0) throw new ArgumentException($"StepLR: last epoch must be non-negative, got {lastEpoch}.");
        LastEpoch = lastEpoch;
        SetRate();
    }

    /// <summary>Ends an epoch; call after the epoch's optimizer steps.</summary>
    public void Step()
    {
        LastEpoch++;
        SetRate();
    }

    /// <summary>lr = initial_lr * gamma^(epoch / stepSize), as PyTorch's closed form.</summary>
    private void SetRate() => _optimizer.LearningRate = (float)(BaseLearningRate * Math.Pow(Gamma, LastEpoch / StepSize));
}
