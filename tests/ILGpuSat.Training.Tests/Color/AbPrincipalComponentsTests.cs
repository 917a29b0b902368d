using System.Text.Json;
using ILGpuSat.Tests.Common;
using ILGpuSat.Training.Color;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Color;

/// <summary>The ab-field PCA against numpy's SVD (tests/golden/color/make_ab_pca_golden.py).</summary>
public class AbPrincipalComponentsTests
{
    [Test]
    public void TheGramMatrixPcaMatchesNumpysSvd()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "tests", "golden", "color", "ab_pca.json")));
        double[][] Rows(string key) => doc.RootElement.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var fields = Rows("fields").Select(r => r.Select(v => (float)v).ToArray()).ToList();
        var expectedComponents = Rows("components");
        var expectedVariances = doc.RootElement.GetProperty("variances").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expectedMean = doc.RootElement.GetProperty("mean").EnumerateArray().Select(v => v.GetDouble()).ToArray();

        var pca = AbPrincipalComponents.Fit(fields, 5);
        Assert.That(pca.Mean, Is.EqualTo(expectedMean.Select(v => (float)v).ToArray()).Within(1e-5));
        for (int k = 0; k < 5; k++)
        {
            Assert.That(pca.Variances[k], Is.EqualTo(expectedVariances[k]).Within(1e-6 * expectedVariances[0]), $"variance {k}");
            Assert.That(pca.Components[k], Is.EqualTo(expectedComponents[k].Select(v => (float)v).ToArray()).Within(2e-5), $"component {k} (sign-fixed)");
            for (int j = 0; j < 5; j++)
            {
                double dot = pca.Components[k].Zip(pca.Components[j], (a, b) => (double)a * b).Sum();
                Assert.That(dot, Is.EqualTo(k == j ? 1 : 0).Within(1e-5), $"orthonormal {k}, {j}");
            }
        }
        Assert.That(pca.Variances, Is.Ordered.Descending);

        // The whitened coordinates of a component's own direction scaled by its sigma are 1 there and 0 elsewhere.
        var w = pca.WhiteningWeights();
        int d = pca.Dimension;
        var e = pca.Components[2].Select(v => (float)(v * Math.Sqrt(pca.Variances[2]))).ToArray();
        for (int k = 0; k < 5; k++)
            Assert.That(Enumerable.Range(0, d).Sum(j => (double)w[k * d + j] * e[j]), Is.EqualTo(k == 2 ? 1 : 0).Within(1e-4));
    }

    [Test]
    public void TooFewFieldsOrComponentsAreRefused()
    {
        Assert.That(() => AbPrincipalComponents.Fit([new float[4]], 1), Throws.ArgumentException.With.Message.Contains("at least 2"));
        Assert.That(() => AbPrincipalComponents.Fit([new float[4], new float[4], new float[4]], 3), Throws.ArgumentException.With.Message.Contains("at most 2"));
        Assert.That(() => AbPrincipalComponents.Fit([new float[4], new float[4], new float[4]], 2), Throws.ArgumentException.With.Message.Contains("no variance"));
    }
}
