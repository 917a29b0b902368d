using System.Buffers.Binary;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

/// <summary>A folder scan survives any file in the folder: it lists the good images and counts the bad ones.</summary>
public class ImageCatalogTests
{
    [Test]
    public void TiffWithAHugeDeclaredHeightIsCountedNotFatal()
    {
        // Defect 1 of the imaging issue: ImageLength 2^31-1 with RowsPerStrip 1 made LibTiff throw an
        // OutOfMemoryException inside Tiff.Open, which aborted the whole scan.
        using var fx = new DataFixtures();
        string folder = fx.Folder("scan");
        fx.WritePng(folder, "good.png", 120, 110, 1);
        string tif = Path.Combine(folder, "lying.tif");
        ImageWriter.Write(tif, RasterImage.Create(8, 8, 1), new WriteOptions { TiffCompression = TiffCompressionKind.None });
        var b = File.ReadAllBytes(tif);
        Patch(b, tag: 257, value: int.MaxValue); // ImageLength
        Patch(b, tag: 278, value: 1);            // RowsPerStrip
        File.WriteAllBytes(tif, b);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var catalog = ImageCatalog.Build([folder], patchSize: 96, stride: 27, workers: 1);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(256L << 20), "nothing sized from the lying header");
        Assert.That(catalog.Images.Select(e => Path.GetFileName(e.Path)), Is.EqualTo(new[] { "good.png" }));
        Assert.That(catalog.SkippedUnreadable, Is.EqualTo(1));
        Assert.That(catalog.Failures.Single(), Does.Contain("lying.tif"));
    }

    /// <summary>Overwrites a one-value SHORT or LONG entry of a little-endian classic TIFF's first directory.</summary>
    static void Patch(byte[] b, int tag, int value)
    {
        Assert.That(b[0], Is.EqualTo((byte)'I'), "little-endian TIFF expected");
        int ifd = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        int n = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(ifd));
        for (int e = 0; e < n; e++)
        {
            int p = ifd + 2 + 12 * e;
            if (BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(p)) != tag) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(p + 2), 4); // LONG, so any value fits
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(p + 4), 1);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(p + 8), value);
            return;
        }
        Assert.Fail($"tag {tag} not in the directory");
    }
}
