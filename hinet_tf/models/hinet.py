"""The two-stage HINet model (Chen et al., CVPR-W 2021)."""

import keras
from keras import ops

from hinet_tf.layers import DecoderBlock
from hinet_tf.layers import EncoderBlock
from hinet_tf.layers import SupervisedAttention
from hinet_tf.layers.conv import conv2d
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.models.presets import PRESETS
from hinet_tf.models.restoration_trainer import RestorationTrainer


def _check_spatial_size(shape, multiple):
    height, width = shape[1], shape[2]
    bad = [size for size in (height, width) if isinstance(size, int) and size % multiple]  # dynamic sizes: unchecked
    if bad:
        raise ValueError(
            f"HINet needs the input height and width to be multiples of {multiple}; got "
            f"{height} x {width}. Pad the image first (reflect-padding, then cropping the "
            "output back): `hinet_tf.inference` does this for you."
        )


@keras.saving.register_keras_serializable(package="hinet_tf")
class HINet(RestorationTrainer, keras.Model):
    """HINet: two U-Net stages joined by supervised attention and cross-stage feature fusion.

    Takes NHWC float images in [0, 1] and returns `[stage1_image, stage2_image]`
    (float32; each already includes the input image, as the official forward).
    Inference uses the last output. Height and width must be multiples of
    `2 ** (depth - 1)` (16 by default): a tensor whose size is known and breaks
    this rule raises a `ValueError`; `hinet_tf.inference` pads any size for you.

    The layer names follow the official state dict (`down_path_1_0` is
    `down_path_1.0`), so checkpoints map one to one.

    Args:
        width: channels at the first level (`wf`); level i has `width * 2**i`.
        depth: number of U-Net levels.
        hin_levels: encoder levels that are normalised (0 is the top level); all by default.
        relu_slope: negative slope of the LeakyReLUs.
        norm: encoder normalisation at `hin_levels`: "half_instance" (HIN, the paper's
            choice) or one of the ablation's "instance", "batch", "sync_batch",
            "layer", "group", "ibn", "none".
        in_channels: image channels.
        num_stages: 2 for HINet; 1 keeps only stage 1 (ending in a 3x3 conv plus the input).
        skip_connections: use the U-Net's encoder-decoder skips ("HINet Simple" has none).
        num_extra_blocks: residual blocks appended to every encoder and decoder block
            (the paper's deeper variant uses 2).
    """

    def __init__(
        self,
        width=64,
        depth=5,
        hin_levels=None,
        relu_slope=0.2,
        norm="half_instance",
        in_channels=3,
        num_stages=2,
        skip_connections=True,
        num_extra_blocks=0,
        dtype=None,
        **kwargs,
    ):
        if norm not in NORMALIZATIONS:
            raise ValueError(f"Unknown norm {norm!r}; choose one of {', '.join(NORMALIZATIONS)}.")
        if num_stages not in (1, 2):
            raise ValueError(f"num_stages must be 1 or 2, got {num_stages}.")
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}.")
        hin_levels = tuple(range(depth)) if hin_levels is None else tuple(sorted({int(level) for level in hin_levels}))
        if any(level < 0 or level >= depth for level in hin_levels):
            raise ValueError(f"hin_levels {hin_levels} must lie in 0..{depth - 1}.")

        filters = [width * 2**level for level in range(depth)]

        def encoder(stage, level, use_csff):
            return EncoderBlock(
                filters[level],
                norm=norm if level in hin_levels else "none",
                relu_slope=relu_slope,
                downsample=level < depth - 1,
                use_csff=use_csff and level < depth - 1,
                num_extra_blocks=num_extra_blocks,
                dtype=dtype,
                name=f"down_path_{stage}_{level}",
            )

        def unet(stage, x, stage1_encoder=None, stage1_decoder=None):
            """Runs one stage's encoder and decoder; returns its output and per-level features."""
            skips = []
            for level in range(depth):
                block = encoder(stage, level, use_csff=stage1_encoder is not None)
                if level == depth - 1:
                    x = block(x)
                elif stage1_encoder is not None:
                    x, skip = block([x, stage1_encoder[level], stage1_decoder[level]])
                    skips.append(skip)
                else:
                    x, skip = block(x)
                    skips.append(skip)
            decoder_features = [None] * (depth - 1)
            for index, level in enumerate(reversed(range(depth - 1))):
                up_block = DecoderBlock(
                    filters[level],
                    relu_slope=relu_slope,
                    num_extra_blocks=num_extra_blocks,
                    dtype=dtype,
                    name=f"up_path_{stage}_{index}",
                )
                if skip_connections:
                    skip = conv2d(filters[level], 3, name=f"skip_conv_{stage}_{index}", dtype=dtype)(skips[level])
                    x = up_block([x, skip])
                else:
                    x = up_block(x)
                decoder_features[level] = x
            return x, skips, decoder_features

        degraded = keras.Input((None, None, in_channels), name="degraded")
        x1 = conv2d(width, 3, name="conv_01", dtype=dtype)(degraded)
        x1, stage1_encoder, stage1_decoder = unet(1, x1)
        if num_stages == 1:
            residual = conv2d(in_channels, 3, name="last", dtype=dtype)(x1)
            outputs = [keras.layers.Add(dtype="float32", name="stage1_image")([residual, degraded])]
        else:
            features, stage1_image = SupervisedAttention(width, in_channels, dtype=dtype, name="sam12")(
                [x1, degraded]
            )
            x2 = conv2d(width, 3, name="conv_02", dtype=dtype)(degraded)
            x2 = keras.layers.Concatenate(dtype=dtype, name="concat12")([x2, features])
            x2 = conv2d(width, 1, name="cat12", dtype=dtype)(x2)
            x2, _, _ = unet(2, x2, stage1_encoder, stage1_decoder)
            residual = conv2d(in_channels, 3, name="last", dtype=dtype)(x2)
            outputs = [
                keras.layers.Activation("linear", dtype="float32", name="stage1_image")(stage1_image),
                keras.layers.Add(dtype="float32", name="stage2_image")([residual, degraded]),
            ]
        super().__init__(inputs=degraded, outputs=outputs, dtype=dtype, **kwargs)

        self.width = width
        self.depth = depth
        self.hin_levels = hin_levels
        self.relu_slope = relu_slope
        self.norm = norm
        self.in_channels = in_channels
        self.num_stages = num_stages
        self.skip_connections = skip_connections
        self.num_extra_blocks = num_extra_blocks

    @property
    def size_multiple(self):
        """Height and width of inputs must be multiples of this."""
        return 2 ** (self.depth - 1)

    def call(self, inputs, training=None, mask=None):
        _check_spatial_size(ops.shape(inputs), self.size_multiple)
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "width": self.width,
            "depth": self.depth,
            "hin_levels": list(self.hin_levels),
            "relu_slope": self.relu_slope,
            "norm": self.norm,
            "in_channels": self.in_channels,
            "num_stages": self.num_stages,
            "skip_connections": self.skip_connections,
            "num_extra_blocks": self.num_extra_blocks,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def presets(cls):
        """Names of the built-in configurations."""
        return tuple(PRESETS)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Builds a named configuration (no weights); `kwargs` override its values.

        `HINet.presets()` lists the names, e.g. "hinet_1x", "hinet_gopro", "hinet_simple".
        """
        if preset not in PRESETS:
            raise ValueError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
        return cls(**{**PRESETS[preset]["config"], **kwargs})
