"""`hinet restore`: restore image files or folders with a trained model."""

import collections
import sys
from pathlib import Path

from hinet_tf.cli.arguments import at_least
from hinet_tf.cli.arguments import check_output_folder
from hinet_tf.cli.errors import CLIError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "restore",
        help="restore images (files or folders) with a trained model",
        description=(
            "Restore PNG, JPEG or TIFF images of any size (8/16-bit, gray, RGB or RGBA; alpha is kept) "
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
    models.add_argument("--model", metavar="PATH_OR_PRESET", help="a .keras file, a preset directory or a preset name (default: the shipped preset hinet_photo_denoise)")
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
        "auto: onnxruntime without a GPU when the onnx extra is installed, else TensorFlow (default auto)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.set_defaults(func=run)


def plan_outputs(inputs, output):
    """Pairs each input image with its output path: `[(input, output)]`, in order.

    A file goes to `output/<name>`, a folder's images to `output/<path inside the folder>`.
    """
    from hinet_tf.inference.image_io import is_listed
    from hinet_tf.inference.image_io import is_supported

    output = Path(output)
    inputs = [Path(path) for path in inputs]
    if len(inputs) == 1 and not inputs[0].is_dir() and is_supported(output):
        return [(inputs[0], output)]
    jobs = []
    for path in inputs:
        if path.is_dir():
            files = sorted(
                file for file in path.rglob("*") if file.is_file() and is_listed(file) and not file.name.startswith(".")
            )
            jobs.extend((file, output / file.relative_to(path)) for file in files)
        else:
            jobs.append((path, output / path.name))
    return jobs


def load_models(specs):
    """Loads each model (a path, a preset or None for the default), printing warnings as `hinet: warning:`."""
    from hinet_tf.inference import load_models as load

    models, messages = load(specs)
    for message in messages:
        print(f"hinet: warning: {message}", file=sys.stderr)
    return models


def run(args):
    """Checks the settings, the output folder and every input's header, then loads the model(s) and restores."""
    from hinet_tf.inference import ImageError
    from hinet_tf.inference.image_io import DEFAULT_MAX_PIXELS
    from hinet_tf.inference.image_io import read_header

    args.max_pixels = args.max_pixels or DEFAULT_MAX_PIXELS
    if args.overlap >= args.tile:
        raise CLIError(f"--overlap ({args.overlap}) must be smaller than --tile ({args.tile})")
    jobs = plan_outputs(args.inputs, args.output)
    if not jobs:
        raise CLIError(f"no PNG, JPEG or TIFF images found in {', '.join(args.inputs)}")
    output = Path(args.output)
    check_output_folder(output.parent if jobs[0][1] == output else output)
    # Everything that can be checked without the model is, so nothing is overwritten and no
    # model is loaded for inputs that cannot be restored.
    failures = []
    pending = []
    uses = collections.Counter(target for _, target in jobs)
    for source, target in jobs:
        if uses[target] > 1:
            failures.append(f"{source}: its output {target} is also the output of another input")
        elif target.exists() and not args.overwrite:
            failures.append(f"{target}: the output exists; pass --overwrite to replace it")
        elif source.resolve() == target.resolve():
            failures.append(f"{target}: the output would replace its input")
        else:
            try:
                read_header(source, args.max_pixels)
                pending.append((source, target))
            except ImageError as error:
                failures.append(str(error))
    if pending:
        if args.backend == "onnx":
            _require_onnx_backend()  # before the model loads; its module imports TensorFlow
        failures += _restore_files(pending, args)
    for failure in failures:
        print(f"hinet: error: {failure}", file=sys.stderr)
    if failures:
        others = "; the others were written" if len(failures) < len(jobs) else ""
        raise CLIError(f"{len(failures)} of {len(jobs)} images failed{others}")
    print(f"restored {len(jobs)} image(s) into {args.output}")


def _restore_files(jobs, args):
    """Restores each `(source, target)`; returns the messages of the files that failed."""
    import keras

    from hinet_tf.inference import ImageError
    from hinet_tf.inference import Restorer
    from hinet_tf.inference import read_image
    from hinet_tf.inference import write_image
    from hinet_tf.inference.conversion_cache import ConversionError

    try:
        restorer = Restorer(
            load_models(args.ensemble or [args.model]), args.tile, args.overlap, args.tta, args.backend, log=print
        )
    except (FileNotFoundError, ImportError, ValueError) as error:
        raise CLIError(str(error)) from None
    except ConversionError as error:
        raise CLIError(f"{_first_line(error)}; --backend keras runs without converting") from None
    failures = []
    progress = keras.utils.Progbar(len(jobs), unit_name="image")
    for done, (source, target) in enumerate(jobs, start=1):
        try:
            image = read_image(source, args.max_pixels)
            write_image(target, image.with_pixels(restorer(image.pixels)), overwrite=args.overwrite)
        except (ImageError, OSError) as error:
            failures.append(str(error))
        except ValueError as error:
            failures.append(f"{source}: {error}")
        except MemoryError:
            failures.append(f"{source}: not enough memory to restore an image of this size")
        except ConversionError as error:  # LiteRT converts per tile shape: at a new image size
            raise CLIError(f"{source}: {_first_line(error)}; --backend keras runs without converting") from None
        progress.update(done)
    return failures


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _require_onnx_backend():
    from hinet_tf.inference import onnx_backend

    try:
        onnx_backend.require()
    except ImportError as error:
        raise CLIError(str(error)) from None
