"""HINet's encoder block (the official `UNetConvBlock`)."""

import keras
from keras import ops

from hinet_tf.layers.conv import conv2d
from hinet_tf.layers.csff import CrossStageFeatureFusion
from hinet_tf.layers.normalization import build_normalization
from hinet_tf.layers.residual_block import ResidualBlock


@keras.saving.register_keras_serializable(package="hinet_tf")
class EncoderBlock(keras.layers.Layer):
    """Conv 3x3, optional normalisation, LeakyReLU, conv 3x3, LeakyReLU, plus a 1x1 shortcut.

    In order: `conv_1`; the normalisation (by default half instance normalisation);
    LeakyReLU; `conv_2`; LeakyReLU; `+ identity(x)` (1x1 conv); optional extra
    residual blocks (the deeper variant); with `use_csff`, `+ csff([enc, dec])`;
    with `downsample`, a 4x4 stride-2 conv without bias.

    Called on `x`, or on `[x, stage1_encoder_feature, stage1_decoder_feature]`
    when `use_csff` is set. Returns `(downsampled, skip)` when `downsample` is set,
    else the block's output.

    Args:
        filters: output channels.
        norm: one of `hinet_tf.layers.NORMALIZATIONS` ("half_instance" is HIN, "none" skips it).
        relu_slope: negative slope of the LeakyReLUs.
        downsample: add the stride-2 downsampling conv and return the skip too.
        use_csff: add cross-stage feature fusion from stage 1.
        num_extra_blocks: residual blocks appended before CSFF and downsampling.
    """

    def __init__(
        self,
        filters,
        norm="half_instance",
        relu_slope=0.2,
        downsample=False,
        use_csff=False,
        num_extra_blocks=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if use_csff and not downsample:
            raise ValueError("CSFF is only used in blocks that downsample (levels above the bottom).")
        self.filters = filters
        self.norm_kind = norm
        self.relu_slope = relu_slope
        self.use_downsample = downsample
        self.use_csff = use_csff
        self.num_extra_blocks = num_extra_blocks
        dtype = self.dtype_policy
        self.conv_1 = conv2d(filters, 3, name="conv_1", dtype=dtype)
        self.norm = build_normalization(norm, filters, dtype=dtype, name="norm")
        self.conv_2 = conv2d(filters, 3, name="conv_2", dtype=dtype)
        self.identity = conv2d(filters, 1, name="identity", dtype=dtype)
        self.extra_blocks = [
            ResidualBlock(filters, relu_slope, name=f"extra_block_{i}", dtype=dtype) for i in range(num_extra_blocks)
        ]
        self.csff = CrossStageFeatureFusion(filters, name="csff", dtype=dtype) if use_csff else None
        self.downsample = (
            conv2d(filters, 4, strides=2, use_bias=False, name="downsample", dtype=dtype) if downsample else None
        )

    def build(self, input_shape):
        x_shape = input_shape[0] if self.use_csff else input_shape
        out_shape = (*x_shape[:-1], self.filters)
        self.conv_1.build(x_shape)
        if self.norm is not None:
            self.norm.build(out_shape)
        self.conv_2.build(out_shape)
        self.identity.build(x_shape)
        for block in self.extra_blocks:
            block.build(out_shape)
        if self.csff is not None:
            self.csff.build(input_shape[1:])
        if self.downsample is not None:
            self.downsample.build(out_shape)

    def call(self, inputs, training=None):
        if self.use_csff:
            x, encoder_feature, decoder_feature = inputs
        else:
            x = inputs
        out = self.conv_1(x)
        if self.norm is not None:
            out = self.norm(out, training=training)
        out = ops.leaky_relu(out, negative_slope=self.relu_slope)
        out = ops.leaky_relu(self.conv_2(out), negative_slope=self.relu_slope)
        out = out + self.identity(x)
        for block in self.extra_blocks:
            out = block(out)
        if self.csff is not None:
            out = out + self.csff([encoder_feature, decoder_feature])
        if self.downsample is None:
            return out
        return self.downsample(out), out

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0] if self.use_csff else input_shape
        out_shape = (*x_shape[:-1], self.filters)
        if not self.use_downsample:
            return out_shape
        halve = lambda size: None if size is None else size // 2  # noqa: E731
        down_shape = (x_shape[0], halve(x_shape[1]), halve(x_shape[2]), self.filters)
        return down_shape, out_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "norm": self.norm_kind,
            "relu_slope": self.relu_slope,
            "downsample": self.use_downsample,
            "use_csff": self.use_csff,
            "num_extra_blocks": self.num_extra_blocks,
        }
