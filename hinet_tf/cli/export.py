"""`hinet export`: a model as a SavedModel (TF Serving), a LiteRT `.tflite` file or an ONNX file."""

from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_models_early
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError
from hinet_tf.export.outputs import check_output


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a model as a SavedModel, a LiteRT (.tflite) or an ONNX file",
        description=(
            "Export a model for serving. SavedModel: signatures serving_default (float32 images in [0, 1]) and "
            "serving_uint8, any height and width. LiteRT: a dynamic-size model, or with --tile a fixed "
            "1 x TILE x TILE model for GPU delegates; --quantization fp16 or int8_dynamic shrinks the weights, "
            "int8 (full integer, for NPUs) or int16x8 (int16 activations) needs --tile and --calibration photos. "
            "ONNX: input images, output restored (float32 NHWC in [0, 1]), any size or a fixed --tile."
        ),
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="a .keras file, a preset directory or a preset name: the shipped hinet_camera_denoise and "
        "hinet_photo_denoise export their trained weights, an architecture-only preset (hinet_1x, ...) random ones, with a warning",
    )
    parser.add_argument("--format", required=True, choices=("savedmodel", "tflite", "onnx"), help="what to write")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="SavedModel folder, .tflite file or .onnx file"
    )
    parser.add_argument(
        "--quantization",
        default="float32",
        metavar="NAME",
        help="LiteRT: float32 (default), fp16, int8_dynamic (int8 weights), int8 (full integer) or int16x8",
    )
    parser.add_argument(
        "--calibration", metavar="DIR", help="LiteRT int8 / int16x8: photos like those the model will restore"
    )
    parser.add_argument(
        "--calibration-tiles", type=at_least(1), default=64, metavar="N", help="random tiles from DIR (default 64)"
    )
    parser.add_argument(
        "--tile", type=at_least(1), help="LiteRT and ONNX: a fixed 1 x TILE x TILE input instead of any size"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.set_defaults(func=run)


def run(args):
    output = Path(args.output)
    if args.format != "tflite" and (args.quantization != "float32" or args.calibration):
        raise CLIError("--quantization and --calibration apply to --format tflite")
    if args.format == "savedmodel" and args.tile:
        raise CLIError("--tile applies to --format tflite and onnx")
    check_output_folder(output.parent)  # before the model load and the conversion
    try:
        check_output(output, args.format, args.overwrite)
    except FileExistsError as error:
        raise CLIError(str(error)) from None

    from hinet_tf.export import export_litert
    from hinet_tf.export import export_onnx
    from hinet_tf.export import export_saved_model
    from hinet_tf.export.litert import check_quantization
    from hinet_tf.export.onnx import require as require_onnx_converter
    from hinet_tf.inference import load_model

    try:
        if args.format == "onnx":
            require_onnx_converter()  # before the model load
        calibration = None
        if args.format == "tflite":
            check_quantization(args.quantization, args.calibration is not None, args.tile is not None)
            if args.calibration is not None:
                calibration = read_calibration(args.calibration, args.tile, args.calibration_tiles)
        check_models_early([args.model])
        model = load_model(args.model)
        if args.format == "savedmodel":
            export_saved_model(model, output, overwrite=args.overwrite)
        elif args.format == "onnx":
            export_onnx(model, output, tile=args.tile, overwrite=args.overwrite)
        else:
            tiles = calibration.tiles if calibration else None
            export_litert(model, output, args.tile, args.quantization, tiles, overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError, ImportError, ValueError) as error:
        raise CLIError(str(error)) from None
    print(f"wrote {output}")
    if calibration is not None:
        from hinet_tf.export.calibration import psnr_against_float

        cost = psnr_against_float(model, output, calibration.held_out)
        print(f"{args.quantization}: {cost:.2f} dB PSNR against the float model on {calibration.describe_held_out()}")


def read_calibration(folder, tile, count):
    """Representative tiles of the photos in `folder` (`hinet_tf.export.calibration`); one-line errors."""
    from hinet_tf.export.calibration import calibration_set
    from hinet_tf.export.calibration import require_interpreter
    from hinet_tf.inference.image_io import ImageError
    from hinet_tf.inference.image_io import is_supported
    from hinet_tf.inference.image_io import read_image

    folder = Path(folder)
    if not folder.is_dir():
        raise CLIError(f"--calibration {folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    names = [path.name for path in folder.iterdir() if path.is_file() and is_supported(path) and path.name[0] != "."]
    if not names:
        raise CLIError(f"--calibration {folder}: no PNG, JPEG or TIFF image in it")
    require_interpreter()

    def read_rgb(name):
        pixels = read_image(folder / name).pixels
        return pixels if pixels.shape[-1] == 3 else pixels.repeat(3, axis=-1)

    try:
        return calibration_set(names, read_rgb, tile, count)
    except ImageError as error:
        raise CLIError(str(error)) from None
