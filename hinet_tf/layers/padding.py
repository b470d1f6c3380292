"""Reflect-padding to a size multiple and cropping back: how HINet takes images of any size."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hinet_tf")
class ReflectPadToMultiple(keras.layers.Layer):
    """Reflect-pads NHWC images at the bottom and right to multiples of `multiple`.

    The mirror excludes the edge pixel (as `numpy.pad(mode="reflect")`), and the padding
    is built from slices, flips and concatenations, which LiteRT converts with dynamic
    shapes. Height and width must be at least `multiple`; a size that is a multiple
    already is returned unchanged.

    Args:
        multiple: the size multiple (16 for HINet's five levels).
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def call(self, images):
        for axis in (1, 2):
            size = ops.shape(images)[axis]
            if isinstance(size, int) and size % self.multiple == 0:
                continue  # a known multiple: no empty slice (tf2onnx turns one into a wrong Reshape)
            pad = (self.multiple - size % self.multiple) % self.multiple
            mirrored = ops.flip(_slice(images, axis, size - 1 - pad, size - 1), axis=axis)
            images = ops.concatenate([images, mirrored], axis=axis)
        return images

    def compute_output_shape(self, input_shape):
        padded = [None if size is None else size + (-size % self.multiple) for size in input_shape[1:3]]
        return (input_shape[0], *padded, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="hinet_tf")
class CropToMatch(keras.layers.Layer):
    """Crops `[images, reference]` to the reference's height and width (top-left corner)."""

    def call(self, inputs):
        images, reference = inputs
        height, width = ops.shape(reference)[1], ops.shape(reference)[2]
        return images[:, :height, :width, :]

    def compute_output_shape(self, input_shape):
        images_shape, reference_shape = input_shape
        return (images_shape[0], *reference_shape[1:3], images_shape[3])

    def get_config(self):
        return super().get_config()  # no arguments of its own; the override keeps a dtype policy serialisable


def _slice(images, axis, start, stop):
    return images[:, start:stop] if axis == 1 else images[:, :, start:stop]
