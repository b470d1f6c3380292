"""`hinet info`: a model's configuration, parameters and MACs, and the backends `auto` chose for it on this CPU."""

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="print a model's configuration, parameters and MACs",
        description=(
            "Print a preset's configuration, parameter count and MACs (true and as the paper counts), "
            "and the backends `hinet restore --backend auto` chose for it on this CPU, with the times behind them."
        ),
    )
    parser.add_argument(
        "preset", metavar="MODEL", help="a preset name (e.g. hinet_1x, hinet_gopro), a preset directory or a .keras file"
    )
    parser.add_argument("--size", type=at_least(1), nargs=2, default=(256, 256), metavar=("H", "W"), help="input size")
    parser.set_defaults(func=run)


def run(args):
    from hinet_tf.complexity import count_macs
    from hinet_tf.models import PRESETS
    from hinet_tf.models import HINetBackbone
    from hinet_tf.models.hinet.hinet_presets import is_architecture_preset
    from hinet_tf.models.loading import load_model

    is_file = args.preset.endswith(".keras")
    untrained = is_architecture_preset(args.preset)
    # With the weights, and as `hinet restore` loads it: its backend choices are keyed so.
    with reported(ValueError, FileNotFoundError):
        model = None if untrained else load_model(args.preset)
        backbone = getattr(model, "backbone", None)
        if untrained:
            backbone = HINetBackbone.from_preset(args.preset, load_weights=False)
    if not isinstance(backbone, HINetBackbone):  # `load_model` returns other models of images as they are
        raise CLIError(f"{args.preset} holds no HINet model")
    height, width = args.size
    if height % backbone.size_multiple or width % backbone.size_multiple:
        raise CLIError(f"--size must be multiples of {backbone.size_multiple}, got {height} x {width}")
    macs = count_macs(backbone, height, width)
    description = PRESETS[args.preset]["description"] if args.preset in PRESETS else "a preset directory"
    description = "a .keras model" if is_file else description
    print(f"{args.preset}: {description}")
    for key, value in backbone.get_config().items():
        if key not in ("name", "trainable", "dtype"):
            print(f"  {key:<17} {value}")
    print(f"  {'parameters':<17} {backbone.count_params():,}")
    print(f"  {'weight tensors':<17} {len(backbone.weights)}")
    print(f"  MACs at 1x3x{height}x{width}: {macs.true / 1e9:.2f} G true, {macs.paper / 1e9:.2f} G as the paper counts")
    _print_backend_choices(model)


def _print_backend_choices(model):
    """The choices `Restorer(backend="auto")` cached for `model` on this CPU, one line each with its times."""
    from hinet_tf.inference.backend_choice import cached_choices
    from hinet_tf.inference.conversion_cache import fingerprint
    from hinet_tf.models import float32_restorer
    from hinet_tf.utils.machine import cpu_description
    from hinet_tf.utils.machine import cpu_label

    cpu = cpu_description()
    print(f"{cpu_label(cpu)}, {cpu['cores']} cores, {' '.join(cpu['isa_flags']) or 'no ISA flags known'}")
    if model is None:
        print("  backend choices: none (an architecture without weights, which `hinet restore` does not run)")
        return
    choices = cached_choices(fingerprint([float32_restorer(model)]))  # the model as the Restorer keys it
    if not choices:
        print("  backend choices: none measured for this model on this CPU yet (the first `hinet restore` measures)")
    for choice in choices:
        print(f"  {choice.summary()}")
