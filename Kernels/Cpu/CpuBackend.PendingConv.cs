namespace ILGpuSat.Kernels.Cpu;

// Scaffold: convolution kernels not yet written. Each method moves to its family file when implemented;
// this file is deleted when empty.
public sealed partial class CpuBackend
{
    public override void Conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, Conv2dGeometry g, DeviceBuffer y) => throw new NotImplementedException("cpu Conv2d");
    public override void Conv2dBackwardData(DeviceBuffer dy, DeviceBuffer w, Conv2dGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cpu Conv2dBackwardData");
    public override void Conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, Conv2dGeometry g, DeviceBuffer dw, DeviceBuffer? dbias) => throw new NotImplementedException("cpu Conv2dBackwardWeight");
}
