"""Decodes PNG (8 or 16 bit) and JPEG files into float32 RGB images in [0, 1], pixel for pixel as inference reads them.

JPEG uses the accurate integer IDCT (libjpeg's `JDCT_ISLOW`, as Pillow and OpenCV, so as
the official code and `hinet_tf.inference.read_image`) and applies the EXIF orientation.
TensorFlow's default fast IDCT is off by up to 15 levels on quality-95 photos.
"""

import io

import numpy as np
import tensorflow as tf

from hinet_tf.utils import dihedral
from hinet_tf.utils.image_io import EXIF_ORIENTATION
from hinet_tf.utils.image_io import JPEG_SIGNATURE
from hinet_tf.utils.image_io import UPRIGHT_TRANSFORMS


def _upright_transform(contents):
    """The dihedral transform that puts JPEG bytes upright by their EXIF orientation; 0 without a readable one."""
    import PIL.Image

    try:
        with PIL.Image.open(io.BytesIO(contents.item())) as file:  # a 0-d object array of bytes
            orientation = int(file.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 (a damaged EXIF block must not stop training; the pixels decode anyway)
        return np.int32(0)
    return np.int32(UPRIGHT_TRANSFORMS.get(orientation, 0))


def _decode_jpeg(contents):
    image = tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")
    index = tf.ensure_shape(tf.numpy_function(_upright_transform, [contents], tf.int32, stateful=False), [])
    return tf.cast(dihedral.transform(image, index), tf.float32) / 255.0


def _decode_png(contents):
    """PNG, or any other format `tf.io.decode_image` reads."""
    # Decoding to uint16 keeps 16-bit PNGs exact and scales 8-bit images by 257, so the
    # division gives exactly value / 255 for them.
    image = tf.io.decode_image(contents, channels=3, dtype=tf.uint16, expand_animations=False)
    return tf.cast(image, tf.float32) / 65535.0


def decode_image(contents):
    """Encoded PNG/JPEG bytes -> float32 (H, W, 3) in [0, 1], keeping 16-bit PNG precision."""
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, len(JPEG_SIGNATURE)), JPEG_SIGNATURE)
    image = tf.cond(is_jpeg, lambda: _decode_jpeg(contents), lambda: _decode_png(contents))
    return tf.ensure_shape(image, [None, None, 3])


def read_image(path):
    """Reads and decodes one image file (a path tensor or string)."""
    return decode_image(tf.io.read_file(path))
