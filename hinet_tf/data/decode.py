"""Decodes PNG (8 or 16 bit) and JPEG files into float32 RGB images in [0, 1]."""

import tensorflow as tf


def decode_image(contents):
    """Encoded PNG/JPEG bytes -> float32 (H, W, 3) in [0, 1], keeping 16-bit PNG precision."""
    # Decoding to uint16 keeps 16-bit PNGs exact and scales 8-bit images by 257, so the
    # conversion to float gives exactly value / 255 for them.
    image = tf.io.decode_image(contents, channels=3, dtype=tf.uint16, expand_animations=False)
    return tf.image.convert_image_dtype(image, tf.float32)


def read_image(path):
    """Reads and decodes one image file (a path tensor or string)."""
    return decode_image(tf.io.read_file(path))
