using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

public class CoRegisteredLooksTests
{
    private string _root = "";

    [SetUp]
    public void Make() => _root = Directory.CreateTempSubdirectory("looks-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    private string Look(string name, int w, int h, int bands = 1, int depth = 8, float value = 0.5f)
    {
        string path = Path.Combine(_root, name);
        var planes = Enumerable.Range(0, bands).Select(b => Enumerable.Repeat(value + 0.1f * b, w * h).ToArray()).ToArray();
        ImageWriter.Write(path, new RasterImage(w, h, planes), new WriteOptions { BitDepth = depth });
        return path;
    }

    [Test]
    public void LooksAreReadInNameOrderAtFullRangeWithTheirMasksAndTheChosenBand()
    {
        Look("b.tif", 4, 3, bands: 2, depth: 16, value: 0.25f);
        Look("a.tif", 4, 3, bands: 2, depth: 16, value: 0.5f);
        ImageWriter.Write(Path.Combine(_root, "b_mask.tif"), new RasterImage(4, 3, [Enumerable.Range(0, 12).Select(i => i < 5 ? 0f : 1f).ToArray()]));
        var looks = CoRegisteredLooks.Load(_root, band: 2);
        Assert.That(looks.Scene.Frames.Select(f => f.Name), Is.EqualTo(new[] { "a", "b" }), "the mask is not a look");
        Assert.That(looks.Scene.Frames[0].Pixels, Is.All.EqualTo(0.6f).Within(1e-4), "band 2, 16-bit / 65535");
        Assert.That(looks.Scene.Frames[0].ClearCount, Is.EqualTo(12));
        Assert.That(looks.Scene.Frames[1].ClearCount, Is.EqualTo(7), "clear where the mask is nonzero");
        Assert.That((looks.BitDepth, looks.HasNoData, looks.Geo), Is.EqualTo((16, false, (GeoReference?)null)));
        Assert.That(CoRegisteredLooks.IsLookFolder(_root), Is.True);
    }

    [Test]
    public void LooksOfAnotherSizeOrDepthAMaskOfAnotherSizeAndAMissingBandAreNamed()
    {
        Look("a.tif", 4, 3);
        var odd = Look("b.tif", 5, 3);
        Assert.That(() => CoRegisteredLooks.Load(_root), Throws.InstanceOf<ImageFormatException>().With.Message.Contains(odd).And.Message.Contains("one grid"));
        File.Delete(odd);
        var deep = Look("b.tif", 4, 3, depth: 16);
        Assert.That(() => CoRegisteredLooks.Load(_root), Throws.InstanceOf<ImageFormatException>().With.Message.Contains(deep).And.Message.Contains("16-bit"));
        File.Delete(deep);
        var mask = Look("a_mask.png", 2, 2);
        Assert.That(() => CoRegisteredLooks.Load(_root), Throws.InstanceOf<ImageFormatException>().With.Message.Contains(mask).And.Message.Contains("a.tif"));
        File.Delete(mask);
        Assert.That(() => CoRegisteredLooks.Load(_root, band: 2), Throws.InstanceOf<ImageFormatException>().With.Message.Contains("band 2"));
        Assert.That(() => CoRegisteredLooks.Load(_root, minimumLooks: 3), Throws.InstanceOf<ImageFormatException>().With.Message.Contains("1 look(s)"));
        File.Delete(Path.Combine(_root, "a.tif"));
        Assert.That(CoRegisteredLooks.IsLookFolder(_root), Is.False);
        Assert.That(() => CoRegisteredLooks.Load(_root), Throws.InstanceOf<ImageFormatException>().With.Message.Contains("no look"));
    }
}
