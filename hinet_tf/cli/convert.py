"""`hinet convert`: official PyTorch checkpoints to `.keras` models or presets, and back."""

import importlib.util
import pathlib

from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported
from hinet_tf.convert.checkpoint_io import CHECKPOINT_SUFFIXES
from hinet_tf.convert.checkpoint_io import check_checkpoint_file
from hinet_tf.convert.errors import CheckpointError

CONFIG_KEYS = ("width", "depth", "hin_levels", "in_channels", "relu_slope")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="convert an official PyTorch checkpoint to .keras or a preset, or a .keras model back",
        description=(
            "Convert an official PyTorch HINet checkpoint (.pth, or .npz of the same tensors) to a .keras "
            "model (-o) and/or a preset directory (--preset-dir, for from_preset), reading the configuration "
            "off the checkpoint; with --to-pytorch, write a .keras model's weights in the official layout "
            "(.pth as {'params': state_dict}, or .npz)."
        ),
    )
    parser.add_argument(
        "source", metavar="CHECKPOINT", help="a .pth/.npz checkpoint, or a .keras model with --to-pytorch"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="OUT.keras, or OUT.pth / OUT.npz with --to-pytorch"
    )
    parser.add_argument(
        "--preset-dir",
        metavar="DIR",
        help="write a preset directory (config.json, model.weights.h5, metadata.json) that "
        "HINetImageRestorer.from_preset(DIR) and `hinet restore --model DIR` load",
    )
    parser.add_argument("--to-pytorch", action="store_true", help="convert a .keras model to the official layout")
    parser.add_argument(
        "--preset",
        metavar="PRESET",
        help="fail unless the checkpoint has this preset's configuration (e.g. hinet_gopro)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT, or the preset in DIR, if they exist")
    parser.set_defaults(func=run)


def _check_paths(args):
    source = pathlib.Path(args.source)
    output = pathlib.Path(args.output) if args.output else None
    if args.to_pytorch:
        if output is None or args.preset_dir:
            raise CLIError("--to-pytorch writes one .pth or .npz file: give -o and no --preset-dir")
        if output.suffix.lower() not in CHECKPOINT_SUFFIXES:
            raise CLIError(f"the output of --to-pytorch must end in .pth or .npz; got {output}")
        if args.preset:
            raise CLIError("--preset checks a PyTorch checkpoint; it does not apply with --to-pytorch")
        if output.suffix.lower() != ".npz" and importlib.util.find_spec("torch") is None:
            raise CLIError(f'writing {output} needs PyTorch: install it with `pip install "hinet-tf[torch]"`, or write a .npz')
    elif output is None and not args.preset_dir:
        raise CLIError("give -o OUT.keras, --preset-dir DIR or both")
    elif output is not None and output.suffix != ".keras":
        raise CLIError(f"the output must end in .keras (or pass --to-pytorch); got {output}")
    if not args.to_pytorch and source.suffix == ".keras" and source.is_file():
        raise CLIError(f"{source} is a Keras model: pass --to-pytorch to write it as a checkpoint")
    with reported(CheckpointError):  # before TensorFlow loads
        if args.to_pytorch:
            check_checkpoint_file(source, (".keras",), kind="Keras model")
        else:
            check_checkpoint_file(source)
    if output is not None:
        if output.exists() and not args.overwrite:
            raise CLIError(f"{output} already exists; pass --overwrite to replace it")
        check_output_folder(output.parent)  # missing folders are created, as by every command
    if args.preset_dir:
        check_output_folder(pathlib.Path(args.preset_dir).parent)
    return source, output


def _print_backbone(backbone, title):
    from hinet_tf.models.hinet.hinet_presets import matching_presets

    print(title)
    config = backbone.get_config()
    for key in CONFIG_KEYS:
        print(f"  {key:<12} {config[key]}")
    print(f"  {'parameters':<12} {backbone.count_params():,}")
    print(f"  {'presets':<12} {', '.join(matching_presets(backbone)) or 'none'}")


def _to_keras(source, output, args):
    from hinet_tf.convert import CheckpointError
    from hinet_tf.convert import convert_checkpoint

    with reported(CheckpointError, ValueError, FileExistsError):
        backbone = convert_checkpoint(source, output, args.preset_dir, args.preset, overwrite=args.overwrite)
    _print_backbone(backbone, f"{source}: HINet")
    for written in (output, args.preset_dir):
        if written is not None:
            print(f"wrote {written}")


def _to_pytorch(source, output, args):
    from hinet_tf.convert import CheckpointError
    from hinet_tf.convert import load_backbone_file
    from hinet_tf.convert import save_pytorch_checkpoint

    with reported(ValueError):
        backbone = load_backbone_file(source)
    _print_backbone(backbone, f"{source}: HINet")
    with reported(ValueError, CheckpointError):
        save_pytorch_checkpoint(backbone, output, overwrite=args.overwrite)
    print(f"wrote {output} ({len(backbone.weights)} tensors, official key layout)")


def run(args):
    source, output = _check_paths(args)
    if args.to_pytorch:
        _to_pytorch(source, output, args)
    else:
        _to_keras(source, output, args)
