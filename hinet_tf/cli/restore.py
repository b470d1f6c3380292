"""`hinet restore`: restore image files or folders with a trained model."""

import sys
import warnings
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_models_early
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.arguments import check_tile_early
from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import warn
from hinet_tf.utils.messages import first_line
from hinet_tf.utils.messages import one_line


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
        "--tile", type=at_least(1), default=256, help="tile size in pixels, a multiple of 16 (default 256)"
    )
    parser.add_argument(
        "--overlap", type=at_least(0), default=32, help="minimum overlap of neighbouring tiles (default 32)"
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


def load_models(specs):
    """Loads each model (a path, a preset or None for the default), printing warnings as `hinet: warning:`."""
    from hinet_tf.inference import load_models as load

    models, messages = load(specs)
    for message in messages:
        warn(message)
    return models


def run(args):
    """Checks the settings, the output folder and every input's header, then loads the model(s) and restores."""
    from hinet_tf.inference import image_files
    from hinet_tf.inference.image_io import DEFAULT_MAX_PIXELS
    from hinet_tf.inference.image_io import format_names

    args.max_pixels = args.max_pixels or DEFAULT_MAX_PIXELS
    check_tile_early(args)
    try:
        with warnings.catch_warnings(record=True) as caught:  # a folder's other files: one line each
            warnings.simplefilter("always", UserWarning)
            jobs = image_files.plan_outputs(args.inputs, args.output)
    except ValueError as error:
        raise CLIError(str(error)) from None
    for warning in caught:
        warn(warning.message)
    if not jobs:
        raise CLIError(f"no {format_names()} images found in {', '.join(args.inputs)}")
    output = Path(args.output)
    check_output_folder(output.parent if jobs[0][1] == output else output)
    # Everything that can be checked without the model is, so nothing is overwritten and no
    # model is loaded for inputs that cannot be restored.
    pending, failures = image_files.check_jobs(jobs, args.overwrite, args.max_pixels)
    if pending:
        if args.backend == "onnx":
            _require_onnx_backend()  # before the model loads; its module imports TensorFlow
        check_models_early(args.ensemble or [args.model])
        failures += _restore_files(pending, args)
    for failure in failures:
        print(f"hinet: error: {one_line(failure)}", file=sys.stderr)
    if failures:
        others = "; the others were written" if len(failures) < len(jobs) else ""
        raise CLIError(f"{len(failures)} of {len(jobs)} images failed{others}")
    print(f"restored {len(jobs)} image(s) into {args.output}")


def _restore_files(jobs, args):
    """Loads the model(s), builds the `Restorer` and restores `jobs` with a progress bar; returns the failures."""
    import keras

    from hinet_tf.inference import Restorer
    from hinet_tf.inference.conversion_cache import ConversionError
    from hinet_tf.inference.image_files import restore_files
    from hinet_tf.inference.restorer import NonFiniteOutputError

    try:
        models = load_models(args.ensemble or [args.model])
        with warnings.catch_warnings(record=True) as caught:  # a backend left out of auto's choice: one line each
            warnings.simplefilter("always", UserWarning)
            restorer = Restorer(models, args.tile, args.overlap, args.tta, args.backend, log=print)
        for warning in caught:
            warn(warning.message)
        if args.verbose and restorer.backend_choice is not None:
            print(restorer.backend_choice.summary())
        progress = keras.utils.Progbar(len(jobs), unit_name="image")
        return restore_files(restorer, jobs, args.overwrite, args.max_pixels, on_done=progress.update)
    except NonFiniteOutputError as error:  # the model is broken: every image would fail
        raise CLIError(f"{error}; nothing was written for it") from None
    except (FileNotFoundError, ImportError, ValueError) as error:
        raise CLIError(str(error)) from None
    except ConversionError as error:  # LiteRT converts per tile shape: also at a new image size
        raise CLIError(f"{first_line(error)}; --backend keras runs without converting") from None


def _require_onnx_backend():
    from hinet_tf.inference import onnx_backend

    try:
        onnx_backend.require()
    except ImportError as error:
        raise CLIError(str(error)) from None
