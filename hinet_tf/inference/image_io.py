"""Reads and writes 8- and 16-bit PNG, JPEG and TIFF images, grayscale, RGB or RGBA.

Pixels travel as float32 in [0, 1]; an alpha channel is kept apart so that only the
colour channels are restored. PNG goes through `tf.io` (Pillow drops 16-bit colour),
JPEG through Pillow and TIFF through `tifffile` (the `tiff` extra). Writes are atomic:
the encoded bytes go to a temporary file next to the target, which is then renamed.

Before any pixel is decoded, `read_header` checks the file's header: the format must be
the one its suffix names, the size at most `max_pixels` (an image bomb, a small file of
huge size, would otherwise exhaust the memory), and there must be one frame: animated
PNGs, multi-page TIFFs and GIFs are refused rather than cut to their first frame.
"""

import contextlib
import dataclasses
import io
import re
from pathlib import Path

import numpy as np

from hinet_tf.utils.atomic import atomic_write_bytes
from hinet_tf.utils.messages import first_line

PNG_SUFFIXES = (".png",)
JPEG_SUFFIXES = (".jpg", ".jpeg")
TIFF_SUFFIXES = (".tif", ".tiff")
SUPPORTED_SUFFIXES = PNG_SUFFIXES + JPEG_SUFFIXES + TIFF_SUFFIXES
# Listed in folders and refused by name, not skipped: a GIF is often an animation.
REFUSED_SUFFIXES = (".gif",)
JPEG_QUALITY = 95
# Above any camera's photos (a 61 MP full-frame sensor, a 102 MP medium-format one is 11648 x 8736).
DEFAULT_MAX_PIXELS = 120_000_000
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".gif": "GIF"}
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"II+\x00": "TIFF",  # BigTIFF
    b"MM\x00+": "TIFF",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
}


class ImageError(Exception):
    """A file that cannot be read or written as an image; the message names the file."""


@dataclasses.dataclass
class Image:
    """An image as float32 arrays in [0, 1].

    Attributes:
        pixels: colour channels, shape (H, W, 1) for grayscale or (H, W, 3) for RGB.
        alpha: the alpha channel, shape (H, W, 1), or None.
        bit_depth: 8 or 16, the precision the file had and will be written with.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8

    def with_pixels(self, pixels):
        """The same image (alpha, bit depth) with new colour channels."""
        return dataclasses.replace(self, pixels=pixels)


@dataclasses.dataclass(frozen=True)
class Header:
    """What an image file's header says: `format` ("PNG", "JPEG", "TIFF"), size and frame count."""

    format: str
    width: int
    height: int
    frames: int = 1


def is_supported(path):
    """Whether `path` has the suffix of a format this module reads and writes."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def is_listed(path):
    """Whether a folder's file is taken as an image: supported, or refused by name (GIF)."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES + REFUSED_SUFFIXES


def read_header(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Reads and checks an image file's header without decoding its pixels.

    Raises:
        ImageError: naming the file, if it is missing, empty, of an unsupported format or
            not of the format its suffix says, damaged, of more than `max_pixels` pixels,
            or of several frames.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: a folder, not an image file")
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise ImageError(f"{path}: {FORMATS[suffix]} is not supported (it may hold several frames); convert it to PNG")
    if not is_supported(path):
        raise ImageError(f"{path}: unsupported format {path.suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        with open(path, "rb") as file:
            start = file.read(8)
    except OSError as error:
        raise ImageError(f"{path}: cannot read it ({error.strerror})") from None
    if not start:
        raise ImageError(f"{path}: the file is empty")
    expected = FORMATS[suffix]
    found = next((name for signature, name in SIGNATURES.items() if start.startswith(signature)), None)
    if found != expected:
        holds = f" (it holds {found} data)" if found else ""
        raise ImageError(f"{path}: not a {expected} file{holds}")
    try:
        header = _read_tiff_header(path) if expected == "TIFF" else _read_pillow_header(path, expected)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    except Exception:  # each library raises its own types for a damaged header
        raise ImageError(f"{path}: cannot read the {expected} header, the file is damaged or truncated") from None
    if header.frames > 1:
        kind = "a multi-page TIFF of" if expected == "TIFF" else f"an animated {expected} of"
        raise ImageError(f"{path}: {kind} {header.frames} frames; only single images are restored (split it first)")
    if header.width * header.height > max_pixels:
        raise ImageError(
            f"{path}: {header.width} x {header.height} pixels is above the limit of {max_pixels:,} "
            "(--max-pixels raises it)"
        )
    return header


def read_image(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Reads an image file after checking its header (`read_header`); raises `ImageError` naming the file."""
    path = Path(path)
    header = read_header(path, max_pixels)
    data = path.read_bytes()
    try:
        if header.format == "PNG":
            array = _decode_png(data)
        elif header.format == "JPEG":
            array = _decode_jpeg(data)
        else:
            array = _decode_tiff(data)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    except Exception as error:  # each decoder raises its own types for corrupt data
        raise ImageError(f"{path}: cannot decode the {header.format} data ({first_line(error)})") from None
    return _from_array(array, path)


def write_image(path, image, overwrite=False):
    """Writes `image` to `path` in the format of its suffix, atomically.

    Raises `ImageError` if the file exists and `overwrite` is False, or the format cannot
    hold the image (alpha in a JPEG); nothing is left behind on failure.
    """
    path = Path(path)
    if not is_supported(path):
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise ImageError(f"{path}: unsupported output format {path.suffix!r}; use one of {supported}")
    if path.exists() and not overwrite:
        raise ImageError(f"{path}: the output exists; pass --overwrite to replace it")
    suffix = path.suffix.lower()
    if suffix in JPEG_SUFFIXES and image.alpha is not None:
        raise ImageError(f"{path}: JPEG cannot store the alpha channel; write PNG or TIFF")
    array = _to_array(image, 8 if suffix in JPEG_SUFFIXES else image.bit_depth)
    if suffix in PNG_SUFFIXES:
        data = _encode_png(array)
    elif suffix in JPEG_SUFFIXES:
        data = _encode_jpeg(array)
    else:
        data = _encode_tiff(array)
    try:
        atomic_write_bytes(path, data, overwrite)
    except FileExistsError as error:  # another process wrote `path` meanwhile: it is kept
        raise ImageError(str(error)) from None


def _from_array(array, path):
    if array.size == 0:
        raise ImageError(f"{path}: no image data (a damaged or empty image)")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or 0 in array.shape:
        raise ImageError(f"{path}: unsupported image shape {array.shape}")
    if array.dtype == np.uint8:
        bit_depth = 8
    elif array.dtype == np.uint16:
        bit_depth = 16
    else:
        raise ImageError(f"{path}: unsupported sample type {array.dtype}; use 8- or 16-bit images")
    values = array.astype(np.float32) / np.float32(2**bit_depth - 1)
    colours = 1 if values.shape[-1] <= 2 else 3
    alpha = values[..., colours:] if values.shape[-1] in (2, 4) else None
    return Image(np.ascontiguousarray(values[..., :colours]), alpha, bit_depth)


def _to_array(image, bit_depth):
    channels = [image.pixels] + ([image.alpha] if image.alpha is not None else [])
    values = np.concatenate(channels, axis=-1)
    peak = 2**bit_depth - 1
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.round(np.clip(values, 0.0, 1.0) * peak).astype(dtype)


@contextlib.contextmanager
def _pillow_size_guard_off():
    """Pillow's own image-bomb guard off: `read_header` has applied `max_pixels` instead."""
    import PIL.Image

    limit, PIL.Image.MAX_IMAGE_PIXELS = PIL.Image.MAX_IMAGE_PIXELS, None
    try:
        yield
    finally:
        PIL.Image.MAX_IMAGE_PIXELS = limit


def _read_pillow_header(path, format_name):
    import PIL.Image

    with _pillow_size_guard_off(), PIL.Image.open(path, formats=[format_name]) as file:
        width, height = file.size
        # A JPEG's extra MPO pictures are gain or depth maps of the one photo, not frames.
        frames = getattr(file, "n_frames", 1) if format_name == "PNG" else 1
        return Header(format_name, width, height, frames)


def _read_tiff_header(path):
    with _tifffile().TiffFile(path) as file:
        if not file.pages:
            raise ImageError("no image data (a damaged or empty TIFF)")
        page = file.pages[0]
        frames = sum(not page.is_reduced for page in file.pages)  # thumbnails are not frames
        return Header("TIFF", page.imagewidth, page.imagelength, frames)


def _decode_png(data):
    import tensorflow as tf

    bit_depth = data[24] if len(data) > 24 else 8  # IHDR's bit depth
    dtype = tf.uint16 if bit_depth == 16 else tf.uint8
    try:
        return tf.io.decode_png(data, channels=0, dtype=dtype).numpy()
    except tf.errors.InvalidArgumentError as error:  # its message wraps the reason in graph details
        reason = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\].*", "", error.message).strip()
        raise ImageError(f"cannot decode the PNG data, the file is damaged ({reason})") from None


def _encode_png(array):
    import tensorflow as tf

    return tf.io.encode_png(array).numpy()


def _decode_jpeg(data):
    import PIL.Image
    import PIL.ImageOps

    with _pillow_size_guard_off(), PIL.Image.open(io.BytesIO(data), formats=["JPEG"]) as file:
        file = PIL.ImageOps.exif_transpose(file)  # phone photos: apply the EXIF orientation
        file = file if file.mode in ("L", "RGB") else file.convert("RGB")
        return np.asarray(file)


def _encode_jpeg(array):
    import PIL.Image

    buffer = io.BytesIO()
    PIL.Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(
        buffer, format="JPEG", quality=JPEG_QUALITY
    )
    return buffer.getvalue()


def _tifffile():
    try:
        import tifffile
    except ImportError:
        raise ImageError("TIFF support needs tifffile: pip install 'hinet-tf[tiff]'") from None
    return tifffile


def _decode_tiff(data):
    array = _tifffile().imread(io.BytesIO(data))
    if array.ndim == 3 and array.shape[0] in (1, 2, 3, 4) and array.shape[-1] not in (1, 2, 3, 4):
        array = np.moveaxis(array, 0, -1)  # planar (C, H, W) storage
    return array


def _encode_tiff(array):
    buffer = io.BytesIO()
    photometric = "minisblack" if array.shape[-1] <= 2 else "rgb"
    extrasamples = ["unassalpha"] if array.shape[-1] in (2, 4) else None
    _tifffile().imwrite(
        buffer, array[..., 0] if array.shape[-1] == 1 else array, photometric=photometric, extrasamples=extrasamples
    )
    return buffer.getvalue()

