using ILGpuSat.Imaging.Color;
using ILGpuSat.Tests.Common;
using ILGpuSat.Training.Color;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Color;

public class PriorFilesTests
{
    [Test]
    public void CompiledInTablesEqualTheSharedFiles()
    {
        string sharedColor = RepositoryPaths.RequireSharedData("color");
        foreach (var file in new[] { "pts_in_hull.txt", "pts_in_hull.npy" })
        {
            var loaded = PriorFiles.LoadBins(Path.Combine(sharedColor, file));
            Assert.That(loaded.A.ToArray(), Is.EqualTo(AbBins.Default.A.ToArray()), file);
            Assert.That(loaded.B.ToArray(), Is.EqualTo(AbBins.Default.B.ToArray()), file);
        }
        foreach (var file in new[] { "prior_probs.txt", "prior_probs.npy" })
            Assert.That(PriorFiles.LoadPrior(Path.Combine(sharedColor, file)).Probabilities.ToArray(),
                        Is.EqualTo(ColorPrior.ImageNet.Probabilities.ToArray()).Within(1e-15), file);
        // SOURCES.md: the ImageNet prior peaks at bin 120 = (0, 0) with p = 0.2012.
        Assert.That(AbBins.Default.IndexOf(0, 0), Is.EqualTo(120));
        Assert.That(ColorPrior.ImageNet[120], Is.EqualTo(0.2012).Within(5e-5));
    }

    [Test]
    public void SaveAndLoadRoundTripExactly()
    {
        var dir = Directory.CreateTempSubdirectory("prior-io-");
        try
        {
            var p = ColorPrior.ImageNet.Smooth();
            foreach (var name in new[] { "p.npy", "p.txt" })
            {
                string path = Path.Combine(dir.FullName, name);
                PriorFiles.Save(path, p);
                Assert.That(PriorFiles.LoadPrior(path).Probabilities.ToArray(), Is.EqualTo(p.Probabilities.ToArray()), name);
            }
            Assert.That(Directory.GetFiles(dir.FullName, "*.tmp", SearchOption.AllDirectories), Is.Empty, "no temporaries left");
        }
        finally { dir.Delete(true); }
    }

    [Test]
    public void BadFilesNameTheFileAndTheProblem()
    {
        var dir = Directory.CreateTempSubdirectory("prior-bad-");
        try
        {
            string shortFile = Path.Combine(dir.FullName, "short.txt");
            File.WriteAllLines(shortFile, ["0.5", "0.5"]);
            var e = Assert.Throws<InvalidDataException>(() => PriorFiles.LoadPrior(shortFile))!;
            Assert.That(e.Message, Does.Contain(shortFile).And.Contain("313"));
            string word = Path.Combine(dir.FullName, "word.txt");
            File.WriteAllLines(word, ["0.5", "half"]);
            e = Assert.Throws<InvalidDataException>(() => PriorFiles.LoadWeights(word))!;
            Assert.That(e.Message, Does.Contain(word).And.Contain("line 2").And.Contain("half"));
        }
        finally { dir.Delete(true); }
    }
}
