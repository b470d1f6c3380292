"""Where the time of one forward pass and one training step goes, per op type, in TensorFlow and PyTorch.

    python scripts/profile_ops.py --framework tensorflow --width 64 -o tf.json
    python scripts/profile_ops.py --framework torch --width 64 -o torch.json

Run each framework in its own process (as here). The forward pass is one 256x256 image
through the model `hinet restore --backend keras` runs; the training step is one step of
batch 8 of 128x128 crops of the model `trainer.build_model` compiles (TensorFlow) or of the
official step (PyTorch). Ops are traced by the TensorFlow profiler and by
`torch.profiler`; the report has the wall time of each traced run, the self time of each
op type summed over the run, and the achieved GFLOP/s of the convolutions' 2 x MACs.
"""

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hinet_tf.benchmark import LATENCY_SIZE as FORWARD_SIZE
from hinet_tf.benchmark import TRAIN_BATCH
from hinet_tf.benchmark import case_config


def _top(times, total, limit=12):
    ranked = sorted(times.items(), key=lambda item: -item[1])
    return [{"op": name, "ms": round(ms, 2), "share": round(ms / total, 3)} for name, ms in ranked[:limit]]


def profile_tensorflow(width, threads):
    import tensorflow as tf
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin

    from hinet_tf.inference import Restorer
    from hinet_tf.training.trainer import build_model
    from hinet_tf.training.xla_choice import random_batch

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    rng = np.random.default_rng(0)
    model = build_model(case_config({"width": width}))
    restorer = Restorer(model.backbone, tile=FORWARD_SIZE[0])
    image = rng.random((*FORWARD_SIZE, 3), np.float32)
    degraded, targets = random_batch((*TRAIN_BATCH, 3))
    runs = {"forward": lambda: restorer(image), "train_step": lambda: model.train_on_batch(degraded, targets)}
    report = {}
    for name, run in runs.items():
        run(), run()  # traced and warm
        with tempfile.TemporaryDirectory() as folder:
            tf.profiler.experimental.start(folder)
            start = time.perf_counter()
            run()
            wall = time.perf_counter() - start
            tf.profiler.experimental.stop()
            (xspace,) = Path(folder).rglob("*.xplane.pb")
            data, _ = _pywrap_profiler_plugin.xspace_to_tools_data([str(xspace)], "framework_op_stats", {})
        times = collections.Counter()
        for row in _op_stats_rows(data):
            if row["Host/device"] == "Host" and row["Operation Type"] != "IDLE":
                times[row["Operation Type"]] += row["Total self-time (us)"] / 1e3
        report[name] = {"wall_ms": wall * 1e3, "op_ms": sum(times.values()), "ops": _top(times, sum(times.values()))}
    return report


def _op_stats_rows(data):
    """The op rows of the profiler's `framework_op_stats` tool (a Google DataTable in JSON)."""
    table = json.loads(data.decode() if isinstance(data, bytes) else data)
    table = table[0] if isinstance(table, list) else table
    columns = [column["label"] for column in table["cols"]]
    return [dict(zip(columns, (cell["v"] if cell else None for cell in row["c"]))) for row in table["rows"]]


def profile_torch(width, threads):
    import torch

    from hinet_tf import official_benchmark

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    image = rng.random((*FORWARD_SIZE, 3), np.float32)
    config = case_config({"width": width})
    runs = {
        "forward": official_benchmark.function("latency", "torch", config, threads, image, (FORWARD_SIZE[0], 32)),
        "train_step": official_benchmark.function("train", "torch", config, threads, None, None),
    }
    report = {}
    for name, run in runs.items():
        run(), run()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
            start = time.perf_counter()
            run()
            wall = time.perf_counter() - start
        times = collections.Counter()
        for event in profiler.key_averages():
            times[event.key] += event.self_cpu_time_total / 1e3
        report[name] = {"wall_ms": wall * 1e3, "op_ms": sum(times.values()), "ops": _top(times, sum(times.values()))}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("tensorflow", "torch"), required=True)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("-o", "--output", help="JSON report (default: print only)")
    args = parser.parse_args()
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import HINetBackbone
    from hinet_tf.utils.atomic import atomic_write_text

    profile = profile_tensorflow if args.framework == "tensorflow" else profile_torch
    from hinet_tf.benchmark import machine_description

    report = {"framework": args.framework, "width": args.width, "threads": args.threads, "machine": machine_description()}
    report.update(profile(args.width, args.threads))  # first: TensorFlow's threads are set before it starts
    macs = report["forward_macs"] = count_macs(HINetBackbone(width=args.width), *FORWARD_SIZE).true
    # A training step's convolutions do about 3x the forward's work (forward, input and weight gradients).
    train_macs = 3 * macs * TRAIN_BATCH[0] * TRAIN_BATCH[1] * TRAIN_BATCH[2] / (FORWARD_SIZE[0] * FORWARD_SIZE[1])
    for name, work in (("forward", macs), ("train_step", train_macs)):
        report[name]["gflops_per_s"] = 2 * work / report[name]["wall_ms"] / 1e6
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        atomic_write_text(args.output, text, overwrite=True)


if __name__ == "__main__":
    sys.exit(main())
