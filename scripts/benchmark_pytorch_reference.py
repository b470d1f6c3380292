"""Times the official HINet architecture in PyTorch on this machine, for a side-by-side comparison.

The network is `hinet_tf.convert.official_torch.HINet`, written from the published
architecture with the official module names, so the official checkpoints load into it
strictly; with `--check FIXTURE.pth` (the repository's reference fixtures) it first proves
that it reproduces the official outputs. Then it reports the median, min and max latency of
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

from hinet_tf.convert.official_torch import HINet


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
