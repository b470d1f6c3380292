"""Decodes PNG (8 or 16 bit) and JPEG files into float32 RGB images in [0, 1], pixel for pixel as inference reads them.

JPEG uses the accurate integer IDCT (libjpeg's `JDCT_ISLOW`, as Pillow and OpenCV, so as
the official code and `hinet_tf.inference.read_image`) and applies the EXIF orientation.
TensorFlow's default fast IDCT is off by up to 15 levels on quality-95 photos.
"""

import io

import numpy as np
import tensorflow as tf

_JPEG_MAGIC = b"\xff\xd8\xff"
# EXIF orientation 1-8 -> (flip up-down, flip left-right, then transpose), as Pillow's `exif_transpose`.
_ORIENTATIONS = ((0, 0, 0), (0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1))


def _exif_orientation(contents):
    """The EXIF orientation tag (1-8) of JPEG bytes; 1 when there is none or it is unreadable."""
    import PIL.Image

    try:
        with PIL.Image.open(io.BytesIO(contents.item())) as file:  # a 0-d object array of bytes
            orientation = int(file.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 (a damaged EXIF block must not stop training; the pixels decode anyway)
        return np.int32(1)
    return np.int32(orientation if 1 <= orientation <= 8 else 1)


def _orient(image, orientation):
    flip_up_down, flip_left_right, transpose = tf.unstack(tf.gather(tf.constant(_ORIENTATIONS) > 0, orientation))
    image = tf.cond(flip_up_down, lambda: image[::-1], lambda: image)
    image = tf.cond(flip_left_right, lambda: image[:, ::-1], lambda: image)
    return tf.cond(transpose, lambda: tf.transpose(image, (1, 0, 2)), lambda: image)


def _decode_jpeg(contents):
    image = tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")
    orientation = tf.ensure_shape(tf.numpy_function(_exif_orientation, [contents], tf.int32, stateful=False), [])
    return tf.cast(_orient(image, orientation), tf.float32) / 255.0


def _decode_png(contents):
    """PNG, or any other format `tf.io.decode_image` reads."""
    # Decoding to uint16 keeps 16-bit PNGs exact and scales 8-bit images by 257, so the
    # division gives exactly value / 255 for them.
    image = tf.io.decode_image(contents, channels=3, dtype=tf.uint16, expand_animations=False)
    return tf.cast(image, tf.float32) / 65535.0


def decode_image(contents):
    """Encoded PNG/JPEG bytes -> float32 (H, W, 3) in [0, 1], keeping 16-bit PNG precision."""
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), _JPEG_MAGIC)
    image = tf.cond(is_jpeg, lambda: _decode_jpeg(contents), lambda: _decode_png(contents))
    return tf.ensure_shape(image, [None, None, 3])


def read_image(path):
    """Reads and decodes one image file (a path tensor or string)."""
    return decode_image(tf.io.read_file(path))
