using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests;

public class CpuBufferTests
{
    [Test]
    public void UploadDownloadRoundTrips()
    {
        using var backend = new CpuBackend();
        using var b = backend.Allocate(5);
        backend.Upload(new float[] { 1, 2, 3, 4, 5 }, b);
        var back = new float[5];
        backend.Download(b, back);
        Assert.That(back, Is.EqualTo(new float[] { 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void UploadOfWrongLengthIsRejected()
    {
        using var backend = new CpuBackend();
        using var b = backend.Allocate(5);
        var ex = Assert.Throws<ArgumentException>(() => backend.Upload(new float[3], b));
        Assert.That(ex!.Message, Does.Contain("3 floats"));
    }
}
