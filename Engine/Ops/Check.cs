using ILGpuSat.Kernels;

namespace ILGpuSat.Engine;

/// <summary>Argument checks shared by the ops; every message names the op and the shapes.</summary>
internal static class Check
{
    public static string S(Tensor t) => Tensor.Format(t.ShapeSpan);

    public static void NotNull(string op, string name, Tensor? t)
    {
        if (t is null) throw new ArgumentNullException(name, $"{op}: {name} is null.");
    }

    public static void SameBackend(string op, Tensor a, Tensor? b, Tensor? c = null, Tensor? d = null, Tensor? e = null)
    {
        foreach (var t in new[] { b, c, d, e })
            if (t is not null && !ReferenceEquals(t.Backend, a.Backend))
                throw new ArgumentException($"{op}: tensors live on different backends ('{a.Backend.Name}' and '{t.Backend.Name}').");
    }

    public static void Rank(string op, string name, Tensor t, int rank)
    {
        if (t.Rank != rank)
            throw new ArgumentException($"{op}: {name} must be {rank}-D, got {S(t)}.");
    }

    public static void MinRank(string op, string name, Tensor t, int rank)
    {
        if (t.Rank < rank)
            throw new ArgumentException($"{op}: {name} must have at least {rank} dimensions, got {S(t)}.");
    }

    public static void SameShape(string op, string nameA, Tensor a, string nameB, Tensor b)
    {
        if (!a.ShapeSpan.SequenceEqual(b.ShapeSpan))
            throw new ArgumentException($"{op}: {nameA} {S(a)} and {nameB} {S(b)} must have the same shape.");
    }

    public static void Vector(string op, string name, Tensor? t, int length)
    {
        if (t is not null && (t.Rank != 1 || t.Length != length))
            throw new ArgumentException($"{op}: {name} must have shape [{length}], got {S(t)}.");
    }

    /// <summary>Normalises a possibly negative dimension index.</summary>
    public static int Dim(string op, Tensor t, int dim)
    {
        int d = dim < 0 ? dim + t.Rank : dim;
        if (d < 0 || d >= t.Rank)
            throw new ArgumentException($"{op}: dim {dim} is out of range for {S(t)}.");
        return d;
    }

    /// <summary>x seen as [outer, shape[dim], inner]: the channel geometry of an op along <paramref name="dim"/>.</summary>
    public static ChannelGeometry AlongDim(Tensor x, int dim)
    {
        var s = x.ShapeSpan;
        long outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= s[i];
        for (int i = dim + 1; i < s.Length; i++) inner *= s[i];
        return new ChannelGeometry((int)outer, s[dim], (int)inner);
    }
}
