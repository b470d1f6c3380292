"""`hinet info`: a configuration's parameters and MACs."""

from hinet_tf.cli.errors import CLIError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="print a preset's configuration, parameters and MACs",
        description="Print a preset's configuration, parameter count and MACs (true and as the paper counts).",
    )
    parser.add_argument("preset", metavar="PRESET", help="a preset name, e.g. hinet_1x, hinet_0.5x, hinet_gopro")
    parser.add_argument("--size", type=int, nargs=2, default=(256, 256), metavar=("H", "W"), help="input size")
    parser.set_defaults(func=run)


def run(args):
    from hinet_tf.models.presets import PRESETS

    if args.preset not in PRESETS:
        raise CLIError(f"unknown preset {args.preset!r}; choose one of: {', '.join(PRESETS)}")
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import HINet

    height, width = args.size
    model = HINet.from_preset(args.preset)
    if height % model.size_multiple or width % model.size_multiple:
        raise CLIError(f"--size must be multiples of {model.size_multiple}, got {height} x {width}")
    macs = count_macs(model, height, width)
    print(f"{args.preset}: {PRESETS[args.preset]['description']}")
    for key, value in model.get_config().items():
        if key not in ("name", "trainable", "dtype"):
            print(f"  {key:<17} {value}")
    print(f"  {'parameters':<17} {model.count_params():,}")
    print(f"  {'weight tensors':<17} {len(model.weights)}")
    print(f"  MACs at 1x3x{height}x{width}: {macs.true / 1e9:.2f} G true, {macs.paper / 1e9:.2f} G as the paper counts")
