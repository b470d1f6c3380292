"""`hinet export`: a model as a SavedModel (TF Serving) or a LiteRT `.tflite` file."""

from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a model as a SavedModel or a LiteRT (.tflite) file",
        description=(
            "Export a model for serving. SavedModel: signatures serving_default (float32 images in [0, 1]) and "
            "serving_uint8, any height and width. LiteRT: a dynamic-size model, or with --tile a fixed "
            "1 x TILE x TILE model for GPU delegates; --fp16 or --int8-dynamic shrink the weights."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="a .keras file or a preset name (random weights)")
    parser.add_argument("--format", required=True, choices=("savedmodel", "tflite"), help="what to write")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="SavedModel folder or .tflite file")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--fp16", action="store_true", help="LiteRT: float16 weights")
    weights.add_argument("--int8-dynamic", action="store_true", help="LiteRT: int8 weights (dynamic range)")
    parser.add_argument("--tile", type=at_least(1), help="LiteRT: a fixed 1 x TILE x TILE input instead of any size")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.set_defaults(func=run)


def run(args):
    output = Path(args.output)
    if args.format == "savedmodel" and (args.fp16 or args.int8_dynamic or args.tile):
        raise CLIError("--fp16, --int8-dynamic and --tile apply to --format tflite")
    if output.exists() and not args.overwrite:
        raise CLIError(f"{output} exists; pass --overwrite to replace it")
    check_output_folder(output.parent)  # before the model load and the conversion

    from hinet_tf.cli.restore import load_models
    from hinet_tf.export import export_litert
    from hinet_tf.export import export_saved_model

    try:
        (model,) = load_models([args.model])
        if args.format == "savedmodel":
            export_saved_model(model, output, overwrite=args.overwrite)
        else:
            quantization = "fp16" if args.fp16 else "int8_dynamic" if args.int8_dynamic else None
            export_litert(model, output, tile=args.tile, quantization=quantization)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        raise CLIError(str(error)) from None
    print(f"wrote {output}")
