"""Geometric augmentation applied identically to a degraded image and its target.

The two images are concatenated along the channels, so a crop or a flip cannot
treat them differently.
"""

import tensorflow as tf

from hinet_tf.utils import dihedral


def reflect_pad_to(image, height, width):
    """Pads `image` (H, W, C) at the bottom and right to at least `height` x `width`.

    The padding mirrors the image with its edge repeated (OpenCV's `BORDER_REFLECT`, as
    the official data loader), repeatedly when the image is less than half the size.
    """

    def pad_once(image):
        shape = tf.shape(image)
        pad_h = tf.minimum(tf.maximum(height - shape[0], 0), shape[0])
        pad_w = tf.minimum(tf.maximum(width - shape[1], 0), shape[1])
        return (tf.pad(image, [[0, pad_h], [0, pad_w], [0, 0]], mode="SYMMETRIC"),)

    def too_small(image):
        shape = tf.shape(image)
        return tf.logical_or(shape[0] < height, shape[1] < width)

    (padded,) = tf.while_loop(
        too_small, pad_once, (image,), shape_invariants=(tf.TensorShape([None, None, image.shape[-1]]),)
    )
    return padded


def _stack(degraded, target):
    tf.debugging.assert_equal(
        tf.shape(degraded)[:2], tf.shape(target)[:2], message="degraded and target images differ in size"
    )
    return tf.concat([degraded, target], axis=-1), degraded.shape[-1]


def random_crop_pair(degraded, target, size):
    """The same random `size` x `size` crop of both images, reflect-padding smaller ones."""
    stacked, channels = _stack(degraded, target)
    stacked = reflect_pad_to(stacked, size, size)
    stacked = tf.image.random_crop(stacked, [size, size, 2 * channels])
    return stacked[..., :channels], stacked[..., channels:]


def center_crop_pair(degraded, target, size):
    """The central `size` x `size` crop of both images, reflect-padding smaller ones."""
    stacked, channels = _stack(degraded, target)
    stacked = reflect_pad_to(stacked, size, size)
    shape = tf.shape(stacked)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    stacked = stacked[top : top + size, left : left + size]
    stacked = tf.ensure_shape(stacked, [size, size, 2 * channels])
    return stacked[..., :channels], stacked[..., channels:]


def dihedral_pair(degraded, target, index):
    """Dihedral transform `index` (`hinet_tf.utils.dihedral`) of both images."""
    stacked, channels = _stack(degraded, target)
    stacked = dihedral.transform(stacked, index)
    return stacked[..., :channels], stacked[..., channels:]


def random_dihedral_pair(degraded, target):
    """The same uniformly drawn flip/rotation of both images."""
    index = tf.random.uniform([], 0, dihedral.NUM_TRANSFORMS, dtype=tf.int32)
    return dihedral_pair(degraded, target, index)
