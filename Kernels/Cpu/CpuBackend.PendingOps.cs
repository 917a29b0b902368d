namespace ILGpuSat.Kernels.Cpu;

// Scaffold: non-convolution kernels not yet written. Each method moves to its family file when implemented;
// this file is deleted when empty.
public sealed partial class CpuBackend
{
    public override void Fill(DeviceBuffer y, float value) => throw new NotImplementedException("cpu Fill");
    public override void FillFromScalar(DeviceBuffer scalar, float scale, DeviceBuffer y) => throw new NotImplementedException("cpu FillFromScalar");
    public override void Copy(DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cpu Copy");
    public override void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => throw new NotImplementedException("cpu Add");
    public override void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => throw new NotImplementedException("cpu Multiply");
    public override void Scale(DeviceBuffer x, float alpha, DeviceBuffer y) => throw new NotImplementedException("cpu Scale");
    public override void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cpu Axpy");
    public override void Relu(DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cpu Relu");
    public override void ReluBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) => throw new NotImplementedException("cpu ReluBackward");
    public override void LeakyRelu(DeviceBuffer x, float negativeSlope, DeviceBuffer y) => throw new NotImplementedException("cpu LeakyRelu");
    public override void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float negativeSlope, DeviceBuffer dx) => throw new NotImplementedException("cpu LeakyReluBackward");
    public override void PRelu(DeviceBuffer x, DeviceBuffer weight, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cpu PRelu");
    public override void PReluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dweight) => throw new NotImplementedException("cpu PReluBackward");
    public override void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cpu AddChannelBias");
    public override void ChannelSum(DeviceBuffer x, ChannelGeometry g, DeviceBuffer sum) => throw new NotImplementedException("cpu ChannelSum");
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
    public override void Sum(DeviceBuffer x, DeviceBuffer result) => throw new NotImplementedException("cpu Sum");
    public override void SumOfSquares(DeviceBuffer x, DeviceBuffer result) => throw new NotImplementedException("cpu SumOfSquares");
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
