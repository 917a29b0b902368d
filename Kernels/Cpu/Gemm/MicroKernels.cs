using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu.Gemm;

/// <summary>Which register-blocked micro-kernel the SGEMM uses.</summary>
public enum SgemmKernel
{
    /// <summary>The widest one the hardware accelerates.</summary>
    Auto,
    /// <summary>8x48 tile, 24 Vector512 accumulators (needs AVX-512).</summary>
    Avx512,
    /// <summary>4x(3 Vector&lt;float&gt;) tile, 12 accumulators: fits 16 vector registers and works on any SIMD width.</summary>
    Portable,
    /// <summary>6x16 tile, 12 Vector256 accumulators (needs AVX2 + FMA; the default where AVX-512 is missing).</summary>
    Avx2,
}

/// <summary>
/// A micro-kernel and its tile: MR rows of C (one broadcast each per k) by NR columns (NR/width
/// vectors per k). Packed A holds MR floats per k, packed B NR floats per k (see <see cref="Packing"/>).
/// </summary>
internal readonly unsafe struct MicroKernel
{
    public readonly int MR, NR;
    private readonly SgemmKernel _kind;

    private MicroKernel(SgemmKernel kind)
    {
        _kind = kind;
        (MR, NR) = kind switch
        {
            SgemmKernel.Avx512 => (8, 48),
            SgemmKernel.Avx2 => (6, 16),
            _ => (4, 3 * Vector<float>.Count),
        };
    }

    /// <summary>The kernel that <see cref="Sgemm.DefaultKernel"/> selects (the convolutions use it too).</summary>
    public static MicroKernel Best => Resolve(Sgemm.DefaultKernel);

    public static MicroKernel Resolve(SgemmKernel kind) => kind switch
    {
        SgemmKernel.Auto => Vector512.IsHardwareAccelerated ? Avx512 : HasAvx2Fma ? Avx2 : Portable,
        SgemmKernel.Avx512 => Vector512.IsHardwareAccelerated
            ? Avx512
            : throw new PlatformNotSupportedException("sgemm: the AVX-512 micro-kernel needs Vector512 hardware acceleration."),
        SgemmKernel.Avx2 => HasAvx2Fma
            ? Avx2
            : throw new PlatformNotSupportedException("sgemm: the AVX2 micro-kernel needs AVX2 and FMA."),
        _ => Portable,
    };

    private static bool HasAvx2Fma => System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    private static readonly MicroKernel Avx512 = new(SgemmKernel.Avx512), Avx2 = new(SgemmKernel.Avx2), Portable = new(SgemmKernel.Portable);

    /// <summary>Which kernel this is (the convolutions pick their matching dot-product tiles by it).</summary>
    public SgemmKernel Kind => _kind;

    public bool IsAvx512 => _kind == SgemmKernel.Avx512;

    public string Name => _kind switch
    {
        SgemmKernel.Avx512 => "avx512 8x48",
        SgemmKernel.Avx2 => "avx2 6x16",
        _ => $"portable 4x{NR}",
    };

    /// <summary>
    /// C[MR x NR] at <paramref name="c"/> (row stride ldc) = (loadC ? C : rowBias ?? 0) + A_panel * B_panel over kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Run(int kc, float* a, float* b, float* c, nint ldc, bool loadC, float* rowBias)
    {
        if (_kind == SgemmKernel.Avx512) MicroKernels.Kernel8x48(kc, a, b, c, ldc, loadC, rowBias);
        else if (_kind == SgemmKernel.Avx2) MicroKernels.Kernel6x16(kc, a, b, c, ldc, loadC, rowBias);
        else MicroKernels.Kernel4x3V(kc, a, b, c, ldc, loadC, rowBias);
    }

    /// <summary>
    /// C[MR x NR] = (loadC ? C : 0) + A_panel * B, where row k of B is the NR floats at
    /// b + offsets[k] (read in place, no packing: the direct convolution's shifted input rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RunIndirect(int kc, float* a, int* offsets, float* b, float* c, nint ldc, bool loadC)
    {
        if (_kind == SgemmKernel.Avx512) MicroKernels.Kernel8x48Indirect(kc, a, offsets, b, c, ldc, loadC);
        else if (_kind == SgemmKernel.Avx2) MicroKernels.Kernel6x16Indirect(kc, a, offsets, b, c, ldc, loadC);
        else MicroKernels.Kernel4x3VIndirect(kc, a, offsets, b, c, ldc, loadC);
    }
}

/// <summary>
/// The register-blocked inner loops (generated shape, written out so the JIT keeps every
/// accumulator in a register). Broadcasts of A come straight from memory (embedded broadcast).
/// The AVX2 tile is 6x16, not 4x24: both use 12 of the 16 ymm registers for accumulators, but
/// 6x16 reads 64 bytes of B per 12 FMAs instead of 96, which matters for the direct convolution
/// whose B rows come from L2 (Zen 4 with AVX-512 off, same load: the 3x3 forward ran at ~80 GFLOP/s
/// with the 4x24 kernel, ~160 with 6x16).
/// </summary>
internal static unsafe class MicroKernels
{
    /// <summary>C[8x48] (+)= packed A panel (8 per k) x packed B panel (48 per k), 24 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x48(int kc, float* a, float* b, float* c, nint ldc, bool loadC, float* rowBias)
    {
        Vector512<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
        if (loadC)
        {
            c00 = Vector512.Load(c);
            c01 = Vector512.Load(c + 16);
            c02 = Vector512.Load(c + 32);
            c10 = Vector512.Load(c + 1 * ldc);
            c11 = Vector512.Load(c + 1 * ldc + 16);
            c12 = Vector512.Load(c + 1 * ldc + 32);
            c20 = Vector512.Load(c + 2 * ldc);
            c21 = Vector512.Load(c + 2 * ldc + 16);
            c22 = Vector512.Load(c + 2 * ldc + 32);
            c30 = Vector512.Load(c + 3 * ldc);
            c31 = Vector512.Load(c + 3 * ldc + 16);
            c32 = Vector512.Load(c + 3 * ldc + 32);
            c40 = Vector512.Load(c + 4 * ldc);
            c41 = Vector512.Load(c + 4 * ldc + 16);
            c42 = Vector512.Load(c + 4 * ldc + 32);
            c50 = Vector512.Load(c + 5 * ldc);
            c51 = Vector512.Load(c + 5 * ldc + 16);
            c52 = Vector512.Load(c + 5 * ldc + 32);
            c60 = Vector512.Load(c + 6 * ldc);
            c61 = Vector512.Load(c + 6 * ldc + 16);
            c62 = Vector512.Load(c + 6 * ldc + 32);
            c70 = Vector512.Load(c + 7 * ldc);
            c71 = Vector512.Load(c + 7 * ldc + 16);
            c72 = Vector512.Load(c + 7 * ldc + 32);
        }
        else if (rowBias != null)
        {
            c00 = Vector512.Create(rowBias[0]); c01 = c00; c02 = c00;
            c10 = Vector512.Create(rowBias[1]); c11 = c10; c12 = c10;
            c20 = Vector512.Create(rowBias[2]); c21 = c20; c22 = c20;
            c30 = Vector512.Create(rowBias[3]); c31 = c30; c32 = c30;
            c40 = Vector512.Create(rowBias[4]); c41 = c40; c42 = c40;
            c50 = Vector512.Create(rowBias[5]); c51 = c50; c52 = c50;
            c60 = Vector512.Create(rowBias[6]); c61 = c60; c62 = c60;
            c70 = Vector512.Create(rowBias[7]); c71 = c70; c72 = c70;
        }
        else
        {
            c00 = Vector512<float>.Zero; 
            c01 = c00; c02 = c00;
            c10 = c00; c11 = c00; c12 = c00;
            c20 = c00; c21 = c00; c22 = c00;
            c30 = c00; c31 = c00; c32 = c00;
            c40 = c00; c41 = c00; c42 = c00;
            c50 = c00; c51 = c00; c52 = c00;
            c60 = c00; c61 = c00; c62 = c00;
            c70 = c00; c71 = c00; c72 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> b2 = Vector512.Load(b + 32);
            Vector512<float> a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02);
            Vector512<float> a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12);
            Vector512<float> a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(a2, b2, c22);
            Vector512<float> a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(a3, b2, c32);
            Vector512<float> a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            c42 = Vector512.FusedMultiplyAdd(a4, b2, c42);
            Vector512<float> a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            c52 = Vector512.FusedMultiplyAdd(a5, b2, c52);
            Vector512<float> a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            c62 = Vector512.FusedMultiplyAdd(a6, b2, c62);
            Vector512<float> a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            c72 = Vector512.FusedMultiplyAdd(a7, b2, c72);
            a += 8;
            b += 48;
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32);
        Vector512.Store(c10, c + 1 * ldc); Vector512.Store(c11, c + 1 * ldc + 16); Vector512.Store(c12, c + 1 * ldc + 32);
        Vector512.Store(c20, c + 2 * ldc); Vector512.Store(c21, c + 2 * ldc + 16); Vector512.Store(c22, c + 2 * ldc + 32);
        Vector512.Store(c30, c + 3 * ldc); Vector512.Store(c31, c + 3 * ldc + 16); Vector512.Store(c32, c + 3 * ldc + 32);
        Vector512.Store(c40, c + 4 * ldc); Vector512.Store(c41, c + 4 * ldc + 16); Vector512.Store(c42, c + 4 * ldc + 32);
        Vector512.Store(c50, c + 5 * ldc); Vector512.Store(c51, c + 5 * ldc + 16); Vector512.Store(c52, c + 5 * ldc + 32);
        Vector512.Store(c60, c + 6 * ldc); Vector512.Store(c61, c + 6 * ldc + 16); Vector512.Store(c62, c + 6 * ldc + 32);
        Vector512.Store(c70, c + 7 * ldc); Vector512.Store(c71, c + 7 * ldc + 16); Vector512.Store(c72, c + 7 * ldc + 32);
    }

    /// <summary>C[4x3V] (+)= packed A panel (4 per k) x packed B panel (3V per k), 12 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel4x3V(int kc, float* a, float* b, float* c, nint ldc, bool loadC, float* rowBias)
    {
        int W = Vector<float>.Count;
        Vector<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        if (loadC)
        {
            c00 = Vector.Load(c);
            c01 = Vector.Load(c + W);
            c02 = Vector.Load(c + 2 * W);
            c10 = Vector.Load(c + 1 * ldc);
            c11 = Vector.Load(c + 1 * ldc + W);
            c12 = Vector.Load(c + 1 * ldc + 2 * W);
            c20 = Vector.Load(c + 2 * ldc);
            c21 = Vector.Load(c + 2 * ldc + W);
            c22 = Vector.Load(c + 2 * ldc + 2 * W);
            c30 = Vector.Load(c + 3 * ldc);
            c31 = Vector.Load(c + 3 * ldc + W);
            c32 = Vector.Load(c + 3 * ldc + 2 * W);
        }
        else if (rowBias != null)
        {
            c00 = new Vector<float>(rowBias[0]); c01 = c00; c02 = c00;
            c10 = new Vector<float>(rowBias[1]); c11 = c10; c12 = c10;
            c20 = new Vector<float>(rowBias[2]); c21 = c20; c22 = c20;
            c30 = new Vector<float>(rowBias[3]); c31 = c30; c32 = c30;
        }
        else
        {
            c00 = Vector<float>.Zero;
            c01 = c00; c02 = c00;
            c10 = c00; c11 = c00; c12 = c00;
            c20 = c00; c21 = c00; c22 = c00;
            c30 = c00; c31 = c00; c32 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            Vector<float> b0 = Vector.Load(b);
            Vector<float> b1 = Vector.Load(b + W);
            Vector<float> b2 = Vector.Load(b + 2 * W);
            Vector<float> a0 = new Vector<float>(a[0]);
            c00 = Vector.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector.FusedMultiplyAdd(a0, b2, c02);
            Vector<float> a1 = new Vector<float>(a[1]);
            c10 = Vector.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector.FusedMultiplyAdd(a1, b2, c12);
            Vector<float> a2 = new Vector<float>(a[2]);
            c20 = Vector.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector.FusedMultiplyAdd(a2, b2, c22);
            Vector<float> a3 = new Vector<float>(a[3]);
            c30 = Vector.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector.FusedMultiplyAdd(a3, b2, c32);
            a += 4;
            b += 3 * W;
        }
        Vector.Store(c00, c); Vector.Store(c01, c + W); Vector.Store(c02, c + 2 * W);
        Vector.Store(c10, c + 1 * ldc); Vector.Store(c11, c + 1 * ldc + W); Vector.Store(c12, c + 1 * ldc + 2 * W);
        Vector.Store(c20, c + 2 * ldc); Vector.Store(c21, c + 2 * ldc + W); Vector.Store(c22, c + 2 * ldc + 2 * W);
        Vector.Store(c30, c + 3 * ldc); Vector.Store(c31, c + 3 * ldc + W); Vector.Store(c32, c + 3 * ldc + 2 * W);
    }

    /// <summary>C[8x48] (+)= packed A panel (8 per k) x 48 floats per k read in place at b + offsets[k], 24 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x48Indirect(int kc, float* a, int* offsets, float* b, float* c, nint ldc, bool loadC)
    {
        Vector512<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
        if (loadC)
        {
            c00 = Vector512.Load(c);
            c01 = Vector512.Load(c + 16);
            c02 = Vector512.Load(c + 32);
            c10 = Vector512.Load(c + 1 * ldc);
            c11 = Vector512.Load(c + 1 * ldc + 16);
            c12 = Vector512.Load(c + 1 * ldc + 32);
            c20 = Vector512.Load(c + 2 * ldc);
            c21 = Vector512.Load(c + 2 * ldc + 16);
            c22 = Vector512.Load(c + 2 * ldc + 32);
            c30 = Vector512.Load(c + 3 * ldc);
            c31 = Vector512.Load(c + 3 * ldc + 16);
            c32 = Vector512.Load(c + 3 * ldc + 32);
            c40 = Vector512.Load(c + 4 * ldc);
            c41 = Vector512.Load(c + 4 * ldc + 16);
            c42 = Vector512.Load(c + 4 * ldc + 32);
            c50 = Vector512.Load(c + 5 * ldc);
            c51 = Vector512.Load(c + 5 * ldc + 16);
            c52 = Vector512.Load(c + 5 * ldc + 32);
            c60 = Vector512.Load(c + 6 * ldc);
            c61 = Vector512.Load(c + 6 * ldc + 16);
            c62 = Vector512.Load(c + 6 * ldc + 32);
            c70 = Vector512.Load(c + 7 * ldc);
            c71 = Vector512.Load(c + 7 * ldc + 16);
            c72 = Vector512.Load(c + 7 * ldc + 32);
        }
        else
        {
            c00 = Vector512<float>.Zero; 
            c01 = c00; c02 = c00;
            c10 = c00; c11 = c00; c12 = c00;
            c20 = c00; c21 = c00; c22 = c00;
            c30 = c00; c31 = c00; c32 = c00;
            c40 = c00; c41 = c00; c42 = c00;
            c50 = c00; c51 = c00; c52 = c00;
            c60 = c00; c61 = c00; c62 = c00;
            c70 = c00; c71 = c00; c72 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            float* bk = b + offsets[k];
            Vector512<float> b0 = Vector512.Load(bk);
            Vector512<float> b1 = Vector512.Load(bk + 16);
            Vector512<float> b2 = Vector512.Load(bk + 32);
            Vector512<float> a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02);
            Vector512<float> a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12);
            Vector512<float> a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(a2, b2, c22);
            Vector512<float> a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(a3, b2, c32);
            Vector512<float> a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            c42 = Vector512.FusedMultiplyAdd(a4, b2, c42);
            Vector512<float> a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            c52 = Vector512.FusedMultiplyAdd(a5, b2, c52);
            Vector512<float> a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            c62 = Vector512.FusedMultiplyAdd(a6, b2, c62);
            Vector512<float> a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            c72 = Vector512.FusedMultiplyAdd(a7, b2, c72);
            a += 8;
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32);
        Vector512.Store(c10, c + 1 * ldc); Vector512.Store(c11, c + 1 * ldc + 16); Vector512.Store(c12, c + 1 * ldc + 32);
        Vector512.Store(c20, c + 2 * ldc); Vector512.Store(c21, c + 2 * ldc + 16); Vector512.Store(c22, c + 2 * ldc + 32);
        Vector512.Store(c30, c + 3 * ldc); Vector512.Store(c31, c + 3 * ldc + 16); Vector512.Store(c32, c + 3 * ldc + 32);
        Vector512.Store(c40, c + 4 * ldc); Vector512.Store(c41, c + 4 * ldc + 16); Vector512.Store(c42, c + 4 * ldc + 32);
        Vector512.Store(c50, c + 5 * ldc); Vector512.Store(c51, c + 5 * ldc + 16); Vector512.Store(c52, c + 5 * ldc + 32);
        Vector512.Store(c60, c + 6 * ldc); Vector512.Store(c61, c + 6 * ldc + 16); Vector512.Store(c62, c + 6 * ldc + 32);
        Vector512.Store(c70, c + 7 * ldc); Vector512.Store(c71, c + 7 * ldc + 16); Vector512.Store(c72, c + 7 * ldc + 32);
    }

    /// <summary>C[4x3V] (+)= packed A panel (4 per k) x 3V floats per k read in place at b + offsets[k], 12 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel4x3VIndirect(int kc, float* a, int* offsets, float* b, float* c, nint ldc, bool loadC)
    {
        int W = Vector<float>.Count;
        Vector<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        if (loadC)
        {
            c00 = Vector.Load(c);
            c01 = Vector.Load(c + W);
            c02 = Vector.Load(c + 2 * W);
            c10 = Vector.Load(c + 1 * ldc);
            c11 = Vector.Load(c + 1 * ldc + W);
            c12 = Vector.Load(c + 1 * ldc + 2 * W);
            c20 = Vector.Load(c + 2 * ldc);
            c21 = Vector.Load(c + 2 * ldc + W);
            c22 = Vector.Load(c + 2 * ldc + 2 * W);
            c30 = Vector.Load(c + 3 * ldc);
            c31 = Vector.Load(c + 3 * ldc + W);
            c32 = Vector.Load(c + 3 * ldc + 2 * W);
        }
        else
        {
            c00 = Vector<float>.Zero;
            c01 = c00; c02 = c00;
            c10 = c00; c11 = c00; c12 = c00;
            c20 = c00; c21 = c00; c22 = c00;
            c30 = c00; c31 = c00; c32 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            float* bk = b + offsets[k];
            Vector<float> b0 = Vector.Load(bk);
            Vector<float> b1 = Vector.Load(bk + W);
            Vector<float> b2 = Vector.Load(bk + 2 * W);
            Vector<float> a0 = new Vector<float>(a[0]);
            c00 = Vector.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector.FusedMultiplyAdd(a0, b2, c02);
            Vector<float> a1 = new Vector<float>(a[1]);
            c10 = Vector.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector.FusedMultiplyAdd(a1, b2, c12);
            Vector<float> a2 = new Vector<float>(a[2]);
            c20 = Vector.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector.FusedMultiplyAdd(a2, b2, c22);
            Vector<float> a3 = new Vector<float>(a[3]);
            c30 = Vector.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector.FusedMultiplyAdd(a3, b2, c32);
            a += 4;
        }
        Vector.Store(c00, c); Vector.Store(c01, c + W); Vector.Store(c02, c + 2 * W);
        Vector.Store(c10, c + 1 * ldc); Vector.Store(c11, c + 1 * ldc + W); Vector.Store(c12, c + 1 * ldc + 2 * W);
        Vector.Store(c20, c + 2 * ldc); Vector.Store(c21, c + 2 * ldc + W); Vector.Store(c22, c + 2 * ldc + 2 * W);
        Vector.Store(c30, c + 3 * ldc); Vector.Store(c31, c + 3 * ldc + W); Vector.Store(c32, c + 3 * ldc + 2 * W);
    }

    /// <summary>C[6x16] (+)= packed A panel (6 per k) x packed B panel (16 per k), 12 ymm accumulators (AVX2 + FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel6x16(int kc, float* a, float* b, float* c, nint ldc, bool loadC, float* rowBias)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (loadC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + 1 * ldc); c11 = Vector256.Load(c + 1 * ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else if (rowBias != null)
        {
            c00 = Vector256.Create(rowBias[0]); c01 = c00;
            c10 = Vector256.Create(rowBias[1]); c11 = c10;
            c20 = Vector256.Create(rowBias[2]); c21 = c20;
            c30 = Vector256.Create(rowBias[3]); c31 = c30;
            c40 = Vector256.Create(rowBias[4]); c41 = c40;
            c50 = Vector256.Create(rowBias[5]); c51 = c50;
        }
        else
        {
            c00 = Vector256<float>.Zero;
            c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00; c30 = c00; c31 = c00; c40 = c00; c41 = c00; c50 = c00; c51 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8);
        Vector256.Store(c10, c + 1 * ldc); Vector256.Store(c11, c + 1 * ldc + 8);
        Vector256.Store(c20, c + 2 * ldc); Vector256.Store(c21, c + 2 * ldc + 8);
        Vector256.Store(c30, c + 3 * ldc); Vector256.Store(c31, c + 3 * ldc + 8);
        Vector256.Store(c40, c + 4 * ldc); Vector256.Store(c41, c + 4 * ldc + 8);
        Vector256.Store(c50, c + 5 * ldc); Vector256.Store(c51, c + 5 * ldc + 8);
    }

    /// <summary>C[6x16] (+)= packed A panel (6 per k) x 16 floats per k read in place at b + offsets[k], 12 ymm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel6x16Indirect(int kc, float* a, int* offsets, float* b, float* c, nint ldc, bool loadC)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (loadC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + 1 * ldc); c11 = Vector256.Load(c + 1 * ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c00 = Vector256<float>.Zero;
            c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00; c30 = c00; c31 = c00; c40 = c00; c41 = c00; c50 = c00; c51 = c00;
        }
        for (int k = 0; k < kc; k++)
        {
            float* bk = b + offsets[k];
            Vector256<float> b0 = Vector256.Load(bk);
            Vector256<float> b1 = Vector256.Load(bk + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8);
        Vector256.Store(c10, c + 1 * ldc); Vector256.Store(c11, c + 1 * ldc + 8);
        Vector256.Store(c20, c + 2 * ldc); Vector256.Store(c21, c + 2 * ldc + 8);
        Vector256.Store(c30, c + 3 * ldc); Vector256.Store(c31, c + 3 * ldc + 8);
        Vector256.Store(c40, c + 4 * ldc); Vector256.Store(c41, c + 4 * ldc + 8);
        Vector256.Store(c50, c + 5 * ldc); Vector256.Store(c51, c + 5 * ldc + 8);
    }
}
