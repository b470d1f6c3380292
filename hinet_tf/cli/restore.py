"""`hinet restore`: restore image files or folders with a trained model."""

import sys
import warnings

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.errors import CLIError
from hinet_tf.utils.messages import first_line
from hinet_tf.utils.messages import one_line
from hinet_tf.utils.tiles import DEFAULT_OVERLAP
from hinet_tf.utils.tiles import DEFAULT_TILE


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "restore",
        help="restore images (files or folders) with a trained model",
        description=(
            "Restore PNG, JPEG, TIFF, BMP or WebP images of any size (8/16-bit, gray, RGB or RGBA; alpha and "
            "the ICC colour profile are kept) "
            "in overlapping tiles, optionally with test-time augmentation and model ensembles."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="output folder; or an output file when INPUT is a single file and OUTPUT has an image suffix",
    )
    models = parser.add_mutually_exclusive_group()
    models.add_argument(
        "--model",
        metavar="PATH_OR_PRESET",
        help="a .keras file, a preset directory or a preset name (default: hinet_camera_denoise, for photos from "
        "cameras and phones; hinet_photo_denoise removes synthetic white Gaussian noise)",
    )
    models.add_argument("--ensemble", nargs="+", metavar="MODEL", help="average several models (.keras files)")
    parser.add_argument(
        "--tile",
        type=at_least(1),
        default=DEFAULT_TILE,
        help=f"tile size in pixels, a multiple of 16 (default {DEFAULT_TILE})",
    )
    parser.add_argument(
        "--overlap",
        type=at_least(0),
        default=DEFAULT_OVERLAP,
        help=f"minimum overlap of neighbouring tiles (default {DEFAULT_OVERLAP})",
    )
    parser.add_argument(
        "--max-pixels",
        type=at_least(1),
        metavar="N",
        help="refuse images of more pixels, checked before decoding (default 120 million)",
    )
    parser.add_argument("--tta", action="store_true", help="average over the 8 flips and rotations")
    parser.add_argument(
        "--backend",
        choices=("auto", "keras", "litert", "onnx"),
        default="auto",
        help="run tiles on TensorFlow, LiteRT/XNNPACK or onnxruntime (the last two converted once, cached); "
        "auto: the fastest on this CPU, timed once per model and tile and cached; TensorFlow on a GPU (default auto)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.set_defaults(func=run)


def run(args):
    """Restores with `hinet_tf.inference.restore_paths`, printing its warnings, progress and failures."""
    from hinet_tf.inference.errors import ConversionError
    from hinet_tf.inference.errors import NonFiniteOutputError
    from hinet_tf.inference.image_files import restore_paths
    from hinet_tf.utils.image_io import DEFAULT_MAX_PIXELS

    progress = []  # the bar on a terminal, made once the model is loaded and the number of images known

    def on_done(done, total):
        if not progress:
            import keras

            progress.append(keras.utils.Progbar(total, unit_name="image"))
        progress[0].update(done)

    with warnings.catch_warnings():  # each skipped file or backend left out, as `main` prints warnings
        warnings.simplefilter("always", UserWarning)
        try:
            report = restore_paths(
                args.inputs,
                args.output,
                args.ensemble or [args.model],
                args.tile,
                args.overlap,
                args.tta,
                args.backend,
                args.overwrite,
                args.max_pixels or DEFAULT_MAX_PIXELS,
                log=print,
                on_done=on_done if sys.stdout.isatty() else None,  # a log or a pipe gets no control codes
            )
        except NonFiniteOutputError as error:  # the model is broken: every image would fail
            raise CLIError(f"{error}; nothing was written for it") from None
        except ConversionError as error:  # LiteRT converts per tile shape: also at a new image size
            raise CLIError(f"{first_line(error)}; --backend keras runs without converting") from None
        except (OSError, ImportError, ValueError) as error:
            raise CLIError(str(error)) from None
    if args.verbose and report.backend_choice is not None:
        print(report.backend_choice.summary())
    for failure in report.failures:
        print(f"hinet: error: {one_line(failure)}", file=sys.stderr)
    if report.failures:
        others = "; the others were written" if len(report.failures) < report.count else ""
        raise CLIError(f"{len(report.failures)} of {report.count} images failed{others}")
    print(f"restored {report.count} image(s) into {args.output}")
