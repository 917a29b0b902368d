"""The generative colorizers in PyTorch with the same names, layout and readings as Networks/Colorization/ (the
reference the C# networks are checked against). docs/colorizers.md lists the readings.

GanGenerator (the SpaceNet GAN colorizer): a 3 x 3 stem (grey -> F channels, no activation), three outer layers,
each conv 3 x 3 -> conv 3 x 3 stride 2 -> transposed conv 4 x 4 stride 2 -> ReLU (same size out as in), where outer
layer k > 1 reads mix * h_{k-1} + (1 - mix) * h_{k-2} (h_0 the stem), then a 1 x 1 conv to RGB and a sigmoid.
GanDiscriminator: five conv 3 x 3 (64, 128, 256, 512, 1024 x width) each with leaky ReLU 0.2 and 2 x 2 max-pooling,
flatten, one linear output without activation (a logit)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled(c, width):
    return max(1, int(c * width + 0.5))


class GanGenerator(nn.Module):
    def __init__(self, filters=64, mix=0.5):
        super().__init__()
        self.mix = mix
        self.stem = nn.Conv2d(1, filters, 3, padding=1)
        for k in range(1, 4):
            self.add_module(f"outer{k}_conv1", nn.Conv2d(filters, filters, 3, padding=1))
            self.add_module(f"outer{k}_conv2", nn.Conv2d(filters, filters, 3, stride=2, padding=1))
            self.add_module(f"outer{k}_deconv", nn.ConvTranspose2d(filters, filters, 4, stride=2, padding=1))
        self.to_rgb = nn.Conv2d(filters, 3, 1)

    def forward(self, grey):
        h = [self.stem(grey)]
        for k in range(1, 4):
            x = h[0] if k == 1 else self.mix * h[k - 1] + (1 - self.mix) * h[k - 2]
            x = getattr(self, f"outer{k}_conv1")(x)
            x = getattr(self, f"outer{k}_conv2")(x)
            x = getattr(self, f"outer{k}_deconv")(x)
            h.append(F.relu(x))
        return torch.sigmoid(self.to_rgb(h[3]))


class GanDiscriminator(nn.Module):
    def __init__(self, width=1.0, window=64, slope=0.2):
        super().__init__()
        self.slope = slope
        chans = [3] + [scaled(c, width) for c in (64, 128, 256, 512, 1024)]
        for i in range(5):
            self.add_module(f"conv{i + 1}", nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
        side = window // 32
        self.linear = nn.Linear(chans[5] * side * side, 1)

    def forward(self, rgb):
        x = rgb
        for i in range(5):
            x = F.max_pool2d(F.leaky_relu(getattr(self, f"conv{i + 1}")(x), self.slope), 2)
        return self.linear(torch.flatten(x, 1))


class DivColor(nn.Module):
    """divcolor (Deshpande et al. 2017) as Networks/Colorization/DivColor.cs reads it. A grey encoder (four 3 x 3
    stride-2 convolutions with batch norm and ReLU) gives conditioning features at 1/2..1/16; the VAE's encoder has
    the same form on the ab field and a linear layer to (mu, logvar) of z; the decoder maps z by a linear layer to the
    1/16 grid, then at each scale concatenates the grey features, applies a 3 x 3 convolution with batch norm and
    ReLU, and upsamples x2 by nearest neighbour; a final 3 x 3 convolution gives ab / 110 (linear). The MDN
    reads the grey encoder's deepest features: a linear layer to K weight logits and K means of z."""

    def __init__(self, size=64, widths=(32, 64, 128, 256), z=64, components=8):
        super().__init__()
        self.size, self.z, self.k = size, z, components
        c = list(widths)
        for name, cin in (("grey", 1), ("enc", 2)):
            for i in range(4):
                self.add_module(f"{name}_conv{i + 1}", nn.Conv2d(cin if i == 0 else c[i - 1], c[i], 3, stride=2, padding=1))
                self.add_module(f"{name}_bn{i + 1}", nn.BatchNorm2d(c[i]))
        side = size // 16
        self.enc_fc = nn.Linear(c[3] * side * side, 2 * z)
        self.dec_fc = nn.Linear(z, c[3] * side * side)
        outs = [c[2], c[1], c[0], c[0]]
        for i in range(4):
            cin = (c[3] if i == 0 else outs[i - 1]) + c[3 - i]
            self.add_module(f"dec_conv{i + 1}", nn.Conv2d(cin, outs[i], 3, padding=1))
            self.add_module(f"dec_bn{i + 1}", nn.BatchNorm2d(outs[i]))
        self.to_ab = nn.Conv2d(c[0], 2, 3, padding=1)
        self.mdn = nn.Linear(c[3] * side * side, components * (1 + z))

    def stack(self, name, x):
        feats = []
        for i in range(4):
            x = F.relu(getattr(self, f"{name}_bn{i + 1}")(getattr(self, f"{name}_conv{i + 1}")(x)))
            feats.append(x)
        return feats

    def encode(self, ab):
        h = self.enc_fc(torch.flatten(self.stack("enc", ab)[3], 1))
        return h[:, :self.z], h[:, self.z:]

    def decode(self, z, grey_feats):
        side = self.size // 16
        x = self.dec_fc(z).reshape(z.shape[0], -1, side, side)
        for i in range(4):
            x = torch.cat([x, grey_feats[3 - i]], 1)
            x = F.relu(getattr(self, f"dec_bn{i + 1}")(getattr(self, f"dec_conv{i + 1}")(x)))
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.to_ab(x)

    def mixture(self, grey_feats):
        h = self.mdn(torch.flatten(grey_feats[3], 1))
        return h[:, :self.k], h[:, self.k:].reshape(-1, self.k, self.z)
