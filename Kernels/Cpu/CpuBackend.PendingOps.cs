namespace ILGpuSat.Kernels.Cpu;

// Scaffold: non-convolution kernels not yet written. Each method moves to its family file when implemented;
// this file is deleted when empty.
public sealed partial class CpuBackend
{
    public override void BatchNormTrain(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, ChannelGeometry g, float eps, DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd, DeviceBuffer? runningMean, DeviceBuffer? runningVar, float momentum) => throw new NotImplementedException("cpu BatchNormTrain");
    public override void BatchNormTrainBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer saveMean, DeviceBuffer saveInvStd, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta) => throw new NotImplementedException("cpu BatchNormTrainBackward");
    public override void BatchNormEval(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer y) => throw new NotImplementedException("cpu BatchNormEval");
    public override void BatchNormEvalBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta) => throw new NotImplementedException("cpu BatchNormEvalBackward");
    public override void CopyChannels(DeviceBuffer src, int srcChannels, int srcOffset, DeviceBuffer dst, int dstChannels, int dstOffset, int count, int n, int hw) => throw new NotImplementedException("cpu CopyChannels");
    public override void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) => throw new NotImplementedException("cpu UpsampleBilinear");
    public override void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) => throw new NotImplementedException("cpu UpsampleBilinearBackward");
    public override void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) => throw new NotImplementedException("cpu UpsampleNearest");
    public override void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) => throw new NotImplementedException("cpu UpsampleNearestBackward");
    public override void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y) => throw new NotImplementedException("cpu MaxPool2x2");
    public override void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx) => throw new NotImplementedException("cpu MaxPool2x2Backward");
    public override void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cpu Softmax");
    public override void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cpu SoftmaxBackward");
    public override void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cpu LogSoftmax");
    public override void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cpu LogSoftmaxBackward");
    public override void MseLoss(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer loss) => throw new NotImplementedException("cpu MseLoss");
    public override void MseLossBackward(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer dloss, DeviceBuffer dpred) => throw new NotImplementedException("cpu MseLossBackward");
    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss) => throw new NotImplementedException("cpu SoftmaxCrossEntropy");
    public override void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer dloss, DeviceBuffer dlogits) => throw new NotImplementedException("cpu SoftmaxCrossEntropyBackward");
    public override void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep) => throw new NotImplementedException("cpu SgdStep");
    public override void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step) => throw new NotImplementedException("cpu AdamStep");
    public override void ClipByGlobalNorm(DeviceBuffer grad, DeviceBuffer sumOfSquares, float maxNorm) => throw new NotImplementedException("cpu ClipByGlobalNorm");
}
