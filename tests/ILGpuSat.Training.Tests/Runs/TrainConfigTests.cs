using ILGpuSat.Training.Config;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

public class TrainConfigTests
{
    [Test]
    public void DefaultsAreThePapersRecipe()
    {
        var c = new TrainConfig();
        Assert.That((c.Optimizer.Kind, c.Optimizer.Lr, c.Optimizer.Beta1, c.Optimizer.Beta2, c.Optimizer.WeightDecay),
                    Is.EqualTo((OptimizerKind.Adam, 1e-3, 0.9, 0.999, 1e-4)));
        Assert.That((c.Schedule.StepSize, c.Schedule.Gamma), Is.EqualTo((100_000, 0.316)));
        Assert.That((c.Batch, c.Data.Patch, c.Data.Stride), Is.EqualTo((32, 96, 27)));
        Assert.That((c.Loss.EtaAt(0), c.Loss.EtaAt(c.Loss.RaiseEtaAtStep)), Is.EqualTo((1.0, 1.5)));
    }

    [Test]
    public void JsonRoundTripGivesTheSameConfig()
    {
        var c = new TrainConfig
        {
            Model = "liu2018-sr", ModelConfig = System.Text.Json.JsonDocument.Parse("""{"w": 3}""").RootElement.Clone(),
            Data = new DataConfig { Satellite = ["a", "b"], Natural = ["n"], Validation = "v", Augmentation = ILGpuSat.Training.Data.Augmentation.AllEight },
            Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, Lr = 3e-4 }, Steps = 77, Seed = 9, Device = "cpu",
        };
        var back = TrainConfig.Parse(c.ToJson());
        Assert.That(back.ToJson(), Is.EqualTo(c.ToJson()));
        Assert.That(back.Data.Satellite, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(back.Optimizer.Kind, Is.EqualTo(OptimizerKind.AdamW));
        Assert.That(c.ToJson(), Does.Contain("\"augmentation\": \"all-eight\"").And.Contain("\"kind\": \"adam-w\""));
    }

    [TestCase("""{"stepz": 5}""", "stepz")]
    [TestCase("""{"data": {"patch": 96, "strid": 3}}""", "strid")]
    [TestCase("""{"optimizer": {"lr": "fast"}}""", "lr")]
    [TestCase("""{"data": {"augmentation": "sideways"}}""", "augmentation")]
    [TestCase("""{"batch": 3,}""", "config")]
    public void StrictParsingNamesTheKey(string json, string key)
    {
        var e = Assert.Throws<ArgumentException>(() => TrainConfig.Parse(json));
        Assert.That(e!.Message, Does.Contain(key));
    }

    [Test]
    public void ValidationNamesTheKeyThatCannotWork()
    {
        var ok = new TrainConfig { Data = new DataConfig { Satellite = ["s"] } };
        Assert.That(ok.Validate(), Is.SameAs(ok));
        Assert.That(Assert.Throws<ArgumentException>(() => (ok with { Data = ok.Data with { Patch = 30 } }).Validate())!.Message, Does.Contain("data.patch"));
        Assert.That(Assert.Throws<ArgumentException>(() => (ok with { Batch = 0 }).Validate())!.Message, Does.Contain("batch"));
        Assert.That(Assert.Throws<ArgumentException>(() => (ok with { Device = "tpu" }).Validate())!.Message, Does.Contain("device"));
        Assert.That(Assert.Throws<ArgumentException>(() => new TrainConfig().Validate())!.Message, Does.Contain("--data"));
    }

    [Test]
    public void CommandLineValuesOverrideTheFile()
    {
        var file = new TrainConfig
        {
            Model = "liu2018", ModelConfig = System.Text.Json.JsonDocument.Parse("{}").RootElement.Clone(),
            Data = new DataConfig { Satellite = ["s"], Natural = ["n"], Patch = 64 }, Steps = 10, Batch = 8, Device = "cuda",
        };
        var same = new TrainOverrides().ApplyTo(file);
        Assert.That(same.ToJson(), Is.EqualTo(file.ToJson()), "no override changes nothing");
        var c = new TrainOverrides { Satellite = ["s2"], Steps = 99, Batch = 2, Device = "cpu", Validation = "v" }.ApplyTo(file);
        Assert.That((c.Steps, c.Batch, c.Device, c.Data.Validation, c.Data.Patch), Is.EqualTo((99L, 2, "cpu", "v", 64)));
        Assert.That(c.Data.Satellite, Is.EqualTo(new[] { "s2" }));
        Assert.That(c.Data.Natural, Is.EqualTo(new[] { "n" }));
        var other = new TrainOverrides { Model = "srcnn" }.ApplyTo(file);
        Assert.That((other.Model, other.ModelConfig), Is.EqualTo(("srcnn", (System.Text.Json.JsonElement?)null)), "another model starts from its own defaults");
    }

    /// <summary>The configs the README's table and the default model were trained with parse strictly and validate.</summary>
    [TestCase("Inference/DefaultModel/train.json", "liu2018")]
    [TestCase("docs/baselines/srcnn.json", "srcnn")]
    [TestCase("docs/baselines/recurrent-residual.json", "recurrent-residual")]
    [TestCase("docs/baselines/liu2018-sr.json", "liu2018-sr")]
    [TestCase("docs/baselines/regression-ed.json", "regression-ed")]
    public void ShippedConfigsLoadAndValidate(string relative, string model)
    {
        var config = TrainConfig.Load(Path.Combine(ILGpuSat.Tests.Common.RepositoryPaths.Root, relative));
        Assert.That(config.Model, Is.EqualTo(model));
        Assert.That(config.Validate(), Is.SameAs(config));
        Assert.That(config.Data.Satellite, Has.All.Not.Contains("satellite-test"), $"{relative} trains on the test set");
    }
}
