namespace ILGpuSat.Engine.Modules;

/// <summary>A module that maps one tensor to one tensor: the building block <see cref="Sequential"/> chains.</summary>
public abstract class Layer : Module
{
    public abstract Tensor Forward(Tensor x);
}
