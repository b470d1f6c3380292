"""`hinet benchmark`: the time and memory of `hinet restore`'s and `hinet train`'s code paths, against the official model."""

import json
import os
import tempfile
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError


def add_parser(subparsers):
    from hinet_tf.benchmark import DEFAULT_TASKS
    from hinet_tf.benchmark import PATHS
    from hinet_tf.benchmark import PHOTO_SIZES
    from hinet_tf.benchmark import TASKS

    parser = subparsers.add_parser(
        "benchmark",
        help="measure latency, training step time and memory against the official model",
        description=(
            "Time the paths `hinet restore` and `hinet train` run: the Restorer on each backend (keras, litert, "
            "onnx) for one 256x256 image and one 720x1280 frame in 256-pixel tiles, and one training step "
            "(batch 8 of 128x128) of the model the trainer compiles; with --tasks photo, photos of 1, 12 and 24 "
            "megapixels (seconds per megapixel, peak memory) in tiles of each --tiles size. With torch installed, "
            "the official PyTorch model (torch) and its ONNX export on onnxruntime (torch_onnx) side by side. Every case runs in its "
            "own process, the paths taking turns for --rounds rounds; the report holds each process and, per "
            "path, the median over processes and its ratio to each official path. Conversions run beforehand, "
            "in processes of their own. Full runs take tens of minutes on a 2-core CPU."
        ),
    )
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32], help="model widths (default 64 32)")
    parser.add_argument(
        "--paths", nargs="+", choices=PATHS, default=list(PATHS), help="paths (default all; missing packages are skipped)"
    )
    parser.add_argument(
        "--tasks", nargs="+", choices=TASKS, default=list(DEFAULT_TASKS), help=f"default {' '.join(DEFAULT_TASKS)}"
    )
    parser.add_argument(
        "--megapixels",
        type=int,
        nargs="+",
        choices=sorted(PHOTO_SIZES),
        default=sorted(PHOTO_SIZES),
        help="photo sizes of the photo task (default 1 12 24)",
    )
    parser.add_argument(
        "--tiles",
        type=at_least(16),
        nargs="+",
        default=[256],
        help="tile sizes of the photo task, multiples of 16, overlap 32 (default 256; the sweep: 256 384 512)",
    )
    parser.add_argument("--config", help="a training recipe (YAML) whose model, loss and optimizer to use (default: the defaults)")
    parser.add_argument("--rounds", type=at_least(1), default=3, help="processes per case, the paths taking turns (default 3)")
    parser.add_argument("--runs", type=at_least(1), default=5, help="timed runs per process (default 5)")
    parser.add_argument("--warmup", type=at_least(0), default=2, help="untimed runs first (default 2)")
    parser.add_argument("--threads", type=at_least(1), default=2, help="threads of every runtime (default 2)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per process")
    parser.add_argument("-o", "--output", default="benchmark.json", help="JSON report (default benchmark.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")
    parser.set_defaults(func=run)


def _installed(path):
    """Whether the packages a path needs are installed (a path without them is skipped)."""
    import importlib.util

    needs = {"litert": ["ai_edge_litert"], "onnx": ["onnxruntime", "onnx", "tf2onnx"], "torch": ["torch"]}
    needs["torch_onnx"] = ["torch", "onnxruntime", "onnx"]
    return all(importlib.util.find_spec(name) is not None for name in needs.get(path, []))


def _row(result):
    head = f"{result['task']:<8} {result['path']:<10} {result['width']:>5}"
    if result["task"] == "photo":
        head += f"  {result['megapixels']:>2} MP, tile {result['tile']}"
    if "error" in result:
        return f"{head}  error: {result['error']}"
    row = f"{head}  {result['median_s']:>8.3f} {result['peak_rss_mib']:>8.0f} {result['processes']:>5}"
    row += f" {result['gflop_per_s']:>7.0f}" if "gflop_per_s" in result else f" {'-':>7}"
    if "s_per_megapixel" in result:
        row += f"  {result['s_per_megapixel']:.3f} s/MP"
    return row + "".join(
        f"  {result[key]:.2f}x {key[len('ratio_to_'):]}" for key in sorted(result) if key.startswith("ratio_to_")
    )


def _photo_sizes(args):
    """The photo task's `{"megapixels", "tile"}` pairs, the tile sizes of each photo side by side."""
    return [{"megapixels": megapixels, "tile": tile} for megapixels in args.megapixels for tile in args.tiles]


def run(args):
    if os.path.exists(args.output) and not args.overwrite:
        raise CLIError(f"{args.output} exists; pass --overwrite to replace it")
    check_output_folder(Path(args.output).parent)  # before tens of minutes of timing
    if any(tile % 16 for tile in args.tiles):
        raise CLIError(f"--tiles must be multiples of 16 (the model's size multiple), got {' '.join(map(str, args.tiles))}")
    from hinet_tf import benchmark
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import HINetBackbone
    from hinet_tf.utils.atomic import atomic_write_text

    paths = [path for path in args.paths if _installed(path)]
    skipped = sorted(set(args.paths) - set(paths))
    report = {"machine": benchmark.machine_description(), "threads": args.threads, "skipped_paths": skipped}
    report.update(models={}, results=[])
    machine = report["machine"]
    print(f"{machine['cpu']} ({' '.join(machine['isa_flags'])}), {machine['cores']} cores, {args.threads} threads")
    if skipped:
        print(f"skipped (not installed): {', '.join(skipped)}")
    for width in args.widths:
        model = HINetBackbone(width=width)
        macs = count_macs(model, *benchmark.LATENCY_SIZE)
        report["models"][width] = {"parameters": model.count_params(), "macs_true": macs.true, "macs_paper": macs.paper}
        print(f"width {width}: {model.count_params():,} parameters, MACs at 256x256: "
              f"{macs.true / 1e9:.2f} G true, {macs.paper / 1e9:.2f} G as the paper counts")
    with tempfile.TemporaryDirectory(prefix="hinet-benchmark-cache-") as cache:
        for task in args.tasks:
            for width in args.widths:
                sizes = _photo_sizes(args) if task == "photo" else [{}]
                cases = [
                    {"task": task, "path": path, "width": width, "config": args.config, **size}
                    for size in sizes
                    for path in paths
                    if path in (benchmark.TRAIN_PATHS if task == "train" else benchmark.PATHS)
                ]
                prepared_keys = set()
                for case in filter(benchmark.needs_preparation, cases):  # in processes of their own, before any timing
                    key = (case["path"], case.get("tile"), case.get("megapixels"))
                    if key not in prepared_keys:
                        prepared_keys.add(key)
                        prepared = benchmark.run_in_subprocess(case, args.threads, 1, 0, args.timeout, True, cache)
                        if "error" in prepared:
                            report["results"].append(prepared)
                for round_index in range(args.rounds):
                    for case in cases:
                        result = benchmark.run_in_subprocess(case, args.threads, args.runs, args.warmup, args.timeout, cache=cache)
                        report["results"].append({**result, "round": round_index})
    macs = {width: model["macs_true"] for width, model in report["models"].items()}
    report["summary"] = benchmark.summarize(report["results"], macs)
    report["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    print(f"{'task':<8} {'path':<10} {'width':>5}  {'median':>8} {'peak MiB':>8} {'procs':>5} {'GFLOP/s':>7}")
    errors = [result for result in report["results"] if "error" in result]
    for row in [*report["summary"], *errors]:
        print(_row(row))
    atomic_write_text(args.output, json.dumps(report, indent=2), args.overwrite)
    print(f"Wrote {args.output}")
    return 1 if errors else 0
