using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

public class AutogradTests
{
    private CpuBackend _b = null!;

    [SetUp]
    public void SetUp() => _b = new CpuBackend();

    [TearDown]
    public void TearDown() => _b.Dispose();

    private Tensor T(float[] data, bool grad = false) => Tensor.FromArray(data, [data.Length], _b, grad);

    [Test]
    public void GradientsAccumulateAcrossBackwardPasses()
    {
        using var scope = new TensorScope();
        var x = T([1f, -2f, 3f], grad: true);
        F.Sum(F.Mul(x, 2f)).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f }));
        F.Sum(F.Mul(x, x)).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f + 2f, 2f - 4f, 2f + 6f }));
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void BackwardTwiceThroughTheSameGraphAccumulates()
    {
        using var scope = new TensorScope();
        var x = T([1f, 2f], grad: true);
        var loss = F.Sum(F.Mul(x, 3f));
        loss.Backward();
        loss.Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 6f }));
    }

    [Test]
    public void TensorUsedTwiceGetsBothContributions()
    {
        using var scope = new TensorScope();
        var x = T([1f, -2f, 3f], grad: true);
        F.Sum(F.Add(x, x)).Backward();  // both inputs receive the same upstream tensor
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f }));

        var z = T([0.5f, 4f], grad: true);
        var a = F.Mul(z, 2f);
        // Diamond: loss = sum(a*a + a) = sum(4z^2 + 2z); dloss/dz = 8z + 2.
        F.Sum(F.Add(F.Mul(a, a), a)).Backward();
        Assert.That(z.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 34f }));
    }

    [Test]
    public void UpstreamGradientGivenToTwoLeavesIsNotShared()
    {
        using var scope = new TensorScope();
        var a = T([1f, 2f], grad: true);
        var b = T([3f, 4f], grad: true);
        var y = F.Add(a, b);
        y.Backward(T([1f, 1f]));
        F.Sum(F.Mul(a, 5f)).Backward();  // must change a.Grad only
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 6f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 1f }));
    }

    [Test]
    public void ExplicitGradientIsLeftToTheCaller()
    {
        using var scope = new TensorScope();
        var x = T([1f, 2f], grad: true);
        var g = T([0.5f, -1f]);
        F.Mul(x, 2f).Backward(g);
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1f, -2f }));
        Assert.That(g.IsDisposed, Is.False);
        Assert.That(g.ToArray(), Is.EqualTo(new[] { 0.5f, -1f }));
        Assert.That(x.Grad, Is.Not.SameAs(g));
    }

    [Test]
    public void OnlyTensorsThatRequireGradReceiveOne()
    {
        using var scope = new TensorScope();
        var x = T([1f, 2f], grad: true);
        var c = T([3f, 4f]);
        var h = F.Mul(x, c);
        F.Sum(h).Backward();
        Assert.That(c.Grad, Is.Null);
        Assert.That(h.Grad, Is.Null, "intermediate gradients are freed, not retained");
        Assert.That(h.RequiresGrad && !h.IsLeaf, Is.True);
        Assert.That(h.GradFn!.Op, Is.EqualTo("mul"));
        var constant = F.Mul(c, c);
        Assert.That(constant.RequiresGrad, Is.False);
        Assert.That(constant.GradFn, Is.Null);
    }

    [Test]
    public void NoGradScopeRecordsNothing()
    {
        using var scope = new TensorScope();
        var x = T([1f, 2f], grad: true);
        Tensor y;
        using (Autograd.NoGrad())
        {
            Assert.That(Autograd.IsGradEnabled, Is.False);
            y = F.Sum(F.Mul(x, x));
        }
        Assert.That(Autograd.IsGradEnabled, Is.True);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.GradFn, Is.Null);
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(ex!.Message, Does.Contain("does not require a gradient"));
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void BackwardNeedsAOneElementTensorOrAGradient()
    {
        using var scope = new TensorScope();
        var x = T([1f, 2f], grad: true);
        var ex = Assert.Throws<InvalidOperationException>(() => F.Mul(x, 2f).Backward());
        Assert.That(ex!.Message, Does.Contain("[2]"));
        Assert.Throws<ArgumentException>(() => F.Mul(x, 2f).Backward(T([1f, 2f, 3f])));
    }

    [Test]
    public void InPlaceChangeOfASavedInputIsDetected()
    {
        using var scope = new TensorScope();
        var w = T([1f, 2f], grad: true);
        var x = T([3f, 4f]);
        var loss = F.Sum(F.Mul(x, w));
        using (var opt = new Sgd([w], lr: 0.1f))
        {
            loss.Backward();
            opt.Step();  // w changes in place
        }
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.That(ex!.Message, Does.Contain("modified in place").And.Contain("mul"));
    }

    [Test]
    public void BackwardAfterTheScopeEndedFailsClearly()
    {
        var x = T([1f, 2f], grad: true);
        Tensor loss;
        using (new TensorScope())
        {
            var h = F.Mul(x, x);
            loss = F.Sum(h).Keep();
        }
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.That(ex!.Message, Does.Contain("disposed"));
        loss.Dispose();
        x.Dispose();
    }

    [Test]
    public void ScopeDisposesItsTensorsAndReturnsTheirBuffersToThePool()
    {
        var param = T([1f, 2f, 3f, 4f], grad: true);  // outside any scope: owned by the test
        var arrays = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        Tensor kept, h;
        using (var scope = new TensorScope())
        {
            h = F.Mul(param, 2f);
            var loss = F.Sum(F.Mul(h, h));
            loss.Backward();
            kept = F.Mul(param, 3f).Keep();
            arrays.Add(((CpuBuffer)h.Buffer).Array);
            Assert.That(scope.Count, Is.GreaterThanOrEqualTo(3));
        }
        Assert.That(h.IsDisposed, Is.True);
        Assert.That(kept.IsDisposed, Is.False);
        Assert.That(param.IsDisposed || param.Grad!.IsDisposed, Is.False, "parameters and their gradients outlive the scope");
        Assert.That(param.Grad!.ToArray(), Is.EqualTo(new[] { 8f, 16f, 24f, 32f }));

        // A step's buffers go back to the pool and the next step of the same shapes takes them again.
        using (new TensorScope())
        {
            var a = F.Mul(param, 2f);
            var b = F.Mul(a, a);
            arrays.Clear();
            arrays.Add(((CpuBuffer)a.Buffer).Array);
            arrays.Add(((CpuBuffer)b.Buffer).Array);
        }
        using (new TensorScope())
        {
            var a = F.Mul(param, 2f);
            var b = F.Mul(a, a);
            Assert.That(arrays.Contains(((CpuBuffer)a.Buffer).Array) && arrays.Contains(((CpuBuffer)b.Buffer).Array), Is.True);
        }
        kept.Dispose();
        param.Dispose();
        Assert.That(param.Grad, Is.Null);
    }

    [Test]
    public void EscapeHandsATensorToTheEnclosingScope()
    {
        Tensor inner;
        using (var outer = new TensorScope())
        {
            using (var scope = new TensorScope())
            {
                inner = scope.Escape(T([1f]));
            }
            Assert.That(inner.IsDisposed, Is.False);
            Assert.That(outer.Count, Is.EqualTo(1));
        }
        Assert.That(inner.IsDisposed, Is.True);
    }

    [Test]
    public void ScopesMustEndInReverseOrder()
    {
        var outer = new TensorScope();
        var inner = new TensorScope();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.That(TensorScope.Current, Is.Null);
    }

    [Test]
    public void UseAfterDisposeNamesTheTensor()
    {
        var t = T([1f, 2f]);
        t.Dispose();
        var ex = Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.That(ex!.Message, Does.Contain("[2]"));
    }

    [Test]
    public void LossGradientStaysOnTheDevice()
    {
        // The seed and the loss backward read one-element buffers: the result is right for a non-unit upstream.
        using var scope = new TensorScope();
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], [1, 1, 2, 2], _b, true);
        var t = Tensor.FromArray([0f, 0f, 0f, 0f], [1, 1, 2, 2], _b, false);
        F.Mul(F.MseLoss(x, t), 3f).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1.5f, 3f, 4.5f, 6f }).Within(1e-6));
    }

    [Test]
    public void LeafRequiresGradCanOnlyBeClearedOnLeaves()
    {
        using var scope = new TensorScope();
        var x = T([1f], grad: true);
        var y = F.Mul(x, 2f);
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        x.RequiresGrad = false;
        Assert.That(F.Mul(x, 2f).RequiresGrad, Is.False);
    }
}
