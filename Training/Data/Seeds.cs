namespace ILGpuSat.Training.Data;

/// <summary>Seeds for independent generators, derived by hashing (SplitMix64) so streams do not overlap.</summary>
internal static class Seeds
{
    public static int Derive(int seed, string what, long a = 0, long b = 0)
    {
        ulong h = Mix((ulong)(uint)seed);
        foreach (char c in what) h = Mix(h ^ c);
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ (ulong)b);
        return (int)(h >> 33);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
