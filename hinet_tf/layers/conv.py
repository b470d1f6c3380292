"""Convolutions initialised as PyTorch's `nn.Conv2d` and `nn.ConvTranspose2d`, so runs from scratch match the official code."""

import math

import keras
from keras import ops

# kaiming_uniform(a=sqrt(5)) in PyTorch is uniform(+-1/sqrt(fan_in)): variance scaling of 1/3.
TORCH_DEFAULT_INIT = {"class_name": "VarianceScaling", "config": {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"}}


def _torch_bias_initializer(fan_in):
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-bound, bound)


@keras.saving.register_keras_serializable(package="hinet_tf")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose bias starts as PyTorch's: fan_in is `in_channels * kh * kw`."""

    def build(self, input_shape):
        if self.use_bias:
            self.bias_initializer = _torch_bias_initializer(input_shape[-1] * math.prod(self.kernel_size))
        super().build(input_shape)


@keras.saving.register_keras_serializable(package="hinet_tf")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` whose bias starts as PyTorch's: fan_in is `out_channels * kh * kw`.

    When the stride equals a square kernel with "valid" padding (HINet's 2x2 upsampling),
    every input pixel writes its own output block, so `call` runs it as a 1x1 convolution
    to `kh * kw * filters` channels and `depth_to_space`: the same weights and sums. Why:
    tf2onnx gives a dynamic-size transposed convolution shape arithmetic, a slice and a pad;
    this pair it converts plainly, and `export.onnx` writes it back as one `ConvTranspose`.
    """

    def build(self, input_shape):
        if self.use_bias:
            self.bias_initializer = _torch_bias_initializer(self.filters * math.prod(self.kernel_size))
        super().build(input_shape)

    @property
    def as_depth_to_space(self):
        """Whether every input pixel writes its own output block, so `call` uses depth_to_space."""
        square = self.kernel_size[0] == self.kernel_size[1] and tuple(self.strides) == tuple(self.kernel_size)
        plain = tuple(self.dilation_rate) == (1, 1) and self.output_padding is None
        return square and plain and self.padding == "valid" and self.data_format == "channels_last"

    def call(self, inputs):
        if not self.as_depth_to_space:
            return super().call(inputs)
        block = self.kernel_size[0]
        # (kh, kw, filters, in) -> (1, 1, in, kh * kw * filters), in depth_to_space's channel order.
        kernel = ops.transpose(self.kernel, (3, 0, 1, 2))
        blocks = ops.conv(inputs, ops.reshape(kernel, (1, 1, kernel.shape[0], block * block * self.filters)))
        if self.use_bias:
            blocks = blocks + ops.tile(self.bias, (block * block,))
        outputs = ops.depth_to_space(blocks, block)
        return outputs if self.activation is None else self.activation(outputs)


def conv2d(filters, kernel_size, name, strides=1, use_bias=True, dtype=None):
    """A 2D convolution with PyTorch-style "same" padding for odd kernels (and 4x4/stride 2 on even sizes)."""
    initializer = keras.initializers.get(TORCH_DEFAULT_INIT)
    return Conv2D(
        filters, kernel_size, strides, "same", use_bias=use_bias, kernel_initializer=initializer, dtype=dtype, name=name
    )


def conv2d_transpose(filters, name, dtype=None):
    """The decoder's 2x2, stride-2 transposed convolution (doubles height and width)."""
    initializer = keras.initializers.get(TORCH_DEFAULT_INIT)
    return Conv2DTranspose(filters, 2, 2, "valid", kernel_initializer=initializer, dtype=dtype, name=name)
