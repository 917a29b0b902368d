namespace ILGpuSat.Kernels.Cpu;

// Whole-buffer reductions into a one-element buffer; partial sums are kept in double.
public sealed partial class CpuBackend
{
    public override void Sum(DeviceBuffer x, DeviceBuffer result)
    {
        int n = (int)x.Length;
        using var _ = Profile("sum", n, 4.0 * n + 4);
        CheckLength("sum", "result", result, 1);
        var xa = HostArray(x);
        Host(result)[0] = (float)CpuParallel.SumElements(Threads, n, (s, e) => SimdMath.Sum(xa, s, e));
    }

    public override void SumOfSquares(DeviceBuffer x, DeviceBuffer result)
    {
        int n = (int)x.Length;
        using var _ = Profile("sum_of_squares", 2.0 * n, 4.0 * n + 4);
        CheckLength("sum_of_squares", "result", result, 1);
        var xa = HostArray(x);
        Host(result)[0] = (float)CpuParallel.SumElements(Threads, n, (s, e) => SimdMath.SumSquares(xa, s, e));
    }
}
