using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;
namespace ILGpuSat.Inference.Tests;
[TestFixture, Explicit]
public sealed class ScratchMeasure
{
    [Test]
    public void Measure()
    {
        using var cpu = new CpuBackend { Threads = 2 };
        using var e = Enhancer.LoadDefault(cpu);
        var img = ImageReader.Read(System.Environment.GetEnvironmentVariable("SCRATCH_IMG")!);
        int side = 256;
        var g = new float[side * side];
        for (int y = 0; y < side; y++) for (int x = 0; x < side; x++)
            { float acc = 0; foreach (var pl in img.Planes) acc += pl[(y + 100) * img.Width + x + 100]; g[y * side + x] = acc / img.Planes.Length; }
        var input = new RasterImage(side, side, [g]);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var whole = e.Enhance(input, new EnhanceOptions { TileSize = side });
        TestContext.Out.WriteLine($"whole {sw.ElapsedMilliseconds} ms ctx {e.ReceptiveContext} measured {e.ContextFor(EnhanceOptions.Default)}");
        foreach (int ctx in new[] { e.ContextFor(EnhanceOptions.Default), 64 })
        {
            sw.Restart();
            var t = e.Enhance(input, new EnhanceOptions { TileSize = 96, Overlap = 16, Context = ctx });
            double max = 0, sum = 0; long n = 0;
            for (int b = 0; b < 3; b++) for (int i = 0; i < t.Color.Planes[b].Length; i++) { double d = Math.Abs(t.Color.Planes[b][i] - whole.Color.Planes[b][i]); max = Math.Max(max, d); sum += d; n++; }
            TestContext.Out.WriteLine($"ctx {ctx}: {sw.ElapsedMilliseconds} ms  max |dRGB| {max * 255:F3}/255  mean {sum / n * 255:F4}/255");
        }
    }
}
