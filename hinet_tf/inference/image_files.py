"""Restoring image files: pair inputs with outputs, check them before a model loads, restore each.

Nothing here imports TensorFlow: the checks run first, so that no model is loaded for files
that cannot be restored, and nothing a user has is overwritten without `overwrite`.
"""

import collections
import warnings
from pathlib import Path

from hinet_tf.inference.image_io import DEFAULT_MAX_PIXELS
from hinet_tf.inference.image_io import SUPPORTED_SUFFIXES
from hinet_tf.inference.image_io import ImageError
from hinet_tf.inference.image_io import format_names
from hinet_tf.inference.image_io import is_image_suffix
from hinet_tf.inference.image_io import is_supported
from hinet_tf.inference.image_io import list_images
from hinet_tf.inference.image_io import read_header
from hinet_tf.inference.image_io import read_stored
from hinet_tf.inference.image_io import write_stored


def plan_outputs(inputs, output):
    """Pairs each input image with its output path: `[(input, output)]`, in order.

    A file goes to `output/<name>`, or to `output` itself when it is the only input and
    `output` has an image suffix; a folder's images go to `output/<path inside the folder>`.
    Its other files are skipped with a `UserWarning` naming them.

    Raises:
        ValueError: `output` is an image file of a format that cannot be written.
    """
    output = Path(output)
    inputs = [Path(path) for path in inputs]
    if len(inputs) == 1 and not inputs[0].is_dir() and is_image_suffix(output):
        if not is_supported(output):
            raise ValueError(f"{output}: cannot write {output.suffix!r} images; use one of {', '.join(SUPPORTED_SUFFIXES)}")
        return [(inputs[0], output)]
    jobs = []
    for path in inputs:
        if path.is_dir():
            files, skipped = list_images(path)
            if skipped:
                names = ", ".join(str(file.relative_to(path)) for file in skipped[:5])
                more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
                warnings.warn(
                    f"skipped {len(skipped)} file(s) of {path} that are not {format_names()} images: {names}{more}",
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
    with the file's name added.
    """
    from hinet_tf.inference.conversion_cache import ConversionError
    from hinet_tf.inference.restorer import NonFiniteOutputError

    failures = []
    for done, (source, target) in enumerate(jobs, start=1):
        try:
            _restore_file(restorer, source, target, overwrite, max_pixels)
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
    return failures


def _restore_file(restorer, source, target, overwrite, max_pixels):
    image = read_stored(source, max_pixels)
    restorer.restore_in_place(image.colour_samples)
    write_stored(target, image, overwrite=overwrite)
