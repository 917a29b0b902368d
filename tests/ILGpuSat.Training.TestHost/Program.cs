using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Training.TestHost;

/// <summary>
/// `start CONFIG RUN` or `resume RUN`: trains a tiny network on the CPU backend. Prints "PHASE ..." for
/// every trainer phase; when the environment variable TRAIN_HOST_HOLD equals a phase, it stops there
/// (sleeps) so the test can kill the process at exactly that point. Exit 0 done, 3 diverged.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? hold = Environment.GetEnvironmentVariable("TRAIN_HOST_HOLD");
        var hooks = new TrainerHooks
        {
            Phase = phase =>
            {
                Console.Out.WriteLine("PHASE " + phase);
                Console.Out.Flush();
                if (phase == hold) Thread.Sleep(Timeout.Infinite);
            },
        };
        var backend = new CpuBackend();
        try
        {
            var result = args[0] == "start"
                ? Trainer.Start(TrainConfig.Load(args[1]), args[2], new TinyModelSource(), backend, hooks)
                : Trainer.Resume(args[1], new TinyModelSource(), _ => backend, hooks);
            Console.Out.WriteLine($"DONE {result.Step}");
            return 0;
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }
}
