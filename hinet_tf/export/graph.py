"""The restoration graph that exported models serve: padding, the model, cropping back."""

import tensorflow as tf


def reflect_pad_to_multiple(images, multiple):
    """Reflect-pads NHWC `images` at the bottom and right to multiples of `multiple`.

    Built from slices, reversals and concatenations, which LiteRT converts with dynamic
    shapes (a `tf.pad` with data-dependent paddings loses the channel count there).
    Needs height and width of at least `multiple` (an image's own pixels are reflected).
    """
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    pad_height = (multiple - height % multiple) % multiple
    pad_width = (multiple - width % multiple) % multiple
    images = tf.concat([images, tf.reverse(images[:, height - 1 - pad_height : height - 1], axis=[1])], axis=1)
    return tf.concat([images, tf.reverse(images[:, :, width - 1 - pad_width : width - 1], axis=[2])], axis=2)


def final_output(model, images):
    """The model's restored image: its last output when it has several (HINet's stages)."""
    outputs = model(images, training=False)
    return outputs[-1] if isinstance(outputs, (list, tuple)) else outputs


def restore_any_size(model, images):
    """Restores float NHWC images of any height and width: pad, run, crop back."""
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    padded = reflect_pad_to_multiple(images, getattr(model, "size_multiple", 1))
    return final_output(model, padded)[:, :height, :width, :]


def float_signature(model, shape=(None, None, None)):
    """A `tf.function` from float32 images in [0, 1] to `{"restored": float32 images}`.

    With a fixed `shape` (batch, height, width), height and width must be multiples of
    the model's size multiple and no padding is added.
    """
    spec = tf.TensorSpec((*shape, _channels(model)), tf.float32, name="images")
    fixed = None not in shape

    @tf.function(input_signature=[spec])
    def restore(images):
        restored = final_output(model, images) if fixed else restore_any_size(model, images)
        return {"restored": restored}

    return restore


def uint8_signature(model):
    """A `tf.function` from uint8 images to `{"restored": uint8 images}` (clipped and rounded)."""
    spec = tf.TensorSpec((None, None, None, _channels(model)), tf.uint8, name="images")

    @tf.function(input_signature=[spec])
    def restore_uint8(images):
        restored = restore_any_size(model, tf.cast(images, tf.float32) / 255.0)
        restored = tf.round(tf.clip_by_value(restored, 0.0, 1.0) * 255.0)
        return {"restored": tf.cast(restored, tf.uint8)}

    return restore_uint8


def _channels(model):
    return model.inputs[0].shape[-1]
