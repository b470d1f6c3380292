"""`hinet benchmark`: the time and memory of `hinet restore`'s and `hinet train`'s code paths, against the official model."""

import json
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.tiles import DEFAULT_TILE
from hinet_tf.utils.tiles import USUAL_MULTIPLE
from hinet_tf.utils.tiles import check_tile


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
            "onnx) for one 256x256 image and one 720x1280 frame in `hinet restore`'s tiles, and one training step "
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
        default=[DEFAULT_TILE],
        help=f"tile sizes of the photo task, multiples of 16, overlap 32 (default {DEFAULT_TILE}; the sweep: 256 384 512)",
    )
    parser.add_argument("--config", help="a training recipe (YAML) whose model, loss and optimizer to use (default: the defaults)")
    parser.add_argument("--rounds", type=at_least(1), default=3, help="processes per case, the paths taking turns (default 3)")
    parser.add_argument("--runs", type=at_least(1), default=5, help="timed runs per process (default 5)")
    parser.add_argument("--warmup", type=at_least(0), default=2, help="untimed runs first (default 2)")
    parser.add_argument("--threads", type=at_least(1), default=2, help="threads of every runtime (default 2)")
    parser.add_argument("--timeout", type=at_least(1), default=3600, help="seconds allowed per process")
    parser.add_argument("-o", "--output", default="benchmark.json", help="JSON report (default benchmark.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")
    parser.set_defaults(func=run)


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


def run(args):
    # The report's rule (a file, replaced only with --overwrite), before tens of minutes of timing.
    with reported(FileExistsError):
        check_replaceable(args.output, args.overwrite)
    check_output_folder(Path(args.output).parent)  # before tens of minutes of timing
    from hinet_tf.benchmark import OVERLAP
    from hinet_tf.benchmark import run_benchmark
    from hinet_tf.training.config import load_config
    from hinet_tf.training.config import validate

    with reported(ValueError):  # the recipe at each width, before tens of minutes of timing
        config = load_config(args.config) if args.config else validate({})
    for width in args.widths:
        with reported(ValueError, prefix=f"--widths {width}: "):
            config.replace(model={"width": width})
    for tile in args.tiles:
        with reported(ValueError, prefix="--tiles: "):
            check_tile(tile, USUAL_MULTIPLE, OVERLAP)
    from hinet_tf.utils.atomic import atomic_write_text

    report = run_benchmark(
        args.paths, args.tasks, args.widths, args.threads, args.rounds, args.runs, args.warmup, args.timeout,
        args.config, args.megapixels, args.tiles,
    )
    print(f"{'task':<8} {'path':<10} {'width':>5}  {'median':>8} {'peak MiB':>8} {'procs':>5} {'GFLOP/s':>7}")
    errors = [result for result in report["results"] if "error" in result]
    for row in [*report["summary"], *errors]:
        print(_row(row))
    atomic_write_text(args.output, json.dumps(report, indent=2), args.overwrite)
    print(f"Wrote {args.output}")
    if errors:
        raise CLIError(f"{len(errors)} of {len(report['results'])} benchmark processes failed (their errors are above)")
