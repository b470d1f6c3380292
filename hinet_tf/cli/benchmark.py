"""`hinet benchmark`: latency, training throughput and memory per execution path."""

import json
import os

from hinet_tf.cli.errors import CLIError

REFERENCE_PYTORCH_LATENCY_S = {64: 3.3, 32: 1.0}  # official model, PyTorch 2.13 CPU, 2 threads, 2-core AVX2


def add_parser(subparsers):
    from hinet_tf.benchmark import BACKENDS
    from hinet_tf.benchmark import TASKS

    parser = subparsers.add_parser(
        "benchmark",
        help="measure latency, training throughput and memory",
        description=(
            "Measure HINet per execution path (plain Keras, XLA, LiteRT/XNNPACK): latency at 256x256, "
            "one 720x1280 frame by 256-pixel tiles, training patches per second (batch 8 of 128x128) "
            "and peak resident memory. Each case runs in its own process. Full runs take tens of minutes "
            "on a 2-core CPU."
        ),
    )
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 32], help="model widths (default 64 32)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow / LiteRT threads (default 2)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per case")
    parser.add_argument("-o", "--output", default="benchmark.json", help="JSON report (default benchmark.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")
    parser.set_defaults(func=run)


def _row(result):
    if "error" in result:
        return f"{result['task']:<8} {result['backend']:<7} {result['width']:>5}  error: {result['error']}"
    row = (
        f"{result['task']:<8} {result['backend']:<7} {result['width']:>5}  "
        f"{result['median_s']:>8.3f} {result['min_s']:>8.3f} {result['max_s']:>8.3f}  {result['peak_rss_mib']:>8.0f}"
    )
    if result["task"] == "train":
        row += f"  {result['patches_per_s']:.2f} patches/s"
    elif result["task"] == "latency" and result["width"] in REFERENCE_PYTORCH_LATENCY_S:
        row += f"  {result['median_s'] / REFERENCE_PYTORCH_LATENCY_S[result['width']]:.2f}x PyTorch"
    return row


def run(args):
    if os.path.exists(args.output) and not args.overwrite:
        raise CLIError(f"{args.output} exists; pass --overwrite to replace it")
    if args.runs < 1 or args.warmup < 0 or args.threads < 1:
        raise CLIError("--runs and --threads must be at least 1, --warmup at least 0")
    from hinet_tf import benchmark
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import HINetBackbone
    from hinet_tf.utils.atomic import atomic_write_text

    report = {"machine": benchmark.machine_description(), "threads": args.threads, "models": {}, "results": []}
    print(f"{report['machine']['cpu']}, {report['machine']['cores']} cores, {args.threads} threads")
    for width in args.widths:
        model = HINetBackbone(width=width)
        macs = count_macs(model, *benchmark.LATENCY_SIZE)
        report["models"][width] = {"parameters": model.count_params(), "macs_true": macs.true, "macs_paper": macs.paper}
        print(f"width {width}: {model.count_params():,} parameters, MACs at 256x256: "
              f"{macs.true / 1e9:.2f} G true, {macs.paper / 1e9:.2f} G as the paper counts")
    print(f"{'task':<8} {'path':<7} {'width':>5}  {'median':>8} {'min':>8} {'max':>8}  {'peak MiB':>8}")
    for task in args.tasks:
        for width in args.widths:
            for backend in args.backends:
                if task == "train" and backend == "litert":
                    continue
                case = {"task": task, "backend": backend, "width": width}
                result = benchmark.run_in_subprocess(case, args.threads, args.runs, args.warmup, args.timeout)
                report["results"].append(result)
                print(_row(result), flush=True)
    report["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    atomic_write_text(args.output, json.dumps(report, indent=2))
    print(f"Wrote {args.output}")
    return 1 if any("error" in result for result in report["results"]) else 0
