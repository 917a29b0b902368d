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
