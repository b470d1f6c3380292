"""HINet's blocks: the official `UNetConvBlock` and `UNetUpBlock`, CSFF, SAM and the deeper variant's residual block.

Their attribute names are the official module names, and the paths of their weights in
saved files; multi-input blocks take their tensors as positional arguments.
"""

import keras
from keras import ops

from hinet_tf.layers.conv import conv2d
from hinet_tf.layers.conv import conv2d_transpose
from hinet_tf.layers.normalization import build_normalization


@keras.saving.register_keras_serializable(package="hinet_tf")
class EncoderBlock(keras.layers.Layer):
    """Conv 3x3, normalisation, LeakyReLU, conv 3x3, LeakyReLU, plus a 1x1 shortcut (`identity`).

    Then the extra residual blocks, with `use_csff` the fusion of stage 1's features
    (`block(x, encoder_feature, decoder_feature)`), and with `downsample` a 4x4 stride-2
    conv without bias: the block then returns `(downsampled, output)`, the output being the skip.

    Args:
        filters: output channels.
        norm: one of `hinet_tf.layers.NORMALIZATIONS` ("half_instance" is HIN).
        relu_slope: negative slope of the LeakyReLUs.
        downsample: end with the downsampling conv.
        use_csff: fuse stage 1's features (blocks that downsample only).
        num_extra_blocks: residual blocks after the shortcut (the paper's deeper variant uses 2).
    """

    def __init__(
        self, filters, norm="half_instance", relu_slope=0.2, downsample=False, use_csff=False, num_extra_blocks=0,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        if use_csff and not downsample:
            raise ValueError("CSFF is only used in blocks that downsample (levels above the bottom).")
        self.filters, self.norm_kind, self.relu_slope = filters, norm, relu_slope
        self.num_extra_blocks = num_extra_blocks
        dtype = self.dtype_policy
        self.conv_1 = conv2d(filters, 3, "conv_1", dtype=dtype)
        self.norm = build_normalization(norm, filters, dtype=dtype)
        self.conv_2 = conv2d(filters, 3, "conv_2", dtype=dtype)
        self.identity = conv2d(filters, 1, "identity", dtype=dtype)
        self.extra_blocks = [
            ResidualBlock(filters, relu_slope, dtype=dtype, name=f"extra_block_{i}") for i in range(num_extra_blocks)
        ]
        self.csff = CrossStageFeatureFusion(filters, dtype=dtype, name="csff") if use_csff else None
        self.downsample = conv2d(filters, 4, "downsample", 2, use_bias=False, dtype=dtype) if downsample else None

    def call(self, x, encoder_feature=None, decoder_feature=None, training=None):
        out = self.conv_1(x)
        if self.norm is not None:
            out = self.norm(out, training=training)
        out = ops.leaky_relu(out, self.relu_slope)
        out = ops.leaky_relu(self.conv_2(out), self.relu_slope) + self.identity(x)
        for block in self.extra_blocks:
            out = block(out)
        if self.csff is not None:
            out = out + self.csff(encoder_feature, decoder_feature)
        return out if self.downsample is None else (self.downsample(out), out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "norm": self.norm_kind, "relu_slope": self.relu_slope,
                "downsample": self.downsample is not None, "use_csff": self.csff is not None,
                "num_extra_blocks": self.num_extra_blocks}  # fmt: skip


@keras.saving.register_keras_serializable(package="hinet_tf")
class DecoderBlock(keras.layers.Layer):
    """`conv_block(concat([up(x), skip]))`: a 2x2 stride-2 transposed conv, then an `EncoderBlock` without norm.

    Without a skip ("HINet Simple", no U-Net skips) it is `conv_block(up(x))`.
    """

    def __init__(self, filters, relu_slope=0.2, num_extra_blocks=0, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.relu_slope, self.num_extra_blocks = filters, relu_slope, num_extra_blocks
        dtype = self.dtype_policy
        self.up = conv2d_transpose(filters, "up", dtype=dtype)
        self.conv_block = EncoderBlock(
            filters, "none", relu_slope, num_extra_blocks=num_extra_blocks, dtype=dtype, name="conv_block"
        )

    def build(self, x_shape, skip_shape=None):
        # Built here, not by tracing `call`: torch and JAX trace unknown sizes as one number for both inputs.
        self.up.build(x_shape)
        up_shape = self.up.compute_output_shape(x_shape)
        self.conv_block(keras.KerasTensor((*up_shape[:-1], up_shape[-1] + (skip_shape or [0])[-1])))

    def compute_output_shape(self, x_shape, skip_shape=None):
        return self.up.compute_output_shape(x_shape)

    def call(self, x, skip=None):
        x = self.up(x)
        return self.conv_block(x if skip is None else ops.concatenate([x, skip], axis=-1))

    def get_config(self):
        config = {"filters": self.filters, "relu_slope": self.relu_slope, "num_extra_blocks": self.num_extra_blocks}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="hinet_tf")
class CrossStageFeatureFusion(keras.layers.Layer):
    """CSFF: `csff_enc(encoder_feature) + csff_dec(decoder_feature)`, stage 1's features for stage 2's encoder."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.csff_enc = conv2d(filters, 3, "csff_enc", dtype=self.dtype_policy)
        self.csff_dec = conv2d(filters, 3, "csff_dec", dtype=self.dtype_policy)

    def call(self, encoder_feature, decoder_feature):
        return self.csff_enc(encoder_feature) + self.csff_dec(decoder_feature)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package="hinet_tf")
class SupervisedAttention(keras.layers.Layer):
    """SAM: `sam(features, image)` returns `(conv1(features) * sigmoid(conv3(restored)) + features, restored)`.

    `restored = conv2(features) + image` is stage 1's restored image.
    """

    def __init__(self, filters, image_channels=3, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.image_channels = filters, image_channels
        self.conv1 = conv2d(filters, 3, "conv1", dtype=self.dtype_policy)
        self.conv2 = conv2d(image_channels, 3, "conv2", dtype=self.dtype_policy)
        self.conv3 = conv2d(filters, 3, "conv3", dtype=self.dtype_policy)

    def call(self, features, image):
        restored = self.conv2(features) + ops.cast(image, self.compute_dtype)
        return self.conv1(features) * ops.sigmoid(self.conv3(restored)) + features, restored

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "image_channels": self.image_channels}


@keras.saving.register_keras_serializable(package="hinet_tf")
class ResidualBlock(keras.layers.Layer):
    """`x + conv_2(leaky_relu(conv_1(x)))`, two 3x3 convs keeping `filters` channels."""

    def __init__(self, filters, relu_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.relu_slope = filters, relu_slope
        self.conv_1 = conv2d(filters, 3, "conv_1", dtype=self.dtype_policy)
        self.conv_2 = conv2d(filters, 3, "conv_2", dtype=self.dtype_policy)

    def call(self, x):
        return x + self.conv_2(ops.leaky_relu(self.conv_1(x), self.relu_slope))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "relu_slope": self.relu_slope}
