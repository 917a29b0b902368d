"""DeepSUM in PyTorch with the same names, layout and readings as Networks/Misr/ (the reference the C# network is
checked against, and the other side of `bench train --model deepsum` when that exists). Frames-major tensors
[N, T, C, H, W]; reflection padding; instance norm per frame (affine, eps 1e-3); leaky ReLU 0.2; RegNet on frame
pairs (k, 0) concatenated along channels; registration by per-sample dynamic convolution (reflection padded); mutual
inpainting by a hard selection made from the registered masks; FusionNet's 3x3x3 convolutions without temporal
padding; residual = mean over frames of the registered, inpainted bicubic frames."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def reflect(x, p):
    return F.pad(x, [p, p, p, p], mode="reflect")


class SisrNet(nn.Module):
    def __init__(self, filters, layers, eps, slope):
        super().__init__()
        self.slope = slope
        for i in range(layers):
            self.add_module(f"conv{i}", nn.Conv2d(1 if i == 0 else filters, filters, 3))
            self.add_module(f"norm{i}", nn.InstanceNorm2d(filters, eps=eps, affine=True))
        self.layers = layers

    def forward(self, x):
        for i in range(self.layers):
            x = F.leaky_relu(getattr(self, f"norm{i}")(getattr(self, f"conv{i}")(reflect(x, 1))), self.slope)
        return x


class RegNet(nn.Module):
    def __init__(self, filters, k, slope):
        super().__init__()
        f = filters
        self.k, self.slope = k, slope
        for i, (a, b) in enumerate([(2 * f, 2 * f), (2 * f, f), (f, f), (f, f)]):
            self.add_module(f"conv{i}", nn.Conv2d(a, b, 3))
        self.taps = nn.Conv2d(f, k * k, 3)

    def forward(self, feats):  # [N, T, F, H, W]
        n, t, f, h, w = feats.shape
        pairs = torch.cat([feats[:, 1:], feats[:, :1].expand(n, t - 1, f, h, w)], dim=2).reshape(n * (t - 1), 2 * f, h, w)
        x = pairs
        for i in range(4):
            x = F.leaky_relu(getattr(self, f"conv{i}")(reflect(x, 1)), self.slope)
        logits = self.taps(reflect(x, 1)).mean(dim=(2, 3))
        return F.softmax(logits, dim=1).reshape(n * (t - 1), 1, self.k, self.k)


class FusionNet(nn.Module):
    def __init__(self, filters, layers, eps, slope):
        super().__init__()
        self.slope, self.layers = slope, layers
        for i in range(layers):
            self.add_module(f"conv{i}", nn.Conv3d(filters, filters, 3))
            self.add_module(f"norm{i}", nn.InstanceNorm2d(filters, eps=eps, affine=True))
        self.out = nn.Conv2d(filters, 1, 1)

    def forward(self, x):  # [N, T, F, H, W]
        for i in range(self.layers):
            n, t, f, h, w = x.shape
            padded = reflect(x.reshape(n * t, f, h, w), 1).reshape(n, t, f, h + 2, w + 2)
            y = getattr(self, f"conv{i}")(padded.permute(0, 2, 1, 3, 4)).permute(0, 2, 1, 3, 4)
            n, t, f, h, w = y.shape
            x = F.leaky_relu(getattr(self, f"norm{i}")(y.reshape(n * t, f, h, w)), self.slope).reshape(n, t, f, h, w)
        return self.out(x[:, 0])


def dynamic(x, filters):  # x [M, C, H, W], filters [M, 1, K, K]
    k = filters.shape[-1]
    return torch.cat([F.conv2d(reflect(x[i:i + 1].transpose(0, 1), k // 2), filters[i:i + 1]).transpose(0, 1)
                      for i in range(x.shape[0])], dim=0)


def register(x, filters):
    n, t, c, h, w = x.shape
    moved = dynamic(x[:, 1:].reshape(n * (t - 1), c, h, w), filters).reshape(n, t - 1, c, h, w)
    return torch.cat([x[:, :1], moved], dim=1)


def selection(masks):  # masks [N, T, H, W] -> index of the frame each output frame takes per pixel
    n, t, h, w = masks.shape
    clear = masks > 0.5
    first = torch.where(clear.any(dim=1), clear.float().argmax(dim=1), torch.full((n, h, w), -1))
    own = torch.arange(t).view(1, t, 1, 1).expand(n, t, h, w)
    return torch.where(clear | (first.unsqueeze(1) < 0), own, first.unsqueeze(1).expand(n, t, h, w))


def inpaint(x, sel):  # x [N, T, C, H, W]
    n, t, c, h, w = x.shape
    index = sel.unsqueeze(2).expand(n, t, c, h, w)
    return torch.gather(x, 1, index)


class DeepSum(nn.Module):
    def __init__(self, frames=9, filters=64, sisr_layers=8, filter_size=9, fusion_layers=4, use_regnet=True, eps=1e-3, slope=0.2):
        super().__init__()
        self.use_regnet = use_regnet
        self.sisr = SisrNet(filters, sisr_layers, eps, slope)
        self.reg = RegNet(filters, filter_size, slope)
        self.fusion = FusionNet(filters, fusion_layers, eps, slope)

    def forward(self, frames, masks):  # [N, T, 1, H, W] each
        n, t, _, h, w = frames.shape
        feats = self.sisr(frames.reshape(n * t, 1, h, w)).reshape(n, t, -1, h, w)
        bic, aligned, filters = frames, masks, None
        if self.use_regnet:
            filters = self.reg(feats)
            feats, bic = register(feats, filters), register(frames, filters)
            with torch.no_grad():
                aligned = register(masks, filters)
        sel = selection(aligned[:, :, 0])
        feats, bic = inpaint(feats, sel), inpaint(bic, sel)
        return self.fusion(feats) + bic.mean(dim=1), filters, aligned
