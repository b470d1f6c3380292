"""Measures the training input pipeline's throughput in 256x256 (degraded, target) pairs per second.

Without --data it writes a temporary GoPro-like folder (1280x720 PNG pairs) and times:
decoding PNG pairs with one or four crops per image, the same pairs from TFRecord shards,
and clean photos with on-the-fly Gaussian noise. With --data it times that folder instead.

    python scripts/benchmark_input_pipeline.py
    python scripts/benchmark_input_pipeline.py --data GoPro --layout gopro --batches 50
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from hinet_tf.data import layouts  # noqa: E402
from hinet_tf.data import paired  # noqa: E402
from hinet_tf.data import synthetic  # noqa: E402
from hinet_tf.data import tfrecord  # noqa: E402


def write_pairs(root, count, height, width):
    """GoPro-like pairs: a textured image and a blurred copy, as 8-bit PNG files."""
    rng = np.random.default_rng(0)
    for index in range(count):
        y, x = np.mgrid[0:height, 0:width] / width
        base = np.stack([np.sin(8 * x + 5 * y + phase) for phase in rng.uniform(0, 6, 3)], axis=-1)
        sharp = np.clip(0.5 + 0.3 * base + 0.1 * rng.standard_normal((height, width, 3)), 0, 1)
        blurred = (sharp + np.roll(sharp, 3, axis=1) + np.roll(sharp, -3, axis=1)) / 3
        for folder, image in (("input", blurred), ("target", sharp)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray((image * 255).astype(np.uint8)).save(root / folder / f"{index:04d}.png")


def pairs_per_second(batches, batch_size, warmup, count):
    iterator = iter(batches)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(count):
        next(iterator)
    return count * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a data set folder (default: a generated GoPro-like folder)")
    parser.add_argument("--layout", default="pairs", choices=layouts.LAYOUTS)
    parser.add_argument("--pairs", type=int, default=24, help="generated pairs (without --data)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20, help="batches timed after 3 warm-up batches")
    args = parser.parse_args()

    print(f"tf.data, {os.cpu_count()} CPU cores, crop {args.crop}, batch {args.batch}:")
    with tempfile.TemporaryDirectory() as temporary:
        if args.data:
            pairs = layouts.list_pairs(args.data, args.layout)
        else:
            write_pairs(Path(temporary) / "pairs", args.pairs, 720, 1280)
            pairs = layouts.list_pairs(Path(temporary) / "pairs", "pairs")
        shards = Path(temporary) / "shards"
        tfrecord.write_shards(tfrecord.file_records(pairs), shards, "train", 4)
        noise = synthetic.build_degradation([{"type": "gaussian_noise", "sigma": [0, 50]}])
        sources = {
            "PNG/JPEG pairs, 1 crop per image": (paired.image_pairs(pairs, shuffle=True), None, 1),
            "PNG/JPEG pairs, 4 crops per image": (paired.image_pairs(pairs, shuffle=True), None, 4),
            "TFRecord shards, 1 crop per image": (tfrecord.tfrecord_pairs(shards, "train", shuffle=True), None, 1),
            "clean photos + Gaussian noise, 1 crop": (paired.clean_images([t for _, t in pairs], True), noise, 1),
        }
        for name, (images, degrade, patches) in sources.items():
            batches = paired.training_batches(images, args.crop, args.batch, degrade=degrade, patches_per_image=patches)
            rate = pairs_per_second(batches, args.batch, 3, args.batches)
            print(f"  {name:<40} {rate:8.1f} pairs/s")


if __name__ == "__main__":
    tf.get_logger().setLevel("ERROR")
    main()
