"""The official HINet architecture and training step in PyTorch, for parity tests and side-by-side benchmarks.

Written from the published architecture (see HINET_REFERENCE.md) with the official module
names, so official checkpoints load into it strictly (`HINet(wf, depth, hin_levels)`; the
tests check that it reproduces the official reference outputs), and from BasicSR's
`optimize_parameters` (`training_step`). Needs PyTorch.
"""

import math

import torch
from torch import nn


class ConvBlock(nn.Module):
    """`UNetConvBlock`: conv, optional half instance norm, conv, identity, optional CSFF and downsample."""

    def __init__(self, in_size, out_size, downsample, use_csff=False, use_hin=False):
        super().__init__()
        self.identity = nn.Conv2d(in_size, out_size, 1)
        self.conv_1 = nn.Conv2d(in_size, out_size, 3, padding=1)
        self.conv_2 = nn.Conv2d(out_size, out_size, 3, padding=1)
        if downsample and use_csff:
            self.csff_enc = nn.Conv2d(out_size, out_size, 3, padding=1)
            self.csff_dec = nn.Conv2d(out_size, out_size, 3, padding=1)
        self.norm = nn.InstanceNorm2d(out_size // 2, affine=True) if use_hin else None
        self.downsample = nn.Conv2d(out_size, out_size, 4, stride=2, padding=1, bias=False) if downsample else None

    def forward(self, x, enc=None, dec=None):
        out = self.conv_1(x)
        if self.norm is not None:
            first, second = torch.chunk(out, 2, dim=1)
            out = torch.cat([self.norm(first), second], dim=1)
        out = nn.functional.leaky_relu(out, 0.2)
        out = nn.functional.leaky_relu(self.conv_2(out), 0.2) + self.identity(x)
        if enc is not None:
            out = out + self.csff_enc(enc) + self.csff_dec(dec)
        if self.downsample is None:
            return out
        return self.downsample(out), out


class UpBlock(nn.Module):
    """`UNetUpBlock`: transposed conv, concatenation with the skip, then a conv block."""

    def __init__(self, in_size, out_size):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_size, out_size, 2, stride=2)
        self.conv_block = ConvBlock(in_size, out_size, False)

    def forward(self, x, bridge):
        return self.conv_block(torch.cat([self.up(x), bridge], dim=1))


class SAM(nn.Module):
    """Supervised attention: returns the attended features and the stage-1 image."""

    def __init__(self, features):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, 3, 3, padding=1)
        self.conv3 = nn.Conv2d(3, features, 3, padding=1)

    def forward(self, x, image):
        restored = self.conv2(x) + image
        return self.conv1(x) * torch.sigmoid(self.conv3(restored)) + x, restored


class HINet(nn.Module):
    """The official `HINet(wf, depth, hin_position_left, hin_position_right)` with `hin_levels` given as a tuple."""

    def __init__(self, wf=64, depth=5, hin_levels=(0, 1, 2, 3, 4)):
        super().__init__()
        self.depth = depth
        widths = [wf * 2**level for level in range(depth)]
        self.conv_01 = nn.Conv2d(3, wf, 3, padding=1)
        self.conv_02 = nn.Conv2d(3, wf, 3, padding=1)
        for stage in (1, 2):
            down = nn.ModuleList()
            previous = wf
            for level, width in enumerate(widths):
                downsample = level + 1 < depth
                down.append(ConvBlock(previous, width, downsample, stage == 2, level in hin_levels))
                previous = width
            setattr(self, f"down_path_{stage}", down)
            upper_levels = list(reversed(range(depth - 1)))
            setattr(self, f"up_path_{stage}", nn.ModuleList(UpBlock(widths[i + 1], widths[i]) for i in upper_levels))
            skip_convs = nn.ModuleList(nn.Conv2d(widths[i], widths[i], 3, padding=1) for i in upper_levels)
            setattr(self, f"skip_conv_{stage}", skip_convs)
        self.sam12 = SAM(wf)
        self.cat12 = nn.Conv2d(2 * wf, wf, 1)
        self.last = nn.Conv2d(wf, 3, 3, padding=1)

    def forward(self, image):
        x, encoders, decoders = self.conv_01(image), [], []
        for level, block in enumerate(self.down_path_1):
            if level + 1 < self.depth:
                x, skip = block(x)
                encoders.append(skip)
            else:
                x = block(x)
        for index, block in enumerate(self.up_path_1):
            x = block(x, self.skip_conv_1[index](encoders[-index - 1]))
            decoders.append(x)
        features, stage1 = self.sam12(x, image)
        x, skips = self.cat12(torch.cat([self.conv_02(image), features], dim=1)), []
        for level, block in enumerate(self.down_path_2):
            if level + 1 < self.depth:
                x, skip = block(x, encoders[level], decoders[-level - 1])
                skips.append(skip)
            else:
                x = block(x)
        for index, block in enumerate(self.up_path_2):
            x = block(x, self.skip_conv_2[index](skips[-index - 1]))
        return [stage1, self.last(x) + image]


def training_step(network, config):
    """BasicSR's `optimize_parameters` for `network`: a function `step(degraded, target)` returning the loss.

    The stage losses of `config.loss` ("psnr" or "l1", times its weight) are summed, the
    gradients clipped to `config.optimizer.clip_norm` (none if that is None) and
    `torch.optim.Adam` steps; the cosine schedule
    over `config.train.steps` steps advances before every step but the first. NCHW tensors.
    """
    loss_config, optimizer_config = config.loss, config.optimizer
    if loss_config.name not in ("psnr", "l1"):
        raise ValueError(f"The official step is written out for the psnr and l1 losses, not {loss_config.name!r}.")
    optimizer = torch.optim.Adam(
        network.parameters(),
        lr=optimizer_config.learning_rate,
        betas=(optimizer_config.beta_1, optimizer_config.beta_2),
        eps=optimizer_config.epsilon,
        weight_decay=0,
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.train.steps, eta_min=optimizer_config.min_learning_rate
    )

    def pixel_loss(prediction, target):
        if loss_config.name == "l1":
            return loss_config.weight * nn.functional.l1_loss(prediction, target)
        mse = ((prediction - target) ** 2).mean(dim=(1, 2, 3))
        return loss_config.weight * 10 / math.log(10) * torch.log(mse + 1e-8).mean()

    steps_taken = 0

    def step(degraded, target):
        nonlocal steps_taken
        if steps_taken:
            scheduler.step()
        steps_taken += 1
        optimizer.zero_grad()
        loss = sum(pixel_loss(prediction, target) for prediction in network(degraded))
        loss.backward()
        if optimizer_config.clip_norm is not None:
            nn.utils.clip_grad_norm_(network.parameters(), optimizer_config.clip_norm)
        optimizer.step()
        return loss

    return step
