using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>Finding the NVIDIA driver, and what the factory does with or without one.</summary>
[TestFixture]
public sealed class CudaDriverTests
{
    [Test]
    public void CandidatesCoverVersionedNameAndDriverDirectories()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("Linux driver layout");
        var c = LibCudaResolver.Candidates;
        Assert.That(c[0], Is.EqualTo("libcuda.so.1"), "the driver's soname first, through the loader's own search");
        int firstUnversioned = c.ToList().FindIndex(n => n.EndsWith("libcuda.so", StringComparison.Ordinal));
        Assert.That(c.Take(firstUnversioned).All(n => n.EndsWith("libcuda.so.1", StringComparison.Ordinal)), Is.True,
                    "every libcuda.so.1 before any libcuda.so (a toolkit's stubs/libcuda.so loads but has no device)");
        Assert.That(c[firstUnversioned], Is.EqualTo("libcuda.so"));
        Assert.That(c, Does.Contain("/usr/local/nvidia/lib64/libcuda.so.1"));
        Assert.That(c, Does.Contain("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    }

    [Test]
    public void ProbeTakesTheFirstCandidateThatLoads()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("uses a Linux system library as a stand-in driver");
        string? libm = new[] { "/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6", "/usr/lib/aarch64-linux-gnu/libm.so.6" }
            .FirstOrDefault(File.Exists);
        if (libm is null) Assert.Ignore("no libm.so.6 to stand in for the driver");
        string dir = Path.Combine(Path.GetTempPath(), $"fake-driver-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string fake = Path.Combine(dir, "libcuda.so.1");
        try
        {
            if (!File.Exists(fake)) File.CreateSymbolicLink(fake, libm!);
            string missing = Path.Combine(dir, "nothing-here", "libcuda.so.1");
            string? found = LibCudaResolver.Probe(["libilgpusat-no-such-library.so", missing, fake], out var handle);
            Assert.That(found, Is.EqualTo(fake));
            Assert.That(handle, Is.Not.EqualTo(IntPtr.Zero));
            Assert.That(LibCudaResolver.Probe([missing], out var none), Is.Null);
            Assert.That(none, Is.EqualTo(IntPtr.Zero));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void WithoutDriverCudaFailsClearlyAndAutoFallsBackToCpu()
    {
        if (LibCudaResolver.TryLoad(out var path))
        {
            // A machine with a driver: "auto" must then pick a usable backend and "cuda" must not claim the driver is missing.
            using var auto = Backends.Create("auto");
            Assert.That(auto.Name, Is.AnyOf("cuda", "cpu"), $"driver at {path}");
            return; // the missing-driver path cannot be exercised on a machine that has the driver
        }
        var e = Assert.Throws<CudaUnavailableException>(() => Backends.Create("cuda"))!;
        Assert.That(e.Message, Does.Contain("libcuda"));
        Assert.That(e.Message, Does.Contain("NVIDIA driver"));
        Assert.That(e.Message, Does.Contain("--device cpu"));
        using var fallback = Backends.Create("auto");
        Assert.That(fallback, Is.InstanceOf<CpuBackend>());
        Assert.That(Backends.CudaUnavailableReason(), Does.Contain("libcuda"));
    }

    [Test]
    public void UnknownDeviceNameIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Backends.Create("tpu"))!;
        Assert.That(e.Message, Does.Contain("tpu").And.Contain("cpu, cuda or auto"));
    }
}
