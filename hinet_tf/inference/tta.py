"""The 8 flips and rotations of test-time augmentation (the dihedral group of the square).

Transform `index` flips up-down if bit 0 is set, left-right if bit 1 is set, then
transposes height and width if bit 2 is set. Transforms 0-3 keep the image's shape and
4-7 swap height and width, so each group of four can run through a model as one batch.
"""

import tensorflow as tf

NUM_TRANSFORMS = 8
SHAPE_GROUPS = ((0, 1, 2, 3), (4, 5, 6, 7))


def transform(images, index):
    """Applies dihedral transform `index` (0 is the identity) to NHWC `images`."""
    _check_index(index)
    images = _flips(tf.convert_to_tensor(images), index)
    return tf.transpose(images, (0, 2, 1, 3)) if index & 4 else images


def inverse_transform(images, index):
    """Undoes `transform(images, index)`."""
    _check_index(index)
    images = tf.convert_to_tensor(images)
    if index & 4:
        images = tf.transpose(images, (0, 2, 1, 3))
    return _flips(images, index)


def _flips(images, index):
    if index & 1:
        images = tf.reverse(images, axis=[1])
    if index & 2:
        images = tf.reverse(images, axis=[2])
    return images


def _check_index(index):
    if not 0 <= index < NUM_TRANSFORMS:
        raise ValueError(f"A dihedral transform index lies in 0..{NUM_TRANSFORMS - 1}, got {index}.")
