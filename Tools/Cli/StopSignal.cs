namespace ILGpuSat.Tools.Cli;

/// <summary>
/// Ctrl-C and SIGTERM (kill, systemd, docker stop and batch schedulers send it; background jobs ignore SIGINT) cancel
/// <see cref="Token"/> instead of killing the process, so a training run finishes its step, checkpoints and exits.
/// </summary>
public sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly ConsoleCancelEventHandler _onCancel;
    private readonly System.Runtime.InteropServices.PosixSignalRegistration _onTerminate;

    public StopSignal()
    {
        _onCancel = (_, e) =>
        {
            e.Cancel = true;
            _cts.Cancel();
        };
        Console.CancelKeyPress += _onCancel;
        _onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            _cts.Cancel();
        });
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _onTerminate.Dispose();
        _cts.Dispose();
    }
}
