"""Reads and writes 8- and 16-bit PNG, JPEG and TIFF images, grayscale, RGB or RGBA.

Pixels travel as float32 in [0, 1]; an alpha channel is kept apart so that only the
colour channels are restored. PNG goes through `tf.io` (Pillow drops 16-bit colour),
JPEG through Pillow and TIFF through `tifffile` (the `tiff` extra). Writes are atomic:
the encoded bytes go to a temporary file next to the target, which is then renamed.
"""

import dataclasses
import io
from pathlib import Path

import numpy as np

from hinet_tf.utils.atomic import atomic_write_bytes

PNG_SUFFIXES = (".png",)
JPEG_SUFFIXES = (".jpg", ".jpeg")
TIFF_SUFFIXES = (".tif", ".tiff")
SUPPORTED_SUFFIXES = PNG_SUFFIXES + JPEG_SUFFIXES + TIFF_SUFFIXES
JPEG_QUALITY = 95


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


def is_supported(path):
    """Whether `path` has the suffix of a format this module reads and writes."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def read_image(path):
    """Reads an image file; raises `ImageError` naming the file when it cannot."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if not is_supported(path):
        raise ImageError(f"{path}: unsupported format {path.suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    data = path.read_bytes()
    if not data:
        raise ImageError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix in PNG_SUFFIXES:
            array = _decode_png(data)
        elif suffix in JPEG_SUFFIXES:
            array = _decode_jpeg(data)
        else:
            array = _decode_tiff(data)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    except Exception as error:  # each decoder raises its own types for corrupt data
        raise ImageError(f"{path}: cannot decode the {suffix[1:].upper()} data ({_first_line(error)})") from error
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
    atomic_write_bytes(path, data)


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


def _decode_png(data):
    import tensorflow as tf

    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ImageError("not a PNG file")
    bit_depth = data[24] if len(data) > 24 else 8  # IHDR's bit depth
    dtype = tf.uint16 if bit_depth == 16 else tf.uint8
    return tf.io.decode_png(data, channels=0, dtype=dtype).numpy()


def _encode_png(array):
    import tensorflow as tf

    return tf.io.encode_png(array).numpy()


def _decode_jpeg(data):
    import PIL.Image
    import PIL.ImageOps

    with PIL.Image.open(io.BytesIO(data)) as file:
        if file.format != "JPEG":
            raise ImageError(f"not a JPEG file (found {file.format})")
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


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
