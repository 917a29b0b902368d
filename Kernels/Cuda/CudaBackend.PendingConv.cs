namespace ILGpuSat.Kernels.Cuda;

// Scaffold: the convolution kernels are being written (Kernels/Cuda/CudaBackend.Conv.cs + Kernels/Cuda/Conv/);
// this file is replaced by them.
public sealed partial class CudaBackend
{
    public override void Conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, Conv2dGeometry g, DeviceBuffer y) => throw new NotImplementedException("cuda Conv2d");
    public override void Conv2dBackwardData(DeviceBuffer dy, DeviceBuffer w, Conv2dGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cuda Conv2dBackwardData");
    public override void Conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, Conv2dGeometry g, DeviceBuffer dw, DeviceBuffer? dbias) => throw new NotImplementedException("cuda Conv2dBackwardWeight");
}
