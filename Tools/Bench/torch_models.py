"""PyTorch definitions of every ILGpuSat catalog architecture (Networks/ModelCatalog.cs), with the engine's
state-dict names, key order and shapes, for golden files (tests/golden/make_network_golden.py) and PyTorch
baselines of training benchmarks.

Importing this module has no side effects. Use:

    model = build("liu2018", {"trunkWidth": 0.5})   # config keys as ModelCatalog.ConfigJson writes them
    sr, logits, ab = model(x)                         # None where the model does not serve that task

A config is the JSON object stored in a weights file's "ilgpusat.config"; absent keys take the defaults
and unknown keys are an error, as in ModelCatalog.ParseConfig. Initialisation follows the engine's rules
(He normal, zero-initialised residual heads; docs/networks.md) in distribution, not value for value: the
two sides draw from different generators.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PRELU_INIT = 0.25
BINS = 313


def scale(channels, width):
    """A channel count times the width multiplier, rounded half up, at least 1 (Networks/Blocks/Widths.cs)."""
    return max(1, int(math.floor(channels * width + 0.5)))


def _he(weight, slope=0.0, transposed=False, nonlinearity="leaky_relu"):
    # A transposed convolution's own fan-in is in_channels * k * k, PyTorch's "fan_out" of an IOHW weight.
    nn.init.kaiming_normal_(weight, a=slope, mode="fan_out" if transposed else "fan_in", nonlinearity=nonlinearity)


class ConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d whose stride-1 case runs as the equivalent conv2d (flipped, transposed kernel,
    padding k - 1 - p): the same function and state dict, and much faster on CPU builds whose transposed
    convolution goes through a reference BLAS."""

    def forward(self, x):
        if self.stride == (1, 1) and self.output_padding == (0, 0) and self.dilation == (1, 1) and self.groups == 1:
            k = self.kernel_size[0]
            w = self.weight.flip(2, 3).transpose(0, 1)
            return F.conv2d(x, w, self.bias, padding=k - 1 - self.padding[0])
        return super().forward(x)


class ConvBlock(nn.Module):
    """conv (no bias) -> BN -> activation, children named conv|deconv, bn, prelu|act (Networks/Blocks/ConvBlock.cs)."""

    def __init__(self, conv_name, conv, bn, act_name, act):
        super().__init__()
        self.conv_name, self.act_name = conv_name, act_name
        self.add_module(conv_name, conv)
        self.bn = bn
        self.add_module(act_name, act)

    def forward(self, x):
        return getattr(self, self.act_name)(self.bn(getattr(self, self.conv_name)(x)))

    @staticmethod
    def cbp(cin, cout, k=3, stride=1):
        conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        _he(conv.weight, PRELU_INIT)
        return ConvBlock("conv", conv, nn.BatchNorm2d(cout), "prelu", nn.PReLU(cout, PRELU_INIT))

    @staticmethod
    def deconv_bp(cin, cout, k, stride, padding):
        deconv = ConvTranspose2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        _he(deconv.weight, PRELU_INIT, transposed=True)
        return ConvBlock("deconv", deconv, nn.BatchNorm2d(cout), "prelu", nn.PReLU(cout, PRELU_INIT))

    @staticmethod
    def cbl(cin, cout, stride, slope):
        conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        _he(conv.weight, slope)
        return ConvBlock("conv", conv, nn.BatchNorm2d(cout), "act", nn.LeakyReLU(slope))


def _zero(conv):
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class ZhangTrunk(nn.Module):
    """Zhang et al. 2016: conv1..conv8 (conv, relu, ..., relu, bn in conv1..7; deconv 4x4 s2 in conv8) and the
    1x1 313-bin classifier 'logits' (Networks/Blocks/ZhangTrunk.cs)."""

    def __init__(self, cin, width):
        super().__init__()
        c64, c128, c256, c512 = (scale(c, width) for c in (64, 128, 256, 512))
        self.conv1 = self._block([(cin, c64, 1, 1), (c64, c64, 2, 1)])
        self.conv2 = self._block([(c64, c128, 1, 1), (c128, c128, 2, 1)])
        self.conv3 = self._block([(c128, c256, 1, 1), (c256, c256, 1, 1), (c256, c256, 2, 1)])
        self.conv4 = self._block([(c256, c512, 1, 1)] + [(c512, c512, 1, 1)] * 2)
        self.conv5 = self._block([(c512, c512, 1, 2)] * 3)
        self.conv6 = self._block([(c512, c512, 1, 2)] * 3)
        self.conv7 = self._block([(c512, c512, 1, 1)] * 3)
        deconv = ConvTranspose2d(c512, c256, 4, stride=2, padding=1, bias=True)
        _he(deconv.weight, transposed=True, nonlinearity="relu")
        nn.init.zeros_(deconv.bias)
        layers = [deconv, nn.ReLU()]
        for _ in range(2):
            layers += [self._conv(c256, c256, 1, 1), nn.ReLU()]
        self.conv8 = nn.Sequential(*layers)
        self.logits = nn.Conv2d(c256, BINS, 1)
        _he(self.logits.weight, nonlinearity="linear")
        nn.init.zeros_(self.logits.bias)
        self.feature_channels = c256

    @staticmethod
    def _conv(cin, cout, stride, dilation):
        conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=True)
        _he(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        return conv

    @classmethod
    def _block(cls, convs):
        layers = []
        for cin, cout, stride, dilation in convs:
            layers += [cls._conv(cin, cout, stride, dilation), nn.ReLU()]
        return nn.Sequential(*layers, nn.BatchNorm2d(convs[-1][1]))

    def forward(self, x):
        for block in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5, self.conv6, self.conv7, self.conv8):
            x = block(x)
        return x, self.logits(x)


class SrEncoder(nn.Module):
    """CBP -> 32 (e1), -> 64 x3 (e2), -> 128 x3 (e3) (Networks/Blocks/SrEncoder.cs)."""

    def __init__(self, cin, width):
        super().__init__()
        c32, c64, c128 = scale(32, width), scale(64, width), scale(128, width)
        self.e1 = nn.Sequential(ConvBlock.cbp(cin, c32))
        self.e2 = nn.Sequential(ConvBlock.cbp(c32, c64), ConvBlock.cbp(c64, c64), ConvBlock.cbp(c64, c64))
        self.e3 = nn.Sequential(ConvBlock.cbp(c64, c128), ConvBlock.cbp(c128, c128), ConvBlock.cbp(c128, c128))
        self.taps = (c32, c64, c128)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(e1)
        return e1, e2, self.e3(e2)


class SrStream(nn.Module):
    """3x3 stride-1 deconv/BN/PReLU blocks '0', '1', ... then the zero-initialised 3x3 conv 'out' to one channel."""

    def __init__(self, cin, groups, width, blocks_per_group=3):
        super().__init__()
        self.blocks = []
        c = cin
        for group in groups:
            o = scale(group, width)
            for _ in range(blocks_per_group):
                block = ConvBlock.deconv_bp(c, o, 3, 1, 1)
                self.add_module(str(len(self.blocks)), block)
                self.blocks.append(block)
                c = o
        self.out = _zero(nn.Conv2d(c, 1, 3, padding=1, bias=True))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.out(x)


class Liu2018(nn.Module):
    """liu2018 / liu2018-sr / liu2018-color (Networks/Liu2018.cs)."""

    def __init__(self, color_branch, sr_branch, trunk_width, sr_width):
        super().__init__()
        stem = scale(32, sr_width)
        self.has_trunk, self.has_sr = color_branch, sr_branch
        if sr_branch:
            self.stem = nn.Sequential(ConvBlock.cbp(1, stem), ConvBlock.cbp(stem, stem))
        if color_branch:
            self.trunk = ZhangTrunk(stem if sr_branch else 1, trunk_width)
        if sr_branch:
            enc_in = stem
            if color_branch:
                c64 = scale(64, sr_width)
                self.feedback = nn.Sequential(ConvBlock.deconv_bp(self.trunk.feature_channels, c64, 4, 2, 1),
                                              ConvBlock.deconv_bp(c64, c64, 4, 2, 1))
                enc_in += c64
            self.encoder = SrEncoder(enc_in, sr_width)
            t = self.encoder.taps
            self.decoder1 = SrStream(t[0], [32], sr_width)
            self.decoder2 = SrStream(t[1], [64, 32], sr_width)
            self.decoder3 = SrStream(t[2], [128, 64, 32], sr_width)

    def forward(self, x):
        if not self.has_sr:
            return None, self.trunk(x)[1], None
        s = self.stem(x)
        logits, h = None, s
        if self.has_trunk:
            features, logits = self.trunk(s)
            h = torch.cat([s, self.feedback(features)], 1)
        e1, e2, e3 = self.encoder(h)
        sr = x + self.decoder1(e1) + self.decoder2(e2) + self.decoder3(e3)
        return sr, logits, None


class Srcnn(nn.Module):
    """SRCNN 9-5-5 with 'same' padding, predicting the image (Networks/Srcnn.cs)."""

    def __init__(self, width):
        super().__init__()
        c64, c32 = scale(64, width), scale(32, width)
        self.conv1 = nn.Conv2d(1, c64, 9, padding=4)
        self.conv2 = nn.Conv2d(c64, c32, 5, padding=2)
        self.conv3 = nn.Conv2d(c32, 1, 5, padding=2)
        _he(self.conv1.weight, nonlinearity="relu")
        _he(self.conv2.weight, nonlinearity="relu")
        nn.init.normal_(self.conv3.weight, 0.0, 1e-3)
        for conv in (self.conv1, self.conv2, self.conv3):
            nn.init.zeros_(conv.bias)

    def forward(self, x):
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x))))), None, None


class _SharedUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.prelu = nn.PReLU(c, PRELU_INIT)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        _he(self.conv1.weight, PRELU_INIT)
        _he(self.conv2.weight, PRELU_INIT)


class _NormPair(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c)
        self.bn2 = nn.BatchNorm2d(c)


class RecurrentResidual(nn.Module):
    """head CBP; h = h + s * bn2_u(conv2(prelu(bn1_u(conv1(h))))) for u < B with shared conv1/prelu/conv2;
    SR = x + tail(h) (Networks/RecurrentResidual.cs)."""

    def __init__(self, width, recursions, residual_scale):
        super().__init__()
        c = scale(64, width)
        self.residual_scale = residual_scale
        self.head = ConvBlock.cbp(1, c)
        self.unit = _SharedUnit(c)
        self.norms = nn.ModuleList([_NormPair(c) for _ in range(recursions)])
        self.tail = _zero(nn.Conv2d(c, 1, 3, padding=1, bias=True))

    def forward(self, x):
        h = self.head(x)
        u = self.unit
        for pair in self.norms:
            r = pair.bn2(u.conv2(u.prelu(pair.bn1(u.conv1(h)))))
            h = h + r * self.residual_scale
        return x + self.tail(h), None, None


def cubic(x):
    """Keys cubic convolution, a = -0.5 (MATLAB imresize 'bicubic')."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax ** 3 - 2.5 * ax ** 2 + 1
    if ax <= 2:
        return -0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2
    return 0.0


def bicubic_kernel(factor, dtype=torch.float32):
    """The fixed 4s x 4s kernel of BicubicUpsampler (Networks/Blocks/BicubicUpsampler.cs), rounded to float32."""
    k = 4 * factor
    taps = torch.tensor([cubic((t - (k - 1) / 2.0) / factor) for t in range(k)], dtype=torch.float64)
    return torch.outer(taps, taps).to(torch.float32).to(dtype).reshape(1, 1, k, k)


def _pad_symmetric2(x, dim):
    n = x.shape[dim]
    pieces = [x.narrow(dim, 1, 1), x.narrow(dim, 0, 1), x, x.narrow(dim, n - 1, 1), x.narrow(dim, n - 2, 1)]
    return torch.cat(pieces, dim)


def bicubic_upsample(x, factor=4):
    """MATLAB-style bicubic upsampling (symmetric borders) by an even factor, composed as the engine does it."""
    padded = _pad_symmetric2(_pad_symmetric2(x, 3), 2)
    return F.conv_transpose2d(padded, bicubic_kernel(factor, x.dtype).to(x.device), stride=factor, padding=7 * factor // 2)


class RegressionEd(nn.Module):
    """Bicer & Kaynak's encoder-decoder on LR L* (Networks/RegressionEd.cs)."""

    DOWN = [(64, 2), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    UP = [512, 256, 128, 64, 32, 16, 8]
    UPSAMPLINGS = 6

    def __init__(self, width, leaky_slope):
        super().__init__()
        c, enc = 1, []
        for ch, stride in self.DOWN:
            o = scale(ch, width)
            enc.append(ConvBlock.cbl(c, o, stride, leaky_slope))
            c = o
        self.encoder = nn.Sequential(*enc)
        dec = []
        for ch in self.UP:
            o = scale(ch, width)
            dec.append(ConvBlock.cbl(c, o, 1, leaky_slope))
            c = o
        self.decoder = nn.Sequential(*dec)
        self.head_l = _zero(nn.Conv2d(c, 1, 3, padding=1, bias=True))
        self.head_ab = _zero(nn.Conv2d(c, 2, 3, padding=1, bias=True))

    def forward(self, x):
        d = self.encoder(x)
        for i, block in enumerate(self.decoder):
            d = block(d)
            if i < self.UPSAMPLINGS:
                d = F.interpolate(d, scale_factor=2, mode="nearest")
        return bicubic_upsample(x, 4) + self.head_l(d), None, self.head_ab(d)


# name -> (defaults in ConfigJson's camelCase, builder, input kind, size multiple, tasks)
CATALOG = {
    "liu2018": ({"trunkWidth": 1.0, "srWidth": 1.0},
                lambda c: Liu2018(True, True, c["trunkWidth"], c["srWidth"]), "bicubic", 8, ("sr", "color_logits")),
    "liu2018-sr": ({"width": 1.0}, lambda c: Liu2018(False, True, 1.0, c["width"]), "bicubic", 1, ("sr",)),
    "liu2018-color": ({"width": 1.0}, lambda c: Liu2018(True, False, c["width"], 1.0), "bicubic", 8, ("color_logits",)),
    "srcnn": ({"width": 1.0}, lambda c: Srcnn(c["width"]), "bicubic", 1, ("sr",)),
    "recurrent-residual": ({"width": 1.0, "recursions": 9, "residualScale": 0.1},
                           lambda c: RecurrentResidual(c["width"], c["recursions"], c["residualScale"]), "bicubic", 1, ("sr",)),
    "regression-ed": ({"width": 1.0, "leakySlope": 0.2},
                      lambda c: RegressionEd(c["width"], c["leakySlope"]), "low_resolution", 16, ("sr", "ab")),
}


def config_of(name, config=None):
    """The full config of `name`: defaults overridden by `config`; unknown keys raise ValueError."""
    if name not in CATALOG:
        raise ValueError(f"unknown model '{name}'; the catalog has: {', '.join(CATALOG)}")
    defaults = CATALOG[name][0]
    config = dict(config or {})
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ValueError(f"config of model '{name}' has unknown fields {unknown}; fields: {sorted(defaults)}")
    return {**defaults, **config}


def build(name, config=None):
    """The PyTorch model `name` with `config` (camelCase keys as in ModelCatalog.ConfigJson)."""
    return CATALOG[name][1](config_of(name, config))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
