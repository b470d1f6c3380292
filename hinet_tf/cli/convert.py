"""`hinet convert`: official PyTorch checkpoints to `.keras` models, and back."""

import pathlib

from hinet_tf.cli.errors import CLIError

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".npz")
CONFIG_KEYS = ("width", "depth", "hin_levels", "in_channels", "relu_slope")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="convert an official PyTorch checkpoint to .keras, or a .keras model back",
        description=(
            "Convert an official PyTorch HINet checkpoint (.pth, or .npz of the same tensors) to a .keras "
            "model, reading the configuration off the checkpoint; with --to-pytorch, write a .keras model's "
            "weights in the official layout (.pth as {'params': state_dict}, or .npz)."
        ),
    )
    parser.add_argument(
        "source", metavar="CHECKPOINT", help="a .pth/.npz checkpoint, or a .keras model with --to-pytorch"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="OUT.keras, or OUT.pth / OUT.npz with --to-pytorch"
    )
    parser.add_argument("--to-pytorch", action="store_true", help="convert a .keras model to the official layout")
    parser.add_argument(
        "--preset",
        metavar="PRESET",
        help="fail unless the checkpoint has this preset's configuration (e.g. hinet_gopro)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.set_defaults(func=run)


def _check_paths(args):
    source, output = pathlib.Path(args.source), pathlib.Path(args.output)
    if args.to_pytorch:
        if source.suffix != ".keras":
            raise CLIError(f"--to-pytorch converts a .keras model; got {source}")
        if output.suffix.lower() not in CHECKPOINT_SUFFIXES:
            raise CLIError(f"the output of --to-pytorch must end in .pth or .npz; got {output}")
        if args.preset:
            raise CLIError("--preset checks a PyTorch checkpoint; it does not apply with --to-pytorch")
    elif output.suffix != ".keras":
        raise CLIError(f"the output must end in .keras (or pass --to-pytorch); got {output}")
    if not source.is_file():
        raise CLIError(f"{source}: no such file")
    if output.exists() and not args.overwrite:
        raise CLIError(f"{output} already exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise CLIError(f"{output.parent}: no such directory")
    return source, output


def matching_presets(model):
    """Names of the presets whose configuration is `model`'s."""
    from hinet_tf.models.presets import PRESETS

    config = model.get_config()
    matches = []
    for name in PRESETS:
        preset = {**config, **PRESETS[name]["config"]}
        levels = preset["hin_levels"]
        preset["hin_levels"] = list(range(preset["depth"]) if levels is None else levels)
        if preset == config:
            matches.append(name)
    return matches


def _print_model(model, title):
    print(title)
    config = model.get_config()
    for key in CONFIG_KEYS:
        print(f"  {key:<12} {config[key]}")
    print(f"  {'parameters':<12} {model.count_params():,}")
    print(f"  {'presets':<12} {', '.join(matching_presets(model)) or 'none'}")


def _to_keras(source, output, args):
    from hinet_tf.convert import CheckpointError
    from hinet_tf.convert import from_pytorch
    from hinet_tf.models.presets import PRESETS
    from hinet_tf.utils.atomic import atomic_write

    expected = {}
    if args.preset:
        if args.preset not in PRESETS:
            raise CLIError(f"unknown preset {args.preset!r}; choose one of: {', '.join(PRESETS)}")
        expected = PRESETS[args.preset]["config"]
    try:
        model = from_pytorch(source, **expected)
    except CheckpointError as error:
        raise CLIError(str(error)) from error
    _print_model(model, f"{source}: HINet")
    with atomic_write(output, overwrite=args.overwrite) as temporary:
        model.save(temporary)
    print(f"wrote {output}")


def _to_pytorch(source, output, args):
    import zipfile

    import keras

    from hinet_tf.convert import CheckpointError
    from hinet_tf.convert import save_pytorch_checkpoint
    from hinet_tf.models import HINet

    if not zipfile.is_zipfile(source):
        raise CLIError(f"{source} is not a .keras model (not a zip archive: truncated, or another format)")
    try:
        model = keras.saving.load_model(source, compile=False)
    except (ValueError, OSError) as error:
        raise CLIError(f"{source} is not a readable .keras model: {error}") from error
    if not isinstance(model, HINet):
        raise CLIError(f"{source} holds a {type(model).__name__}, not a HINet model")
    _print_model(model, f"{source}: HINet")
    try:
        save_pytorch_checkpoint(model, output, overwrite=args.overwrite)
    except (ValueError, CheckpointError) as error:
        raise CLIError(str(error)) from error
    print(f"wrote {output} ({len(model.weights)} tensors, official key layout)")


def run(args):
    source, output = _check_paths(args)
    if args.to_pytorch:
        _to_pytorch(source, output, args)
    else:
        _to_keras(source, output, args)
