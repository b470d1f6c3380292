"""Convolution factories with PyTorch's default weight initialisation."""

import keras

# kaiming_uniform(a=sqrt(5)) in PyTorch is uniform(+-1/sqrt(fan_in)): variance scaling of 1/3.
TORCH_DEFAULT_INIT = {"class_name": "VarianceScaling", "config": {"scale": 1 / 3, "mode": "fan_in", "distribution": "uniform"}}


def conv2d(filters, kernel_size, name, strides=1, use_bias=True, dtype=None):
    """A 2D convolution with PyTorch-style "same" padding for odd kernels (and 4x4/stride 2 on even sizes)."""
    return keras.layers.Conv2D(
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
    return keras.layers.Conv2DTranspose(
        filters,
        2,
        strides=2,
        padding="valid",
        kernel_initializer=keras.initializers.get(TORCH_DEFAULT_INIT),
        dtype=dtype,
        name=name,
    )
