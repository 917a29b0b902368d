using MathNet.Numerics.LinearAlgebra;

namespace ILGpuSat.Training.Color;

/// <summary>
/// The principal components of ab fields (each a field's a and b planes flattened to one vector of D values), for
/// divcolor's Mahalanobis specificity loss (Deshpande et al. 2017): the loss measures an ab error in this basis,
/// each component divided by its standard deviation, so errors along rare directions of colour variation count more.
/// Fitted on the host with MathNet.Numerics: with M fields of D values and M &lt; D (a few thousand 64 x 64 fields
/// against D = 8192), the symmetric M x M Gram matrix of the centred fields is decomposed instead of the D x D
/// covariance. Its eigenvectors u give the components v = X^T u / sqrt(lambda) and the variances lambda / (M - 1),
/// exactly the SVD's.
/// </summary>
public sealed class AbPrincipalComponents
{
    private AbPrincipalComponents(float[] mean, float[][] components, double[] variances)
    {
        Mean = mean;
        Components = components;
        Variances = variances;
    }

    /// <summary>The mean field (D values).</summary>
    public float[] Mean { get; }

    /// <summary>K orthonormal components of D values, by decreasing variance.</summary>
    public float[][] Components { get; }

    /// <summary>The variance along each component (sample variance, M - 1).</summary>
    public double[] Variances { get; }

    public int Dimension => Mean.Length;

    /// <summary>The top <paramref name="count"/> components of <paramref name="fields"/> (each D values).</summary>
    public static AbPrincipalComponents Fit(IReadOnlyList<float[]> fields, int count)
    {
        ArgumentNullException.ThrowIfNull(fields);
        int m = fields.Count;
        if (m < 2) throw new ArgumentException($"ab PCA: at least 2 fields are needed, got {m}.");
        int d = fields[0].Length;
        if (fields.Any(f => f.Length != d)) throw new ArgumentException("ab PCA: the fields differ in length.");
        if (count < 1 || count > Math.Min(m - 1, d))
            throw new ArgumentException($"ab PCA: {count} components asked of {m} fields of {d} values (at most {Math.Min(m - 1, d)}).");
        var mean = new double[d];
        foreach (var f in fields)
            for (int j = 0; j < d; j++) mean[j] += f[j];
        for (int j = 0; j < d; j++) mean[j] /= m;
        var x = Matrix<double>.Build.Dense(m, d, (i, j) => fields[i][j] - mean[j]);
        var gram = x * x.Transpose();
        var evd = gram.Evd(Symmetricity.Symmetric);
        // MathNet returns the eigenvalues in ascending order; the components are taken from the largest down.
        var order = Enumerable.Range(0, m).OrderByDescending(i => evd.EigenValues[i].Real).Take(count).ToArray();
        var components = new float[count][];
        var variances = new double[count];
        for (int k = 0; k < count; k++)
        {
            double lambda = evd.EigenValues[order[k]].Real;
            if (!(lambda > 1e-12)) throw new ArgumentException($"ab PCA: component {k + 1} has no variance (the fields span fewer than {count} directions).");
            var v = x.TransposeThisAndMultiply(evd.EigenVectors.Column(order[k])) / Math.Sqrt(lambda);
            // A sign convention, so a fit is reproducible: each component's largest entry is positive.
            int big = v.AbsoluteMaximumIndex();
            if (v[big] < 0) v = -v;
            components[k] = v.Select(e => (float)e).ToArray();
            variances[k] = lambda / (m - 1);
        }
        return new AbPrincipalComponents(mean.Select(v => (float)v).ToArray(), components, variances);
    }

    /// <summary>
    /// The weights [K, D] that map an ab error e to its whitened coordinates (e . v_k) / sigma_k, row-major: the
    /// Mahalanobis loss is the sum of squares of F.Linear(e, weights).
    /// </summary>
    public float[] WhiteningWeights()
    {
        int d = Dimension, k = Components.Length;
        var w = new float[k * d];
        for (int i = 0; i < k; i++)
        {
            float inv = (float)(1.0 / Math.Sqrt(Variances[i]));
            for (int j = 0; j < d; j++) w[i * d + j] = Components[i][j] * inv;
        }
        return w;
    }
}
