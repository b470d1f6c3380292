"""Checks image files before training: unreadable or truncated files and size mismatches.

TensorFlow's decoders fail inside the input pipeline without naming the file, so the
files are checked up front with Pillow, which names every file at fault.
"""

from concurrent.futures import ThreadPoolExecutor

from PIL import Image

CHECKS = ("full", "header", "none")  # decode every file, read only headers, or check nothing
_MAX_REPORTED = 5


def image_size(path, full=True):
    """Returns `(width, height)` of an image file; `full` also decodes it to catch truncation.

    Raises:
        ValueError: naming the file, when it cannot be read or decoded.
    """
    try:
        with Image.open(path) as image:
            if full:
                image.load()
            return image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # bad, truncated, bombs
        raise ValueError(f"Cannot read image {path}: {error}") from error


def check_pairs(pairs, full=True):
    """Checks that every pair is readable and both images have the same size.

    Args:
        pairs: `(degraded_path, target_path)` tuples.
        full: decode the whole files (finds truncated files); False reads only the headers.

    Raises:
        ValueError: listing the files at fault.
    """
    _check([path for pair in pairs for path in pair], pairs, full)


def check_images(paths, full=True):
    """Checks that every image file is readable (for clean-only photo folders)."""
    _check(list(paths), [], full)


def _check(paths, pairs, full):
    def size_or_error(path):
        try:
            return image_size(path, full)
        except ValueError as error:
            return error

    with ThreadPoolExecutor(4) as pool:  # threads decoding in parallel
        sizes = dict(zip(paths, pool.map(size_or_error, paths)))
    problems = [str(size) for size in sizes.values() if isinstance(size, ValueError)]
    for degraded, target in pairs:
        degraded_size, target_size = sizes[degraded], sizes[target]
        if not isinstance(degraded_size, ValueError) and not isinstance(target_size, ValueError):
            if degraded_size != target_size:
                problems.append(
                    f"Size mismatch: {degraded} is {degraded_size[0]}x{degraded_size[1]} but "
                    f"{target} is {target_size[0]}x{target_size[1]}"
                )
    if problems:
        more = f"; and {len(problems) - _MAX_REPORTED} more" if len(problems) > _MAX_REPORTED else ""
        raise ValueError(f"{len(problems)} bad image file(s): " + "; ".join(problems[:_MAX_REPORTED]) + more)
