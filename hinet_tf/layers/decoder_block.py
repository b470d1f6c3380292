"""HINet's decoder block (the official `UNetUpBlock`)."""

import keras
from keras import ops

from hinet_tf.layers.conv import conv2d_transpose
from hinet_tf.layers.encoder_block import EncoderBlock


@keras.saving.register_keras_serializable(package="hinet_tf")
class DecoderBlock(keras.layers.Layer):
    """Upsamples with a 2x2 stride-2 transposed conv, concatenates the skip, then an `EncoderBlock`.

    Called on `[x, skip]`: `conv_block(concat([up(x), skip]))`, the upsampled tensor
    first. Called on `x` alone (a U-Net without skip connections, as "HINet Simple"),
    it returns `conv_block(up(x))`. The inner block has no normalisation, CSFF or
    downsampling.

    Args:
        filters: output channels (and the skip's channels).
        relu_slope: negative slope of the LeakyReLUs.
        num_extra_blocks: residual blocks appended inside the inner block.
    """

    def __init__(self, filters, relu_slope=0.2, num_extra_blocks=0, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.relu_slope = relu_slope
        self.num_extra_blocks = num_extra_blocks
        self.up = conv2d_transpose(filters, name="up", dtype=self.dtype_policy)
        self.conv_block = EncoderBlock(
            filters,
            norm="none",
            relu_slope=relu_slope,
            num_extra_blocks=num_extra_blocks,
            name="conv_block",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        has_skip = isinstance(input_shape[0], (list, tuple))
        x_shape = input_shape[0] if has_skip else input_shape
        self.up.build(x_shape)
        up_shape = self.up.compute_output_shape(x_shape)
        self.conv_block.build((*up_shape[:-1], (2 if has_skip else 1) * self.filters))

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            x, skip = inputs
            return self.conv_block(ops.concatenate([self.up(x), skip], axis=-1))
        return self.conv_block(self.up(inputs))

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0] if isinstance(input_shape[0], (list, tuple)) else input_shape
        return (*self.up.compute_output_shape(x_shape)[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "relu_slope": self.relu_slope,
            "num_extra_blocks": self.num_extra_blocks,
        }
