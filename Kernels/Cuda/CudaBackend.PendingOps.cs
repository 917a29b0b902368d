namespace ILGpuSat.Kernels.Cuda;

// Scaffold (CUDA backend): non-convolution kernels not yet written. Each method moves to its family file when implemented;
// this file is deleted when empty.
public sealed partial class CudaBackend
{
    public override void Fill(DeviceBuffer y, float value) => throw new NotImplementedException("cuda Fill");
    public override void FillFromScalar(DeviceBuffer scalar, float scale, DeviceBuffer y) => throw new NotImplementedException("cuda FillFromScalar");
    public override void Copy(DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cuda Copy");
    public override void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => throw new NotImplementedException("cuda Add");
    public override void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => throw new NotImplementedException("cuda Multiply");
    public override void Scale(DeviceBuffer x, float alpha, DeviceBuffer y) => throw new NotImplementedException("cuda Scale");
    public override void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cuda Axpy");
    public override void Relu(DeviceBuffer x, DeviceBuffer y) => throw new NotImplementedException("cuda Relu");
    public override void ReluBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) => throw new NotImplementedException("cuda ReluBackward");
    public override void LeakyRelu(DeviceBuffer x, float negativeSlope, DeviceBuffer y) => throw new NotImplementedException("cuda LeakyRelu");
    public override void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float negativeSlope, DeviceBuffer dx) => throw new NotImplementedException("cuda LeakyReluBackward");
    public override void PRelu(DeviceBuffer x, DeviceBuffer weight, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cuda PRelu");
    public override void PReluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dweight) => throw new NotImplementedException("cuda PReluBackward");
    public override void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cuda AddChannelBias");
    public override void ChannelSum(DeviceBuffer x, ChannelGeometry g, DeviceBuffer sum) => throw new NotImplementedException("cuda ChannelSum");
    public override void BatchNormTrain(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, ChannelGeometry g, float eps, DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd, DeviceBuffer? runningMean, DeviceBuffer? runningVar, float momentum) => throw new NotImplementedException("cuda BatchNormTrain");
    public override void BatchNormTrainBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer saveMean, DeviceBuffer saveInvStd, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta) => throw new NotImplementedException("cuda BatchNormTrainBackward");
    public override void BatchNormEval(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer y) => throw new NotImplementedException("cuda BatchNormEval");
    public override void BatchNormEvalBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer runningMean, DeviceBuffer runningVar, ChannelGeometry g, float eps, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta) => throw new NotImplementedException("cuda BatchNormEvalBackward");
    public override void CopyChannels(DeviceBuffer src, int srcChannels, int srcOffset, DeviceBuffer dst, int dstChannels, int dstOffset, int count, int n, int hw) => throw new NotImplementedException("cuda CopyChannels");
    public override void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) => throw new NotImplementedException("cuda UpsampleBilinear");
    public override void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) => throw new NotImplementedException("cuda UpsampleBilinearBackward");
    public override void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y) => throw new NotImplementedException("cuda UpsampleNearest");
    public override void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx) => throw new NotImplementedException("cuda UpsampleNearestBackward");
    public override void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y) => throw new NotImplementedException("cuda MaxPool2x2");
    public override void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx) => throw new NotImplementedException("cuda MaxPool2x2Backward");
    public override void Sum(DeviceBuffer x, DeviceBuffer result) => throw new NotImplementedException("cuda Sum");
    public override void SumOfSquares(DeviceBuffer x, DeviceBuffer result) => throw new NotImplementedException("cuda SumOfSquares");
    public override void Softmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cuda Softmax");
    public override void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cuda SoftmaxBackward");
    public override void LogSoftmax(DeviceBuffer x, ChannelGeometry g, DeviceBuffer y) => throw new NotImplementedException("cuda LogSoftmax");
    public override void LogSoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx) => throw new NotImplementedException("cuda LogSoftmaxBackward");
    public override void MseLoss(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer loss) => throw new NotImplementedException("cuda MseLoss");
    public override void MseLossBackward(DeviceBuffer pred, DeviceBuffer target, DeviceBuffer dloss, DeviceBuffer dpred) => throw new NotImplementedException("cuda MseLossBackward");
    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer loss) => throw new NotImplementedException("cuda SoftmaxCrossEntropy");
    public override void SoftmaxCrossEntropyBackward(DeviceBuffer logits, DeviceBuffer target, DeviceBuffer? weights, ChannelGeometry g, DeviceBuffer dloss, DeviceBuffer dlogits) => throw new NotImplementedException("cuda SoftmaxCrossEntropyBackward");
    public override void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep) => throw new NotImplementedException("cuda SgdStep");
    public override void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step) => throw new NotImplementedException("cuda AdamStep");
    public override void ClipByGlobalNorm(DeviceBuffer grad, DeviceBuffer sumOfSquares, float maxNorm) => throw new NotImplementedException("cuda ClipByGlobalNorm");
}
