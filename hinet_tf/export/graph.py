"""The serving functions of exported models: an image restorer (padding and cropping inside) behind a signature."""

import tensorflow as tf

from hinet_tf.models import image_restorer
from hinet_tf.utils.tiles import check_tile


def float_signature(model, shape=(None, None, None)):
    """A `tf.function` from float32 images in [0, 1] to `{"restored": float32 images}`.

    `model` is an image restorer (a `HINetBackbone` is wrapped in a `HINetImageRestorer`,
    which pads any height and width inside the graph). With a fixed `shape` (batch,
    height, width), height and width must be multiples of the model's size multiple.
    """
    model = image_restorer(model)
    spec = tf.TensorSpec((*shape, _channels(model)), tf.float32, name="images")

    @tf.function(input_signature=[spec])
    def restore(images):
        return {"restored": model(images, training=False)}

    return restore


def input_shape(model, tile=None):
    """The (batch, height, width) of an export: any size, or one tile of `tile` pixels (checked)."""
    if tile is None:
        return (None, None, None)
    check_tile(tile, getattr(image_restorer(model), "size_multiple", 1))
    return (1, tile, tile)


def uint8_signature(model):
    """A `tf.function` from uint8 images to `{"restored": uint8 images}` (clipped and rounded)."""
    model = image_restorer(model)
    spec = tf.TensorSpec((None, None, None, _channels(model)), tf.uint8, name="images")

    @tf.function(input_signature=[spec])
    def restore_uint8(images):
        restored = model(tf.cast(images, tf.float32) / 255.0, training=False)
        restored = tf.round(tf.clip_by_value(restored, 0.0, 1.0) * 255.0)
        return {"restored": tf.cast(restored, tf.uint8)}

    return restore_uint8


def _channels(model):
    return model.inputs[0].shape[-1]
