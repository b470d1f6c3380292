"""Restoring image files: pair inputs with outputs, check them before a model loads, restore each.

Nothing here imports TensorFlow until a model is needed: the checks run first, so that no
model is loaded for files that cannot be restored, and nothing a user has is overwritten
without `overwrite`.
"""

import collections
import dataclasses
import warnings
from pathlib import Path

from hinet_tf.inference.errors import ConversionError
from hinet_tf.inference.errors import NonFiniteOutputError
from hinet_tf.models.model_source import check_model_source
from hinet_tf.models.model_source import size_multiple
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.image_io import DEFAULT_MAX_PIXELS
from hinet_tf.utils.image_io import SUPPORTED_SUFFIXES
from hinet_tf.utils.image_io import ImageError
from hinet_tf.utils.image_io import format_names
from hinet_tf.utils.image_io import is_image_suffix
from hinet_tf.utils.image_io import is_supported
from hinet_tf.utils.image_io import list_images
from hinet_tf.utils.image_io import read_header
from hinet_tf.utils.image_io import read_stored
from hinet_tf.utils.image_io import write_stored
from hinet_tf.utils.messages import describe_names
from hinet_tf.utils.tiles import DEFAULT_OVERLAP
from hinet_tf.utils.tiles import DEFAULT_TILE
from hinet_tf.utils.tiles import check_tile_before_loading


@dataclasses.dataclass(frozen=True)
class RestoreReport:
    """What `restore_paths` did: how many images it found, the failures, and `auto`'s backend choice."""

    count: int
    failures: list
    backend_choice: object = None


def restore_paths(
    inputs,
    output,
    models=(None,),
    tile=DEFAULT_TILE,
    overlap=DEFAULT_OVERLAP,
    tta=False,
    backend="auto",
    overwrite=False,
    max_pixels=DEFAULT_MAX_PIXELS,
    log=print,
    on_done=None,
):
    """Restores image files and folders into `output` (`hinet restore`); returns a `RestoreReport`.

    The tile, the output folder and every input's header are checked before any model loads,
    and files that cannot be restored are reported, not restored (see `check_jobs`). `models`
    are paths or preset names (None: the default preset); several are averaged. `log` gets
    one line when `auto` times the backends; `on_done(done, total)` is called once the model
    is loaded (`done` 0) and after each file. Skipped files and backends left out of `auto`
    are `UserWarning`s.

    Raises:
        ValueError: bad tile or overlap, an output that cannot be written, no images found, or
            a model that cannot be loaded.
        FileNotFoundError, ImportError: a model or a backend's package is missing.
        NonFiniteOutputError, ConversionError: the model or backend would fail every file.
    """
    check_tile_before_loading(tile, overlap, size_multiple(models))
    jobs = plan_outputs(inputs, output)
    if not jobs:
        raise ValueError(f"no {format_names()} images found in {', '.join(map(str, inputs))}")
    output = Path(output)
    check_writable(output.parent if jobs[0][1] == output else output)
    pending, failures = check_jobs(jobs, overwrite, max_pixels)
    if not pending:
        return RestoreReport(len(jobs), failures)
    restorer = _restorer(models, tile, overlap, tta, backend, log)
    progress = None if on_done is None else lambda done: on_done(done, len(pending))
    if progress is not None:
        progress(0)  # the model is loaded: the first file's time starts now
    failures += restore_files(restorer, pending, overwrite, max_pixels, on_done=progress)
    return RestoreReport(len(jobs), failures, restorer.backend_choice)


def _restorer(models, tile, overlap, tta, backend, log):
    """The `Restorer` of `restore_paths`: the models' names are checked before TensorFlow loads."""
    if backend == "onnx":
        from hinet_tf.inference import onnx_backend

        onnx_backend.require()
    for spec in models:
        if spec is not None:
            check_model_source(spec)
    from hinet_tf.models.hinet.hinet_presets import is_architecture_preset
    from hinet_tf.models.loading import load_model

    untrained = [str(spec) for spec in models if is_architecture_preset(spec)]
    if untrained:
        raise ValueError(
            f"preset {untrained[0]} is an architecture only, with random weights: its outputs are not restorations. "
            "Pass a trained model: hinet_camera_denoise, hinet_photo_denoise, a .keras file or a preset folder."
        )
    from hinet_tf.inference.restorer import Restorer

    return Restorer([load_model(spec) for spec in models], tile, overlap, tta, backend, log=log)


def plan_outputs(inputs, output):
    """Pairs each input image with its output path: `[(input, output)]`, in order.

    A file goes to `output/<name>`, or to `output` itself when it is the only input and
    `output` has an image suffix and is not a folder; a folder's images go to
    `output/<path inside the folder>`. Its other files are skipped with a `UserWarning`
    naming them. Files under `output`, when it lies inside the folder, are left out: a rerun
    would otherwise restore its own outputs.

    Raises:
        ValueError: `output` is an image file of a format that cannot be written, or a folder yet
            to be made for several inputs or a folder, named like an image file (`out.png`).
    """
    output = Path(output)
    inputs = [Path(path) for path in inputs]
    if len(inputs) == 1 and not inputs[0].is_dir() and not output.is_dir() and is_image_suffix(output):
        if not is_supported(output):
            raise ValueError(f"{output}: cannot write {output.suffix!r} images; use one of {', '.join(SUPPORTED_SUFFIXES)}")
        return [(inputs[0], output)]
    if is_image_suffix(output) and not output.exists():
        raise ValueError(f"{output}: with several inputs or a folder, -o names a folder; give one without an image suffix")
    jobs = []
    resolved_output = output.resolve()
    for path in inputs:
        if path.is_dir():
            files, skipped = list_images(path)
            if path.resolve() in resolved_output.parents:  # the output lies inside: not an input
                files = [file for file in files if resolved_output not in file.resolve().parents]
            if skipped:
                names = describe_names(str(file.relative_to(path)) for file in skipped)
                warnings.warn(
                    f"skipped {len(skipped)} file(s) of {path} that are not {format_names()} images: {names}",
                    stacklevel=2,
                )
            jobs.extend((file, output / file.relative_to(path)) for file in files)
        else:
            jobs.append((path, output / path.name))
    return jobs


def check_jobs(jobs, overwrite=False, max_pixels=DEFAULT_MAX_PIXELS):
    """`(pending, failures)`: the jobs that can run, and a message for each that cannot.

    A job cannot run when its output is another job's too, exists (without `overwrite`) or is
    its input, or when its input's header is not a readable image within `max_pixels`.
    """
    failures = []
    pending = []
    uses = collections.Counter(target for _, target in jobs)
    for source, target in jobs:
        if uses[target] > 1:
            failures.append(f"{source}: its output {target} is also the output of another input")
        elif target.exists() and not overwrite:
            failures.append(f"{target}: the output exists; pass --overwrite to replace it")
        elif source.resolve() == target.resolve():
            failures.append(f"{target}: the output would replace its input")
        else:
            try:
                read_header(source, max_pixels)
                pending.append((source, target))
            except ImageError as error:
                failures.append(str(error))
    return pending, failures


def restore_files(restorer, jobs, overwrite=False, max_pixels=DEFAULT_MAX_PIXELS, on_done=None):
    """Restores each `(input, output)` with `restorer`; returns a message for each file that failed.

    Each file is restored in place as its file's samples (`Restorer.restore_in_place`), so
    memory holds the photo once and a row of tiles. Each output keeps its input's format,
    bit depth, alpha and colour profile, and is written whole or not at all. `on_done(count)` is called after each file. Errors that would fail
    every file (a model with non-finite output, a backend that cannot convert) are raised,
    with the file's name added. Grayscale files restored by a colour model get one `UserWarning`.
    """
    failures = []
    gray = []
    for done, (source, target) in enumerate(jobs, start=1):
        try:
            if _restore_file(restorer, source, target, overwrite, max_pixels) < restorer.channels:
                gray.append(source.name)
        except (NonFiniteOutputError, ConversionError) as error:
            raise type(error)(f"{source}: {error}") from error
        except (ImageError, OSError) as error:
            failures.append(str(error))
        except ValueError as error:
            failures.append(f"{source}: {error}")
        except MemoryError:
            failures.append(f"{source}: not enough memory to restore an image of this size")
        if on_done is not None:
            on_done(done)
    if gray:
        warnings.warn(
            f"{len(gray)} grayscale image(s) went through a colour model as three equal channels "
            f"({describe_names(gray)}): the shipped denoisers, trained on colour noise, remove little "
            "of the noise of grayscale images",
            stacklevel=2,
        )
    return failures


def _restore_file(restorer, source, target, overwrite, max_pixels):
    """Restores one file; returns its colour channels."""
    image = read_stored(source, max_pixels)
    restorer.restore_in_place(image.stored_colour_samples)  # on the grid of a camera JPEG's blocks
    write_stored(target, image, overwrite=overwrite)
    return image.colour_samples.shape[-1]
