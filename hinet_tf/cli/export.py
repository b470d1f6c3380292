"""`hinet export`: a model as a SavedModel (TF Serving), a LiteRT `.tflite` file or an ONNX file."""

from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a model as a SavedModel, a LiteRT (.tflite) or an ONNX file",
        description=(
            "Export a model for serving. SavedModel: signatures serving_default (float32 images in [0, 1]) and "
            "serving_uint8, any height and width. LiteRT: a dynamic-size model, or with --tile a fixed "
            "1 x TILE x TILE model for GPU delegates; --fp16 or --int8-dynamic shrink the weights. "
            "ONNX: input images, output restored (float32 NHWC in [0, 1]), any size or a fixed --tile."
        ),
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="a .keras file, a preset directory or a preset name: the shipped hinet_photo_denoise exports its "
        "trained weights, an architecture-only preset (hinet_1x, ...) random ones, with a warning",
    )
    parser.add_argument("--format", required=True, choices=("savedmodel", "tflite", "onnx"), help="what to write")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="SavedModel folder, .tflite file or .onnx file"
    )
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--fp16", action="store_true", help="LiteRT: float16 weights")
    weights.add_argument("--int8-dynamic", action="store_true", help="LiteRT: int8 weights (dynamic range)")
    parser.add_argument(
        "--tile", type=at_least(1), help="LiteRT and ONNX: a fixed 1 x TILE x TILE input instead of any size"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.set_defaults(func=run)


def run(args):
    output = Path(args.output)
    if args.format != "tflite" and (args.fp16 or args.int8_dynamic):
        raise CLIError("--fp16 and --int8-dynamic apply to --format tflite")
    if args.format == "savedmodel" and args.tile:
        raise CLIError("--tile applies to --format tflite and onnx")
    if output.exists() and not args.overwrite:
        raise CLIError(f"{output} exists; pass --overwrite to replace it")
    check_output_folder(output.parent)  # before the model load and the conversion

    from hinet_tf.cli.restore import load_models
    from hinet_tf.export import export_litert
    from hinet_tf.export import export_onnx
    from hinet_tf.export import export_saved_model
    from hinet_tf.export.onnx import require as require_onnx_converter

    try:
        if args.format == "onnx":
            require_onnx_converter()  # before the model load
        (model,) = load_models([args.model])
        if args.format == "savedmodel":
            export_saved_model(model, output, overwrite=args.overwrite)
        elif args.format == "onnx":
            export_onnx(model, output, tile=args.tile, overwrite=args.overwrite)
        else:
            quantization = "fp16" if args.fp16 else "int8_dynamic" if args.int8_dynamic else None
            export_litert(model, output, tile=args.tile, quantization=quantization, overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError, ImportError, ValueError) as error:
        raise CLIError(str(error)) from None
    print(f"wrote {output}")
