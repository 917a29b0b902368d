using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>PROBA-V scene folders written in the archive's layout (16-bit looks, 8-bit masks) and read back.</summary>
public class ProbaVSceneTests
{
    private string _root = null!;

    [SetUp]
    public void Make() => _root = Directory.CreateTempSubdirectory("probav-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    // A 16-bit grey PNG whose stored samples are exactly `samples` (14-bit values, as the archive's).
    private static void Write16(string path, int w, int h, Func<int, int> samples) =>
        ImageWriter.Write(path, new RasterImage(w, h, [Enumerable.Range(0, w * h).Select(i => (float)(samples(i) / 65535.0)).ToArray()]),
                          new WriteOptions { BitDepth = 16 });

    private static void WriteMask(string path, int w, int h, Func<int, bool> clear) =>
        ImageWriter.Write(path, new RasterImage(w, h, [Enumerable.Range(0, w * h).Select(i => clear(i) ? 1f : 0f).ToArray()]));

    private string Scene(string name, int looks, int lr = 8, int scale = 3, bool hr = true)
    {
        string folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        for (int k = 0; k < looks; k++)
        {
            int look = k;
            Write16(Path.Combine(folder, $"LR{k:D3}.png"), lr, lr, i => 1000 * (look + 1) + i);
            WriteMask(Path.Combine(folder, $"QM{k:D3}.png"), lr, lr, i => i % (look + 2) != 0); // look k: fewer clear pixels for small k
        }
        if (hr)
        {
            Write16(Path.Combine(folder, "HR.png"), lr * scale, lr * scale, i => 16383 - i);
            WriteMask(Path.Combine(folder, "SM.png"), lr * scale, lr * scale, i => i >= 5);
        }
        return folder;
    }

    [Test]
    public void ATrainingSceneReadsItsLooksMasksHrAndStatusMap()
    {
        var scene = ProbaVScene.Load(Scene("imgset0007", looks: 3));
        Assert.That(scene.Name, Is.EqualTo("imgset0007"));
        Assert.That((scene.LrWidth, scene.LrHeight, scene.HrWidth, scene.Scale), Is.EqualTo((8, 8, 24, 3)));
        Assert.That(scene.Frames.Select(f => f.Name), Is.EqualTo(new[] { "LR000", "LR001", "LR002" }));
        Assert.That(scene.Frames[1].Pixels[5], Is.EqualTo((float)(2005 / 65535.0)), "stored value / 65535, as skimage img_as_float");
        Assert.That(scene.Frames[0].Clear[0], Is.False);
        Assert.That(scene.Frames[0].Clear[1], Is.True);
        Assert.That(scene.Frames[0].ClearCount, Is.EqualTo(32));
        Assert.That(scene.ByClearPixels().Select(f => f.Name), Is.EqualTo(new[] { "LR002", "LR001", "LR000" }));
        Assert.That(scene.HighRes![0], Is.EqualTo((float)(16383 / 65535.0)));
        Assert.That(scene.Status!.Count(s => !s), Is.EqualTo(5));
    }

    [Test]
    public void ATestSceneHasNoHr()
    {
        var scene = ProbaVScene.Load(Scene("imgset1200", looks: 2, hr: false));
        Assert.That(scene.HighRes, Is.Null);
        Assert.That(scene.Status, Is.Null);
        Assert.That(scene.Frames, Has.Count.EqualTo(2));
    }

    [Test]
    public void BadScenesAreClearErrorsNamingTheFile()
    {
        string noMask = Scene("nomask", 2);
        File.Delete(Path.Combine(noMask, "QM001.png"));
        var e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(noMask));
        Assert.That(e!.Message, Does.Contain("LR001.png").And.Contain("QM001.png is missing"));

        string mixed = Scene("mixed", 2);
        Write16(Path.Combine(mixed, "LR001.png"), 9, 8, i => i);
        e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(mixed));
        Assert.That(e!.Message, Does.Contain("LR001.png").And.Contain("9x8").And.Contain("LR000.png is 8x8"));

        string noStatus = Scene("nostatus", 2);
        File.Delete(Path.Combine(noStatus, "SM.png"));
        e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(noStatus));
        Assert.That(e!.Message, Does.Contain("HR.png").And.Contain("SM.png"));

        e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(Scene("few", 2), minimumFrames: 9));
        Assert.That(e!.Message, Does.Contain("2 LR look(s)").And.Contain("at least 9"));

        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(empty));
        Assert.That(e!.Message, Does.Contain("no LR look"));

        string odd = Scene("odd", 1, scale: 3);
        Write16(Path.Combine(odd, "HR.png"), 25, 25, i => i);
        WriteMask(Path.Combine(odd, "SM.png"), 25, 25, _ => true);
        e = Assert.Throws<ImageFormatException>(() => ProbaVScene.Load(odd));
        Assert.That(e!.Message, Does.Contain("not a whole multiple"));
    }

    [Test]
    public void NormCsvGivesEachScenesBaseline()
    {
        string norm = Path.Combine(_root, "norm.csv");
        File.WriteAllLines(norm, ["imgset0000 45.25", "imgset0001 51.0", ""]);
        var baselines = ProbaVScene.ReadBaselines(norm);
        Assert.That(baselines["imgset0001"], Is.EqualTo(51.0));
        File.WriteAllLines(norm, ["imgset0000 45.25", "imgset0001 nan?"]);
        var e = Assert.Throws<InvalidDataException>(() => ProbaVScene.ReadBaselines(norm));
        Assert.That(e!.Message, Does.Contain("line 2"));
    }
}
