using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>
/// Saved weights plus saved optimizer and schedule state continue a run exactly: a fresh model and a
/// fresh optimizer, loaded from the files of step k, reach the uninterrupted run's weights bit for bit.
/// </summary>
public class ResumeTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("ilgpusat-resume-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    private static Sequential Model(CpuBackend b, int seed)
    {
        var rng = new Random(seed);
        return new Sequential(new ConvBnPreluStack(new LayerFactory(b, rng), 2, 6, depth: 2), new Modules.Conv2d(6, 2, 3, padding: 1, backend: b, rng: rng));
    }

    private static Optimizer Make(string kind, Sequential model) => kind switch
    {
        "adam" => new Adam(model.Parameters(), lr: 1e-2f, weightDecay: 1e-4f),
        "adamw" => new AdamW(model.Parameters(), lr: 1e-2f),
        _ => new Sgd(model.Parameters(), lr: 0.05f, momentum: 0.9f, nesterov: true),
    };

    private static void Train(CpuBackend b, Sequential model, Optimizer opt, StepLR schedule, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            using var scope = new TensorScope();
            var rng = new Random(1000 + step); // the batch of each step is a function of the step alone
            var x = Tensor.FromArray(GradCheck.Uniform(rng, 3 * 2 * 6 * 6), [3, 2, 6, 6], backend: b);
            var y = Tensor.FromArray(GradCheck.Uniform(rng, 3 * 2 * 6 * 6), [3, 2, 6, 6], backend: b);
            opt.ZeroGrad();
            F.MseLoss(model.Forward(x), y).Backward();
            opt.Step();
            schedule.Step();
        }
    }

    [TestCase("adam")]
    [TestCase("adamw")]
    [TestCase("sgd")]
    public void ResumedRunEqualsTheUninterruptedRunBitForBit(string kind)
    {
        using var b = new CpuBackend();
        using var straight = Model(b, 1);
        using var o1 = Make(kind, straight);
        var s1 = new StepLR(o1, stepSize: 2, gamma: 0.5f);
        Train(b, straight, o1, s1, 0, 6);

        using (var first = Model(b, 1))
        using (var o2 = Make(kind, first))
        {
            var s2 = new StepLR(o2, stepSize: 2, gamma: 0.5f);
            Train(b, first, o2, s2, 0, 3);
            first.Save(Path.Combine(_dir, "w.safetensors"));
            o2.SaveState(Path.Combine(_dir, "opt.safetensors"), first.NamedParameters());
        }

        using var resumed = Model(b, 99); // other initial weights: everything must come from the files
        resumed.Load(Path.Combine(_dir, "w.safetensors"));
        using var o3 = Make(kind, resumed);
        var s3 = new StepLR(o3, stepSize: 2, gamma: 0.5f);
        o3.LoadState(Path.Combine(_dir, "opt.safetensors"), resumed.NamedParameters());
        s3.Restore(3);
        Train(b, resumed, o3, s3, 3, 6);

        Assert.That(o3.LearningRate, Is.EqualTo(o1.LearningRate));
        var a = straight.StateDict();
        foreach (var (name, t) in resumed.StateDict())
            Assert.That(t.ToArray(), Is.EqualTo(a[name].ToArray()), $"{kind}: {name}");
        Assert.That(o3.StateOf(resumed.Parameters().First())!.Step, Is.EqualTo(6));
    }

    [Test]
    public void StateOfAnotherModelOrOptimizerIsRefusedNamingTheFile()
    {
        using var b = new CpuBackend();
        using var model = Model(b, 1);
        using var adam = new Adam(model.Parameters());
        Train(b, model, adam, new StepLR(adam, 10), 0, 1);
        string path = Path.Combine(_dir, "adam.safetensors");
        adam.SaveState(path, model.NamedParameters());

        using var sgd = new Sgd(model.Parameters(), lr: 0.1f);
        var e = Assert.Throws<InvalidDataException>(() => sgd.LoadState(path, model.NamedParameters()))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("Adam").And.Contain("Sgd"));

        using var other = new Sequential(new Modules.Conv2d(2, 2, 1, backend: b, rng: new Random(0)));
        using var adam2 = new Adam(other.Parameters());
        e = Assert.Throws<InvalidDataException>(() => adam2.LoadState(path, other.NamedParameters()))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("does not have"));
    }
}
