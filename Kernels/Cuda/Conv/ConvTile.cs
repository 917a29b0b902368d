using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>
/// The block tiling of the implicit-GEMM convolution kernel (all three passes). Each block computes a
/// BM x BN tile of C = A (BM x K) * B (K x BN), stepping through K in slices of BK that are staged in
/// double-buffered shared memory (one barrier per slice: the next slice is fetched into registers
/// while the current one is multiplied, then stored into the other buffer).
///
/// 128 threads as 8 (rows) x 16 (columns); each thread owns an 8x8 register tile made of rows
/// ty*4+{0..3}, 32+ty*4+{0..3} and columns tx*4+{0..3}, 64+tx*4+{0..3}, so that every operand of a
/// k-step is two 16-byte shared loads (A broadcast within a warp, B conflict-free).
/// </summary>
internal static class ConvTile
{
    public const int BM = 64;
    public const int BN = 128;
    public const int BK = 8;
    public const int Threads = 128;
    /// <summary>A rows in shared memory are padded so that the transposed stores (k varies fastest across a warp) hit distinct banks.</summary>
    public const int LdA = BM + 4;
    public const int LdB = BN;
    public const int ASlice = BK * LdA;
    public const int BSlice = BK * LdB;
    /// <summary>Shared floats of one stage (A then B); two stages are allocated.</summary>
    public const int Stage = ASlice + BSlice;
    public const int SharedFloats = 2 * Stage;

    /// <summary>The block size every conv GEMM kernel must be launched with.</summary>
    public static KernelConfig Config(int gridX, int gridY, int gridZ = 1) => new(new Index3D(gridX, gridY, gridZ), new Index3D(Threads, 1, 1));

    /// <summary>
    /// Multiplies the BK-deep slice staged at <paramref name="stage"/> (float offset, multiple of 4) into
    /// the register tile: per k two 16-byte loads of A, two of B and 64 FMAs. ILGPU does not unroll loops,
    /// so two k are written out per iteration, each shared load a base pointer plus a constant offset.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tile8x8 MultiplySlice(ArrayView<F4> smem, int stage, int ty, int tx, Tile8x8 c)
    {
        // In F4 units: A rows start at stage/4 (17 per k), B rows at (stage + ASlice)/4 (32 per k).
        // Two k per iteration: enough to amortise the loop, while a full unroll lets ptxas hoist all 32
        // loads and doubles the register count.
        int a = (stage >> 2) + ty;
        int b = ((stage + ASlice) >> 2) + tx;
        for (int k = 0; k < BK; k += 2)
        {
            var av = smem.SubView(a, LdA / 4 + 9);   // up to av[17 + 8]
            var bv = smem.SubView(b, LdB / 4 + 17);  // up to bv[32 + 16]
            c = Step(c, av[0], av[8], bv[0], bv[16]);
            c = Step(c, av[17], av[17 + 8], bv[32], bv[32 + 16]);
            a += 2 * LdA / 4;
            b += 2 * LdB / 4;
        }
        return c;
    }

    /// <summary>One k of the outer product: rows a0 (tile rows ty*4..+3) and a1 (32+ty*4..+3), columns b0 and b1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Tile8x8 Step(Tile8x8 c, F4 a0, F4 a1, F4 b0, F4 b1)
    {
        c.R0 = Row8.Fma(c.R0, a0.X, b0, b1);
        c.R1 = Row8.Fma(c.R1, a0.Y, b0, b1);
        c.R2 = Row8.Fma(c.R2, a0.Z, b0, b1);
        c.R3 = Row8.Fma(c.R3, a0.W, b0, b1);
        c.R4 = Row8.Fma(c.R4, a1.X, b0, b1);
        c.R5 = Row8.Fma(c.R5, a1.Y, b0, b1);
        c.R6 = Row8.Fma(c.R6, a1.Z, b0, b1);
        c.R7 = Row8.Fma(c.R7, a1.W, b0, b1);
        return c;
    }
}

/// <summary>Four floats read from shared memory as one 16-byte load.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct F4
{
    public float X, Y, Z, W;
}

/// <summary>One row of a thread's register tile (columns tx*4+{0..3} and 64+tx*4+{0..3}).</summary>
internal struct Row8
{
    public float C0, C1, C2, C3, C4, C5, C6, C7;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Row8 Fma(Row8 c, float a, F4 b0, F4 b1)
    {
        c.C0 += a * b0.X; c.C1 += a * b0.Y; c.C2 += a * b0.Z; c.C3 += a * b0.W;
        c.C4 += a * b1.X; c.C5 += a * b1.Y; c.C6 += a * b1.Z; c.C7 += a * b1.W;
        return c;
    }
}

/// <summary>A thread's 8x8 accumulator tile, held in registers (64 scalars; never indexed dynamically).</summary>
internal struct Tile8x8
{
    public Row8 R0, R1, R2, R3, R4, R5, R6, R7;
}
