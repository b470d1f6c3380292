"""Plain residual block for the paper's deeper HINet variant."""

import keras
from keras import ops

from hinet_tf.layers.conv import conv2d


@keras.saving.register_keras_serializable(package="hinet_tf")
class ResidualBlock(keras.layers.Layer):
    """`x + conv_2(leaky_relu(conv_1(x)))` with 3x3 convolutions keeping `filters` channels.

    Args:
        filters: channels in and out.
        relu_slope: negative slope of the LeakyReLU.
    """

    def __init__(self, filters, relu_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.relu_slope = relu_slope
        self.conv_1 = conv2d(filters, 3, name="conv_1", dtype=self.dtype_policy)
        self.conv_2 = conv2d(filters, 3, name="conv_2", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.conv_1.build(input_shape)
        self.conv_2.build((*input_shape[:-1], self.filters))

    def call(self, inputs):
        hidden = ops.leaky_relu(self.conv_1(inputs), negative_slope=self.relu_slope)
        return inputs + self.conv_2(hidden)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "relu_slope": self.relu_slope}
