using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Training.TestHost;

/// <summary>
/// `start CONFIG RUN` or `resume RUN`: trains a tiny network on the CPU backend. Prints "PHASE ..." for
/// every trainer phase; when the environment variable TRAIN_HOST_HOLD is "PHASE#N", it stops (sleeps) at
/// the N-th occurrence of that phase so the test can kill the process at exactly that point. Exit 0 done, 3 diverged.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string[] hold = (Environment.GetEnvironmentVariable("TRAIN_HOST_HOLD") ?? "#0").Split('#');
        int remaining = int.Parse(hold[1], System.Globalization.CultureInfo.InvariantCulture);
        var hooks = new TrainerHooks
        {
            Phase = phase =>
            {
                bool stop = phase == hold[0] && --remaining == 0;
                Console.Out.WriteLine((stop ? "HOLD " : "PHASE ") + phase);
                Console.Out.Flush();
                if (stop) Thread.Sleep(Timeout.Infinite);
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
