"""The 8 flips and rotations of an image (the dihedral group of the square), numbered once.

Transform `index` flips up-down if bit 0 is set, left-right if bit 1 is set, then swaps
height and width (a transpose) if bit 2 is set. Transforms 0-3 keep an image's shape and
4-7 swap its height and width. Training augmentation draws `index` at random; test-time
augmentation runs all 8 and undoes each with `inverse_transform`.

Images are channels last, (H, W, C) or (N, H, W, C). `index` is a Python int or an
integer tensor (drawn inside a `tf.data` pipeline).
"""

import tensorflow as tf

NUM_TRANSFORMS = 8
SHAPE_GROUPS = ((0, 1, 2, 3), (4, 5, 6, 7))  # transforms giving the same output shape


def transform(images, index):
    """Applies dihedral transform `index` (0 is the identity) to `images`."""
    _check_index(index)
    images = _flip_rows(tf.convert_to_tensor(images), index & 1)
    images = _flip_columns(images, index & 2)
    return _transpose(images, index & 4)


def inverse_transform(images, index):
    """Undoes `transform(images, index)`."""
    _check_index(index)
    images = _transpose(tf.convert_to_tensor(images), index & 4)
    return _flip_rows(_flip_columns(images, index & 2), index & 1)


def _flip_rows(images, flag):
    return _apply_if(flag, lambda: tf.reverse(images, axis=[-3]), images)


def _flip_columns(images, flag):
    return _apply_if(flag, lambda: tf.reverse(images, axis=[-2]), images)


def _transpose(images, flag):
    axes = list(range(images.shape.rank))
    axes[-3], axes[-2] = axes[-2], axes[-3]
    return _apply_if(flag, lambda: tf.transpose(images, axes), images)


def _apply_if(flag, function, images):
    """`function()` where `flag` is set, else `images`; a tensor `flag` becomes a `tf.cond`."""
    if isinstance(flag, int):
        return function() if flag else images
    return tf.cond(flag > 0, function, lambda: images)


def _check_index(index):
    if isinstance(index, int) and not 0 <= index < NUM_TRANSFORMS:
        raise ValueError(f"A dihedral transform index lies in 0..{NUM_TRANSFORMS - 1}, got {index}.")
