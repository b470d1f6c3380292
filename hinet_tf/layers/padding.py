"""Reflect-padding to a size multiple and cropping back: how HINet takes images of any size."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hinet_tf")
class ReflectPadToMultiple(keras.layers.Layer):
    """Reflect-pads NHWC images at the bottom and right to multiples of `multiple`.

    The mirror excludes the edge pixel (as `numpy.pad(mode="reflect")`) and is built from
    slices, flips and concatenations, which LiteRT converts with dynamic shapes. Height
    and width must be more than half of `multiple` (checked where the size is known).
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
            if isinstance(size, int) and pad >= size:  # the mirror would need more rows than the image has
                side = "height" if axis == 1 else "width"
                raise ValueError(
                    f"Images must be more than {self.multiple // 2} pixels high and wide to be reflect-padded to "
                    f"multiples of {self.multiple}; got {side} {size}."
                )
            start, stop = size - 1 - pad, size - 1
            mirrored = images[:, start:stop] if axis == 1 else images[:, :, start:stop]
            images = ops.concatenate([images, ops.flip(mirrored, axis=axis)], axis=axis)
        return images

    def compute_output_shape(self, input_shape):
        padded = [None if size is None else size + (-size % self.multiple) for size in input_shape[1:3]]
        return (input_shape[0], *padded, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="hinet_tf")
class CropToMatch(keras.layers.Layer):
    """`crop(images, reference)`: the top-left corner of `images` at the reference's height and width."""

    def call(self, images, reference):
        return images[:, : ops.shape(reference)[1], : ops.shape(reference)[2], :]

    def compute_output_shape(self, images_shape, reference_shape):
        return (images_shape[0], *reference_shape[1:3], images_shape[3])

    def get_config(self):
        return super().get_config()  # no arguments of its own; the override keeps a dtype policy serialisable
