"""Reads and writes 8- and 16-bit PNG, JPEG and TIFF images and 8-bit BMP and WebP, grayscale, RGB or RGBA.

Pixels travel as float32 in [0, 1]; an alpha channel is kept apart so that only the
colour channels are restored, and an ICC colour profile travels with them to the output.
PNG goes through `tf.io` (Pillow drops 16-bit colour), TIFF through `tifffile` (the
`tiff` extra), JPEG, BMP and WebP through Pillow. Writes are atomic: the encoded bytes go
to a temporary file next to the target, which is then renamed.

What a file's samples mean is read from the file, not assumed: a TIFF's photometric
interpretation (CMYK, a palette, "0 is white"), the EXIF or TIFF orientation. Samples of
a kind the reader cannot map to grey or RGB are refused by name.

Before any pixel is decoded, `read_header` checks the file's header: the format must be
the one its suffix names, the size at most `max_pixels` (an image bomb, a small file of
huge size, would otherwise exhaust the memory), and there must be one frame: animated
PNGs and WebPs, multi-page TIFFs and GIFs are refused rather than cut to their first frame.
"""

import contextlib
import dataclasses
import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from hinet_tf.utils.atomic import atomic_write_bytes
from hinet_tf.utils.messages import broken_link
from hinet_tf.utils.messages import first_line

FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WebP",
}
SUPPORTED_SUFFIXES = tuple(FORMATS)
# Formats whose files hold 8-bit samples only: a 16-bit image is written rounded to 8 bits.
EIGHT_BIT_FORMATS = ("JPEG", "BMP", "WebP")
# Formats that cannot store an alpha channel.
OPAQUE_FORMATS = ("JPEG", "BMP")
# Listed in folders and refused by name, not skipped: a GIF is often an animation.
REFUSED_FORMATS = {".gif": "GIF"}
# Image formats of cameras and phones that Pillow does not register: an output so named is a file, not a folder.
CAMERA_SUFFIXES = (".heic", ".heif", ".avif", ".jxl", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2")
JPEG_QUALITY = 95
JPEG_STRIP_BYTES = 16 * 2**20  # a JPEG is decoded in strips of this size
TF_ALIGNMENT = 64  # bytes; TensorFlow shares the memory of arrays aligned so, and copies others
# Above any camera's photos (a 61 MP full-frame sensor, a 102 MP medium-format one is 11648 x 8736).
DEFAULT_MAX_PIXELS = 120_000_000
JPEG_SIGNATURE = b"\xff\xd8\xff"
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    JPEG_SIGNATURE: "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"II+\x00": "TIFF",  # BigTIFF
    b"MM\x00+": "TIFF",
    b"BM": "BMP",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
}
# TIFF photometric interpretations (tag 262), its ink set (tag 332), and the TIFF/EXIF
# orientation (tag 274) with the transform that turns an image upright, numbered as
# `hinet_tf.utils.dihedral` numbers them (bit 0 flips up-down, bit 1 left-right, bit 2 transposes).
MINISWHITE, MINISBLACK, RGB, PALETTE, SEPARATED, YCBCR = 0, 1, 2, 3, 5, 6
INK_SET, CMYK_INKS = 332, 1
EXIF_ORIENTATION = 274
TIFF_INSTALL = "pip install 'hinet-tf[tiff]'"
TIFF_JPEG_COMPRESSIONS = (6, 7)  # YCbCr stored as JPEG is decoded to RGB
UPRIGHT_TRANSFORMS = {1: 0, 2: 2, 3: 3, 4: 1, 5: 4, 6: 5, 7: 7, 8: 6}


class ImageError(Exception):
    """A file that cannot be read or written as an image; the message names the file."""


@dataclasses.dataclass
class Image:
    """An image as float32 arrays in [0, 1].

    Attributes:
        pixels: colour channels, shape (H, W, 1) for grayscale or (H, W, 3) for RGB.
        alpha: the alpha channel, shape (H, W, 1), or None.
        bit_depth: 8 or 16, the precision the file had and will be written with.
        icc_profile: the file's ICC colour profile (bytes), written with the image; or None.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    icc_profile: bytes | None = None

    def with_pixels(self, pixels):
        """The same image (alpha, bit depth, profile) with new colour channels."""
        return dataclasses.replace(self, pixels=pixels)


@dataclasses.dataclass
class StoredImage:
    """An image as its file holds it: 8- or 16-bit samples (H, W, C), the colour channels, then alpha.

    `hinet restore` restores `colour_samples` in place, so a photo is held once, as its
    file's integers, whatever its size.

    Attributes:
        samples: uint8 or uint16, (H, W, 1 to 4): grey, grey and alpha, RGB or RGBA, upright.
        icc_profile: the file's ICC colour profile (bytes), written with the image; or None.
        upright: the transform (`hinet_tf.utils.dihedral`'s number) that turned the samples as
            stored upright, by the file's EXIF or TIFF orientation; 0 if none.
    """

    samples: np.ndarray
    icc_profile: bytes | None = None
    upright: int = 0

    @property
    def bit_depth(self):
        return 8 * self.samples.dtype.itemsize

    @property
    def colour_samples(self):
        """The grey or RGB channels: a view of `samples`, without the alpha."""
        return self.samples[..., : 1 if self.samples.shape[-1] <= 2 else 3]

    @property
    def stored_colour_samples(self):
        """`colour_samples` as the file stores them, before `upright`: a view, which writes go through.

        A camera's JPEG blocks lie on a grid from the stored image's top-left corner: a model
        that learnt their place restores this view, not the upright one.
        """
        view = self.colour_samples
        view = view.swapaxes(0, 1) if self.upright & 4 else view
        view = view[:, ::-1] if self.upright & 2 else view
        return view[::-1] if self.upright & 1 else view

    def to_image(self):
        """The same image as float32 `Image` arrays in [0, 1]."""
        values = self.samples.astype(np.float32) / np.float32(2**self.bit_depth - 1)
        colours = self.colour_samples.shape[-1]
        alpha = values[..., colours:] if colours < values.shape[-1] else None
        return Image(np.ascontiguousarray(values[..., :colours]), alpha, self.bit_depth, self.icc_profile)

    @classmethod
    def from_image(cls, image):
        """`image`'s float arrays rounded to its bit depth."""
        channels = [image.pixels] + ([image.alpha] if image.alpha is not None else [])
        peak = 2**image.bit_depth - 1
        dtype = np.uint8 if image.bit_depth == 8 else np.uint16
        return cls(np.round(np.clip(np.concatenate(channels, axis=-1), 0.0, 1.0) * peak).astype(dtype), image.icc_profile)


@dataclasses.dataclass(frozen=True)
class Header:
    """What an image file's header says: `format` ("PNG", "JPEG", "TIFF", "BMP", "WebP"), size and frame count."""

    format: str
    width: int
    height: int
    frames: int = 1


def is_supported(path):
    """Whether `path` has the suffix of a format this module reads and writes."""
    return Path(path).suffix.lower() in FORMATS


def is_image_suffix(path):
    """Whether `path`'s suffix names an image format: one of ours, a camera's or any that Pillow knows."""
    import PIL.Image

    suffix = Path(path).suffix.lower()
    return suffix in (*FORMATS, *CAMERA_SUFFIXES) or suffix in PIL.Image.registered_extensions()


def format_names():
    """The supported formats in words, for messages: "PNG, JPEG, TIFF, BMP or WebP"."""
    names = list(dict.fromkeys(FORMATS.values()))
    return f"{', '.join(names[:-1])} or {names[-1]}"


def list_images(folder):
    """`(images, skipped)`: the files under `folder` taken as images and the others, sorted.

    Images are the supported files and those refused by name (GIF), and broken links so named
    (`read_header` reports them). Hidden files are in neither list.
    """
    images, skipped = [], []
    for file in sorted(Path(folder).rglob("*")):
        if (file.is_file() or broken_link(file)) and not file.name.startswith("."):
            (images if file.suffix.lower() in (*FORMATS, *REFUSED_FORMATS) else skipped).append(file)
    return images, skipped


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
    if broken_link(path):  # not "no such file": the link is there
        raise ImageError(broken_link(path))
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in REFUSED_FORMATS:
        refused = REFUSED_FORMATS[suffix]
        raise ImageError(f"{path}: {refused} is not supported (it may hold several frames); convert it to PNG")
    if not is_supported(path):
        raise ImageError(f"{path}: unsupported format {path.suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        with open(path, "rb") as file:
            start = file.read(12)
    except OSError as error:
        raise ImageError(f"{path}: cannot read it ({error.strerror})") from None
    if not start:
        raise ImageError(f"{path}: the file is empty")
    expected = FORMATS[suffix]
    found = _sniff(start)
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


def read_stored(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Reads an image file's samples after checking its header (`read_header`); raises `ImageError` naming the file."""
    path = Path(path)
    header = read_header(path, max_pixels)
    data = path.read_bytes()
    try:
        if header.format == "PNG":
            array, profile, upright = _decode_png(data)
        elif header.format == "TIFF":
            array, profile, upright = _decode_tiff(data)
        elif header.format == "JPEG":
            array, profile, upright = _decode_jpeg(data)
        else:
            array, profile, upright = _decode_pillow(data, header.format)
    except ImageError as error:
        raise ImageError(f"{path}: {error}") from None
    except Exception as error:  # each decoder raises its own types for corrupt data
        raise ImageError(f"{path}: cannot decode the {header.format} data ({first_line(error)})") from None
    del data
    image = StoredImage(_checked_samples(array, path), upright=upright)
    if profile and _profile_fits(profile, image.colour_samples.shape[-1]):
        image.icc_profile = bytes(profile)
    return image


def read_image(path, max_pixels=DEFAULT_MAX_PIXELS):
    """Reads an image file as float32 `Image` arrays (`read_stored`); raises `ImageError` naming the file."""
    return read_stored(path, max_pixels).to_image()


def write_image(path, image, overwrite=False):
    """Writes a float32 `Image` to `path` (`write_stored`)."""
    write_stored(path, StoredImage.from_image(image), overwrite)


def write_stored(path, image, overwrite=False):
    """Writes a `StoredImage` to `path` in the format of its suffix, atomically, with its ICC profile if the format keeps one.

    Formats of 8-bit samples get 16-bit samples rounded to 8 bits. Raises `ImageError` if the
    file exists and `overwrite` is False, or the format cannot hold the image (alpha in a JPEG
    or BMP); nothing is left behind on failure.
    """
    path = Path(path)
    if not is_supported(path):
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise ImageError(f"{path}: unsupported output format {path.suffix!r}; use one of {supported}")
    if path.exists() and not overwrite:
        raise ImageError(f"{path}: the output exists; pass --overwrite to replace it")
    format_name = FORMATS[path.suffix.lower()]
    array = image.samples
    if format_name in OPAQUE_FORMATS and array.shape[-1] in (2, 4):
        raise ImageError(f"{path}: {format_name} cannot store the alpha channel; write PNG, TIFF or WebP")
    if format_name in EIGHT_BIT_FORMATS:
        array = eight_bit(array)
    profile = image.icc_profile
    profile = profile if profile and _profile_fits(profile, image.colour_samples.shape[-1]) else None
    if format_name == "PNG":
        data = _encode_png(array, profile)
    elif format_name == "TIFF":
        data = _encode_tiff(array, profile)
    elif format_name == "JPEG":
        data = _encode_jpeg(array, profile)
    else:
        data = _encode_pillow(array, format_name, profile)
    try:
        atomic_write_bytes(path, data, overwrite)
    except FileExistsError as error:  # another process wrote `path` meanwhile: it is kept
        raise ImageError(str(error)) from None


def _sniff(start):
    """The format whose signature the file's first bytes carry, or None."""
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return "WebP"
    return next((name for signature, name in SIGNATURES.items() if start.startswith(signature)), None)


def _checked_samples(array, path):
    """A decoded array as (H, W, C) samples, or `ImageError` for a shape or sample type that is not an image's."""
    if array.size == 0:
        raise ImageError(f"{path}: no image data (a damaged or empty image)")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or 0 in array.shape:
        raise ImageError(f"{path}: unsupported image shape {array.shape}")
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"{path}: unsupported sample type {array.dtype}; use 8- or 16-bit images")
    return np.require(array, requirements="W")  # restored in place; a decoder's read-only buffer is copied


def _profile_fits(profile, channels):
    """Whether an ICC profile describes images of `channels` colours: its colour space, bytes 16-20, is GRAY or RGB."""
    return bytes(profile[16:20]) == (b"GRAY" if channels == 1 else b"RGB ")


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

    with _pillow_size_guard_off(), PIL.Image.open(path, formats=[format_name.upper()]) as file:
        width, height = file.size
        # A JPEG's extra MPO pictures are gain or depth maps of the one photo, not frames.
        frames = getattr(file, "n_frames", 1) if format_name in ("PNG", "WebP") else 1
        return Header(format_name, width, height, frames)


def _read_tiff_header(path):
    with _tifffile().TiffFile(path) as file:
        if not file.pages:
            raise ImageError("no image data (a damaged or empty TIFF)")
        page = file.pages[0]
        frames = sum(not page.is_reduced for page in file.pages)  # thumbnails are not frames
        return Header("TIFF", page.imagewidth, page.imagelength, frames)


def _decode_png(data):
    import PIL.Image
    import tensorflow as tf

    bit_depth = data[24] if len(data) > 24 else 8  # IHDR's bit depth
    dtype = tf.uint16 if bit_depth == 16 else tf.uint8
    try:
        array = tf.io.decode_png(data, channels=0, dtype=dtype).numpy()
    except tf.errors.InvalidArgumentError as error:
        raise ImageError(f"cannot decode the PNG data, the file is damaged ({_tf_reason(error)})") from None
    with PIL.Image.open(io.BytesIO(data), formats=["PNG"]) as file:  # reads the chunks before the pixels only
        array, upright = _upright(array, file.getexif().get(EXIF_ORIENTATION, 1))
        return array, file.info.get("icc_profile"), upright


def _aligned_empty(shape, dtype):
    """An empty C-contiguous array at TensorFlow's alignment (64 bytes), which `_as_tensor` can share."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buffer = np.empty(size + TF_ALIGNMENT, np.uint8)
    start = -buffer.ctypes.data % TF_ALIGNMENT
    return buffer[start : start + size].view(dtype).reshape(shape)


def _as_tensor(array):
    """`array` as a tensor: its own memory, through DLPack, when TensorFlow's alignment allows; else a copy."""
    import tensorflow as tf

    if array.flags.c_contiguous and array.ctypes.data % TF_ALIGNMENT == 0:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.convert_to_tensor(array)


def _tf_reason(error):
    """A `tf.io` decoding error's reason, without the graph details its message wraps it in."""
    return re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\].*", "", error.message).strip()


def _encode_png(array, icc_profile=None):
    import tensorflow as tf

    data = tf.io.encode_png(_as_tensor(array)).numpy()
    if not icc_profile:
        return data
    # An iCCP chunk right after IHDR (8 bytes of signature, 25 of IHDR): a named, deflated profile.
    body = b"iCCP" + b"ICC profile\x00\x00" + zlib.compress(icc_profile)
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return data[:33] + chunk + data[33:]


def _decode_jpeg(data):
    """Grey or RGB JPEG samples through `tf.io`, upright by the EXIF orientation; other JPEGs (CMYK) through Pillow.

    The photo is decoded in strips of about `JPEG_STRIP_BYTES` into one array: whole, Pillow
    holds it twice (its own 4 bytes per pixel, then the array) and `tf.io` keeps a freed
    tensor in its allocator's pool. The accurate integer IDCT gives Pillow's samples.
    """
    import PIL.Image
    import tensorflow as tf

    with _pillow_size_guard_off(), PIL.Image.open(io.BytesIO(data), formats=["JPEG"]) as file:  # the header only
        mode, (width, height) = file.mode, file.size
        orientation, profile = file.getexif().get(EXIF_ORIENTATION, 1), file.info.get("icc_profile")
    if mode not in ("L", "RGB"):
        return _decode_pillow(data, "JPEG")
    channels = len(mode)
    array = _aligned_empty((height, width, channels), np.uint8)
    rows = max(1, JPEG_STRIP_BYTES // (width * channels))
    for top in range(0, height, rows):
        window = [top, 0, min(rows, height - top), width]
        try:
            strip = tf.io.decode_and_crop_jpeg(data, window, channels=channels, dct_method="INTEGER_ACCURATE")
        except tf.errors.InvalidArgumentError as error:
            raise ImageError(f"cannot decode the JPEG data, the file is damaged ({_tf_reason(error)})") from None
        array[top : top + window[2]] = np.from_dlpack(strip)  # read in place, not copied first
    array, upright = _upright(array, orientation)
    return array, profile, upright


def _encode_jpeg(array, icc_profile=None):
    """Grey or RGB samples as a JPEG of `JPEG_QUALITY` through `tf.io`, with the ICC profile in APP2 segments."""
    import tensorflow as tf

    data = tf.io.encode_jpeg(_as_tensor(array), quality=JPEG_QUALITY).numpy()
    if not icc_profile:
        return data
    # The ICC specification's embedding: "ICC_PROFILE\0", then sequence number and count, in
    # segments of at most 65,519 profile bytes, after the JFIF APP0 segment (2 + its length).
    chunks = [icc_profile[start : start + 65519] for start in range(0, len(icc_profile), 65519)]
    segments = b"".join(
        b"\xff\xe2" + struct.pack(">H", 16 + len(chunk)) + b"ICC_PROFILE\x00" + bytes((number, len(chunks))) + chunk
        for number, chunk in enumerate(chunks, start=1)
    )
    after_app0 = 4 + struct.unpack(">H", data[4:6])[0] if data[2:4] == b"\xff\xe0" else 2
    return data[:after_app0] + segments + data[after_app0:]


def _upright(array, orientation):
    """`(array turned upright, the transform's number)` for an EXIF or TIFF orientation (1-8; others are taken as 1)."""
    index = UPRIGHT_TRANSFORMS.get(orientation, 0)
    if not index:
        return array, 0
    array = array[::-1] if index & 1 else array
    array = array[:, ::-1] if index & 2 else array
    return np.ascontiguousarray(array.swapaxes(0, 1) if index & 4 else array), index


def _decode_pillow(data, format_name):
    """JPEG, BMP or WebP samples as grey, grey and alpha, RGB or RGBA, upright by their EXIF orientation."""
    import PIL.Image
    import PIL.ImageOps

    with _pillow_size_guard_off(), PIL.Image.open(io.BytesIO(data), formats=[format_name.upper()]) as file:
        profile = file.info.get("icc_profile")
        upright = UPRIGHT_TRANSFORMS.get(file.getexif().get(EXIF_ORIENTATION, 1), 0)
        file = PIL.ImageOps.exif_transpose(file)  # phone photos: apply the EXIF orientation
        if file.mode == "1":
            file = file.convert("L")
        elif file.mode not in ("L", "LA", "RGB", "RGBA"):  # CMYK, palettes: converted by Pillow
            file = file.convert("RGBA" if "A" in file.mode or "transparency" in file.info else "RGB")
        return np.asarray(file), profile, upright


def _encode_pillow(array, format_name, icc_profile=None):
    import PIL.Image

    if format_name == "WebP" and array.shape[-1] <= 2:  # WebP stores colour only
        array = np.concatenate([np.repeat(array[..., :1], 3, axis=-1), array[..., 1:]], axis=-1)
    # WebP lossless, as PNG: a restored image is not degraded again; `exact` keeps colours under transparent pixels.
    options = {"JPEG": {"quality": JPEG_QUALITY}, "WebP": {"lossless": True, "exact": True}}.get(format_name, {})
    if icc_profile and format_name != "BMP":
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    PIL.Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(
        buffer, format=format_name.upper(), **options
    )
    return buffer.getvalue()


def eight_bit(samples):
    """8-bit samples as they are; 16-bit ones rounded to 8 bits (value / 257), as 8-bit files are written."""
    return np.round(samples / np.float32(257)).astype(np.uint8) if samples.dtype == np.uint16 else samples


def _tifffile():
    try:
        import tifffile
    except ImportError:
        raise ImageError(f"TIFF support needs tifffile: {TIFF_INSTALL}") from None
    return tifffile


def _decode_tiff(data):
    """A TIFF's samples as grey or RGB (and alpha) by its photometric interpretation, upright by its orientation."""
    with _tifffile().TiffFile(io.BytesIO(data)) as file:
        page = file.pages[0]
        try:
            array = page.asarray()
        except ValueError as error:
            if "imagecodecs" not in str(error):
                raise
            raise ImageError(f"its compression ({page.compression.name}) needs imagecodecs: {TIFF_INSTALL}") from None
        if array.ndim == 3 and page.planarconfig == 2:
            array = np.moveaxis(array, 0, -1)  # planar (C, H, W) storage
        array, upright = _upright(_tiff_colours(array, page), page.tags.valueof(EXIF_ORIENTATION, 1))
        return array, page.iccprofile, upright


def _tiff_colours(array, page):
    """Maps `page`'s samples to grey or RGB (and alpha), or raises ImageError for those it cannot."""
    photometric = int(page.photometric)
    if array.dtype == bool:  # 1-bit, bilevel
        array = array.astype(np.uint8) * np.uint8(255)
    if photometric in (MINISBLACK, RGB) or array.dtype.kind != "u":  # other sample types are refused later
        return array
    if photometric == YCBCR and page.compression in TIFF_JPEG_COMPRESSIONS:
        return array
    if photometric == MINISWHITE:
        colour = array[..., :1] if array.ndim == 3 else array
        inverted = np.iinfo(array.dtype).max - colour
        return np.concatenate([inverted, array[..., 1:]], axis=-1) if array.ndim == 3 else inverted
    if photometric == PALETTE and page.colormap is not None and array.ndim == 2:
        colormap = page.colormap
        if colormap.max() < 256:  # some writers store 8-bit values
            colormap = colormap.astype(np.uint8)
        elif not (colormap % 257).any():  # 8-bit values scaled to 16 bits, as the TIFF specification says
            colormap = (colormap // 257).astype(np.uint8)
        return colormap.T[array]
    cmyk = page.tags.valueof(INK_SET, CMYK_INKS) == CMYK_INKS and array.ndim == 3 and array.shape[-1] in (4, 5)
    if photometric == SEPARATED and cmyk:
        return _cmyk_to_rgb(array)
    name = getattr(page.photometric, "name", page.photometric)  # tifffile names the values it knows
    raise ImageError(
        f"TIFF of photometric interpretation {name} with {page.samplesperpixel} samples "
        "per pixel is not supported; convert it to RGB or grayscale"
    )


def _cmyk_to_rgb(array):
    """CMYK (and alpha) samples to RGB (and alpha) as Pillow converts CMYK JPEGs: each colour is (1 - C)(1 - K)."""
    peak = np.iinfo(array.dtype).max
    inks = array.astype(np.float64)
    rgb = (peak - inks[..., :3]) * (peak - inks[..., 3:4]) / peak
    return np.concatenate([np.round(rgb).astype(array.dtype), array[..., 4:]], axis=-1)


def _encode_tiff(array, icc_profile=None):
    buffer = io.BytesIO()
    photometric = "minisblack" if array.shape[-1] <= 2 else "rgb"
    extrasamples = ["unassalpha"] if array.shape[-1] in (2, 4) else None
    _tifffile().imwrite(
        buffer,
        array[..., 0] if array.shape[-1] == 1 else array,
        photometric=photometric,
        extrasamples=extrasamples,
        iccprofile=icc_profile,
    )
    return buffer.getvalue()

