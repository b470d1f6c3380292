"""`hinet export`: a model as a SavedModel (TF Serving), a LiteRT `.tflite` file or an ONNX file."""

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.errors import reported


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
    from hinet_tf.export.exporter import export_model
    from hinet_tf.utils.image_io import ImageError

    with reported(FileNotFoundError, FileExistsError, ImportError, ValueError, ImageError):
        report = export_model(
            args.model,
            args.output,
            args.format,
            tile=args.tile,
            quantization=args.quantization,
            calibration=args.calibration,
            calibration_tiles=args.calibration_tiles,
            overwrite=args.overwrite,
        )
    print(f"wrote {report.output}")
    if report.quantization_psnr is not None:
        print(f"{args.quantization}: {report.quantization_psnr:.2f} dB PSNR against the float model on {report.measured_on}")
