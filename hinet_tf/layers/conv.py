"""Convolutions initialised as PyTorch's `nn.Conv2d` and `nn.ConvTranspose2d`, so runs from scratch match the official code."""

import math

import keras

# kaiming_uniform(a=sqrt(5)) in PyTorch is uniform(+-1/sqrt(fan_in)): variance scaling of 1/3.
TORCH_DEFAULT_INIT = {"class_name": "VarianceScaling", "config": {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"}}


def _torch_bias_initializer(fan_in):
    """PyTorch's default bias: uniform on +-1/sqrt(fan_in)."""
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
    """`keras.layers.Conv2DTranspose` whose bias starts as PyTorch's.

    PyTorch takes fan_in from dimension 1 of the `(in, out, kh, kw)` weight, so it is
    `out_channels * kh * kw` here.
    """

    def build(self, input_shape):
        if self.use_bias:
            self.bias_initializer = _torch_bias_initializer(self.filters * math.prod(self.kernel_size))
        super().build(input_shape)


def conv2d(filters, kernel_size, name, strides=1, use_bias=True, dtype=None):
    """A 2D convolution with PyTorch-style "same" padding for odd kernels (and 4x4/stride 2 on even sizes)."""
    return Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=keras.initializers.get(TORCH_DEFAULT_INIT),
        dtype=dtype,
        name=name,
    )


def conv2d_transpose(filters, name, dtype=None):
    """The decoder's 2x2, stride-2 transposed convolution (doubles height and width)."""
    return Conv2DTranspose(
        filters,
        2,
        strides=2,
        padding="valid",
        kernel_initializer=keras.initializers.get(TORCH_DEFAULT_INIT),
        dtype=dtype,
        name=name,
    )
