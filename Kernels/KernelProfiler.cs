using System.Diagnostics;

namespace ILGpuSat.Kernels;

/// <summary>One timed kernel launch.</summary>
public readonly record struct KernelLaunch(string Kernel, double StartUs, double DurationUs, double Flops, double Bytes);

/// <summary>
/// Records every kernel launch of a backend while attached (<see cref="Backend.Profiler"/>).
/// Each launch is bracketed by device synchronisations so that its time is its own; this makes a
/// profiled step slower than an unprofiled one, but the per-kernel figures are exact.
/// </summary>
public sealed class KernelProfiler
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<KernelLaunch> _launches = new();
    private int _depth;

    public IReadOnlyList<KernelLaunch> Launches => _launches;

    public void Clear() => _launches.Clear();

    /// <summary>Time since the profiler was made: the clock of every launch's start.</summary>
    public TimeSpan Now => _clock.Elapsed;

    internal double NowUs => _clock.Elapsed.TotalMicroseconds;

    /// <summary>Nested launches (a kernel method calling another) are recorded once, at the outer level.</summary>
    internal bool Enter() => _depth++ == 0;
    internal void Exit() => _depth--;

    internal void Record(KernelLaunch launch) => _launches.Add(launch);
}

/// <summary>Times one kernel launch; a default instance does nothing.</summary>
public readonly struct ProfileScope : IDisposable
{
    private readonly Backend? _backend;
    private readonly KernelProfiler? _profiler;
    private readonly string? _kernel;
    private readonly double _flops, _bytes, _startUs;
    private readonly bool _outer;

    internal ProfileScope(Backend backend, KernelProfiler profiler, string kernel, double flops, double bytes)
    {
        _backend = backend;
        _profiler = profiler;
        _kernel = kernel;
        _flops = flops;
        _bytes = bytes;
        _outer = profiler.Enter();
        if (_outer) backend.Synchronize();
        _startUs = profiler.NowUs;
    }

    public void Dispose()
    {
        if (_profiler is null) return;
        if (_outer)
        {
            _backend!.Synchronize();
            double end = _profiler.NowUs;
            _profiler.Record(new KernelLaunch(_kernel!, _startUs, end - _startUs, _flops, _bytes));
        }
        _profiler.Exit();
    }
}
