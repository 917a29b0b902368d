using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

/// <summary>
/// A group of neighbouring pixels held in registers, so that the per-pixel channel loops
/// (softmax, cross-entropy) are written once and run either 16 pixels (<see cref="Px16"/>) or 64
/// pixels (<see cref="Px64"/>) wide. The wide form reads 256 contiguous bytes of each channel row
/// per visit instead of 64, which matters when the channel stride is a multiple of 4 KB (planes of
/// 32x32, 64x64, 96x96...): every row visit then lands on a new page and the same cache sets.
/// </summary>
internal interface IPixelVector<T> where T : struct, IPixelVector<T>
{
    static abstract int Pixels { get; }
    static abstract T Zero { get; }
    static abstract T Load(ref float p);
    static abstract void Store(T v, ref float p);
    static abstract T Splat(float value);
    static abstract T Add(T a, T b);
    static abstract T Sub(T a, T b);
    static abstract T Mul(T a, T b);
    static abstract T Div(T a, T b);
    /// <summary>a * b + c.</summary>
    static abstract T Fma(T a, T b, T c);
    static abstract T Max(T a, T b);
    static abstract T Exp(T a);
    static abstract T Log(T a);
    /// <summary>Sum of every lane, in double.</summary>
    static abstract double Sum(T a);
}

internal struct Px16 : IPixelVector<Px16>
{
    public Vector512<float> V;

    public static int Pixels => 16;
    public static Px16 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Load(ref float p) => new() { V = Vector512.LoadUnsafe(ref p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Px16 v, ref float p) => v.V.StoreUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Splat(float value) => new() { V = Vector512.Create(value) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Add(Px16 a, Px16 b) => new() { V = a.V + b.V };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Sub(Px16 a, Px16 b) => new() { V = a.V - b.V };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Mul(Px16 a, Px16 b) => new() { V = a.V * b.V };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Div(Px16 a, Px16 b) => new() { V = a.V / b.V };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Fma(Px16 a, Px16 b, Px16 c) => new() { V = Vector512.FusedMultiplyAdd(a.V, b.V, c.V) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Max(Px16 a, Px16 b) => new() { V = Vector512.Max(a.V, b.V) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16 Exp(Px16 a) => new() { V = SimdMath.Exp(a.V) };
    public static Px16 Log(Px16 a) => new() { V = SimdMath.Log(a.V) };
    public static double Sum(Px16 a) => Vector512.Sum(Vector512.WidenLower(a.V) + Vector512.WidenUpper(a.V));
}

internal struct Px64 : IPixelVector<Px64>
{
    public Vector512<float> A, B, C, D;

    public static int Pixels => 64;
    public static Px64 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px64 Load(ref float p) => new()
    {
        A = Vector512.LoadUnsafe(ref p), B = Vector512.LoadUnsafe(ref p, 16),
        C = Vector512.LoadUnsafe(ref p, 32), D = Vector512.LoadUnsafe(ref p, 48),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Px64 v, ref float p)
    {
        v.A.StoreUnsafe(ref p);
        v.B.StoreUnsafe(ref p, 16);
        v.C.StoreUnsafe(ref p, 32);
        v.D.StoreUnsafe(ref p, 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px64 Splat(float value)
    {
        var v = Vector512.Create(value);
        return new() { A = v, B = v, C = v, D = v };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px64 Add(Px64 a, Px64 b) => new() { A = a.A + b.A, B = a.B + b.B, C = a.C + b.C, D = a.D + b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px64 Sub(Px64 a, Px64 b) => new() { A = a.A - b.A, B = a.B - b.B, C = a.C - b.C, D = a.D - b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px64 Mul(Px64 a, Px64 b) => new() { A = a.A * b.A, B = a.B * b.B, C = a.C * b.C, D = a.D * b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px64 Div(Px64 a, Px64 b) => new() { A = a.A / b.A, B = a.B / b.B, C = a.C / b.C, D = a.D / b.D };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px64 Fma(Px64 a, Px64 b, Px64 c) => new()
    {
        A = Vector512.FusedMultiplyAdd(a.A, b.A, c.A), B = Vector512.FusedMultiplyAdd(a.B, b.B, c.B),
        C = Vector512.FusedMultiplyAdd(a.C, b.C, c.C), D = Vector512.FusedMultiplyAdd(a.D, b.D, c.D),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px64 Max(Px64 a, Px64 b) => new()
    {
        A = Vector512.Max(a.A, b.A), B = Vector512.Max(a.B, b.B), C = Vector512.Max(a.C, b.C), D = Vector512.Max(a.D, b.D),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px64 Exp(Px64 a) => new() { A = SimdMath.Exp(a.A), B = SimdMath.Exp(a.B), C = SimdMath.Exp(a.C), D = SimdMath.Exp(a.D) };

    public static Px64 Log(Px64 a) => new() { A = SimdMath.Log(a.A), B = SimdMath.Log(a.B), C = SimdMath.Log(a.C), D = SimdMath.Log(a.D) };

    public static double Sum(Px64 a) => Px16.Sum(new() { V = a.A }) + Px16.Sum(new() { V = a.B }) + Px16.Sum(new() { V = a.C }) + Px16.Sum(new() { V = a.D });
}

/// <summary>
/// 16 pixels as two 256-bit halves: <see cref="Px16"/> for AVX2 machines, where Vector512 is
/// emulated in software (several times slower than two real 256-bit operations).
/// </summary>
internal struct Px16Avx2 : IPixelVector<Px16Avx2>
{
    public Vector256<float> L, H;

    public static int Pixels => 16;
    public static Px16Avx2 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Load(ref float p) => new() { L = Vector256.LoadUnsafe(ref p), H = Vector256.LoadUnsafe(ref p, 8) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Px16Avx2 v, ref float p) { v.L.StoreUnsafe(ref p); v.H.StoreUnsafe(ref p, 8); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Splat(float value) { var v = Vector256.Create(value); return new() { L = v, H = v }; }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Add(Px16Avx2 a, Px16Avx2 b) => new() { L = a.L + b.L, H = a.H + b.H };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Sub(Px16Avx2 a, Px16Avx2 b) => new() { L = a.L - b.L, H = a.H - b.H };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Mul(Px16Avx2 a, Px16Avx2 b) => new() { L = a.L * b.L, H = a.H * b.H };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Div(Px16Avx2 a, Px16Avx2 b) => new() { L = a.L / b.L, H = a.H / b.H };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Fma(Px16Avx2 a, Px16Avx2 b, Px16Avx2 c) => new() { L = Vector256.FusedMultiplyAdd(a.L, b.L, c.L), H = Vector256.FusedMultiplyAdd(a.H, b.H, c.H) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Max(Px16Avx2 a, Px16Avx2 b) => new() { L = Vector256.Max(a.L, b.L), H = Vector256.Max(a.H, b.H) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px16Avx2 Exp(Px16Avx2 a) => new() { L = SimdMath.Exp(a.L), H = SimdMath.Exp(a.H) };
    public static Px16Avx2 Log(Px16Avx2 a) => new() { L = SimdMath.Log(a.L), H = SimdMath.Log(a.H) };
    public static double Sum(Px16Avx2 a) => Sum8(a.L) + Sum8(a.H);

    /// <summary>The 8 lanes widened to double and summed (the same rounding-free widening as <see cref="Px16.Sum"/>).</summary>
    public static double Sum8(Vector256<float> v) => Vector256.Sum(Vector256.WidenLower(v) + Vector256.WidenUpper(v));
}

/// <summary>
/// 32 pixels as four 256-bit vectors: the AVX2 counterpart of <see cref="Px64"/>, half as wide
/// because AVX2 has 16 registers, not 32 (a 64-pixel group of 8 vectors per value would spill
/// the softmax and cross-entropy accumulators). A 64-pixel group runs as two of these; each
/// still reads 128 contiguous bytes of a channel row per visit.
/// </summary>
internal struct Px32Avx2 : IPixelVector<Px32Avx2>
{
    public Vector256<float> A, B, C, D;

    public static int Pixels => 32;
    public static Px32Avx2 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px32Avx2 Load(ref float p) => new()
    {
        A = Vector256.LoadUnsafe(ref p), B = Vector256.LoadUnsafe(ref p, 8),
        C = Vector256.LoadUnsafe(ref p, 16), D = Vector256.LoadUnsafe(ref p, 24),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Px32Avx2 v, ref float p)
    {
        v.A.StoreUnsafe(ref p);
        v.B.StoreUnsafe(ref p, 8);
        v.C.StoreUnsafe(ref p, 16);
        v.D.StoreUnsafe(ref p, 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px32Avx2 Splat(float value)
    {
        var v = Vector256.Create(value);
        return new() { A = v, B = v, C = v, D = v };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px32Avx2 Add(Px32Avx2 a, Px32Avx2 b) => new() { A = a.A + b.A, B = a.B + b.B, C = a.C + b.C, D = a.D + b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px32Avx2 Sub(Px32Avx2 a, Px32Avx2 b) => new() { A = a.A - b.A, B = a.B - b.B, C = a.C - b.C, D = a.D - b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px32Avx2 Mul(Px32Avx2 a, Px32Avx2 b) => new() { A = a.A * b.A, B = a.B * b.B, C = a.C * b.C, D = a.D * b.D };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Px32Avx2 Div(Px32Avx2 a, Px32Avx2 b) => new() { A = a.A / b.A, B = a.B / b.B, C = a.C / b.C, D = a.D / b.D };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px32Avx2 Fma(Px32Avx2 a, Px32Avx2 b, Px32Avx2 c) => new()
    {
        A = Vector256.FusedMultiplyAdd(a.A, b.A, c.A), B = Vector256.FusedMultiplyAdd(a.B, b.B, c.B),
        C = Vector256.FusedMultiplyAdd(a.C, b.C, c.C), D = Vector256.FusedMultiplyAdd(a.D, b.D, c.D),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px32Avx2 Max(Px32Avx2 a, Px32Avx2 b) => new()
    {
        A = Vector256.Max(a.A, b.A), B = Vector256.Max(a.B, b.B), C = Vector256.Max(a.C, b.C), D = Vector256.Max(a.D, b.D),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Px32Avx2 Exp(Px32Avx2 a) => new() { A = SimdMath.Exp(a.A), B = SimdMath.Exp(a.B), C = SimdMath.Exp(a.C), D = SimdMath.Exp(a.D) };

    public static Px32Avx2 Log(Px32Avx2 a) => new() { A = SimdMath.Log(a.A), B = SimdMath.Log(a.B), C = SimdMath.Log(a.C), D = SimdMath.Log(a.D) };

    public static double Sum(Px32Avx2 a) => Px16Avx2.Sum8(a.A) + Px16Avx2.Sum8(a.B) + Px16Avx2.Sum8(a.C) + Px16Avx2.Sum8(a.D);
}
