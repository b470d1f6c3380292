"""Times the official HINet architecture in PyTorch on this machine, for a side-by-side comparison.

The network is written here from the published architecture (see HINET_REFERENCE.md) with
the official module names, so the official checkpoints load into it strictly; with
`--check FIXTURE.pth` (the repository's reference fixtures) it first proves that it
reproduces the official outputs. Then it reports the median, min and max latency of
`--runs` forward passes (no_grad, after two warm-ups) at 1x3x256x256 for each width.

    python scripts/benchmark_pytorch_reference.py --widths 64 32 --threads 2 \
        --check ../shared/fixtures/hinet_wf8_hin0-4.pth
"""

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn


class ConvBlock(nn.Module):
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
    def __init__(self, in_size, out_size):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_size, out_size, 2, stride=2)
        self.conv_block = ConvBlock(in_size, out_size, False)

    def forward(self, x, bridge):
        return self.conv_block(torch.cat([self.up(x), bridge], dim=1))


class SAM(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, 3, 3, padding=1)
        self.conv3 = nn.Conv2d(3, features, 3, padding=1)

    def forward(self, x, image):
        restored = self.conv2(x) + image
        return self.conv1(x) * torch.sigmoid(self.conv3(restored)) + x, restored


class HINet(nn.Module):
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
            setattr(self, f"up_path_{stage}", nn.ModuleList(UpBlock(widths[i + 1], widths[i]) for i in reversed(range(depth - 1))))
            setattr(self, f"skip_conv_{stage}", nn.ModuleList(nn.Conv2d(widths[i], widths[i], 3, padding=1) for i in reversed(range(depth - 1))))
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


def check_fixture(path):
    """Loads an official-format fixture strictly and returns the max output difference."""
    arrays = np.load(str(path).replace(".pth", ".npz"))
    wf, depth, left, right = (int(value) for value in arrays["config"])
    model = HINet(wf, depth, tuple(range(left, right + 1))).eval()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True)["params"], strict=True)
    with torch.no_grad():
        stage1, stage2 = model(torch.from_numpy(arrays["input_nchw"]))
    return max(
        float(np.abs(stage1.numpy() - arrays["stage1_nchw"]).max()),
        float(np.abs(stage2.numpy() - arrays["stage2_nchw"]).max()),
    )


def time_width(width, runs):
    model = HINet(width).eval()
    images = torch.rand(1, 3, 256, 256)
    seconds = []
    with torch.no_grad():
        for _ in range(2):
            model(images)
        for _ in range(runs):
            start = time.perf_counter()
            model(images)
            seconds.append(time.perf_counter() - start)
    return {"width": width, "median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", metavar="FIXTURE.pth", help="an official-format fixture with its .npz beside it")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        print(f"fixture {args.check}: max output difference {check_fixture(args.check):.2e}")
    for width in args.widths:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads, **time_width(width, args.runs)}), flush=True)


if __name__ == "__main__":
    main()
