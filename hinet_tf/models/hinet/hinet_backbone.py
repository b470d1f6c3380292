"""The HINet network (Chen et al., CVPR-W 2021, Figure 2): image -> (stage1 image, stage2 image)."""

import keras
from keras import ops

from hinet_tf.layers import DecoderBlock
from hinet_tf.layers import EncoderBlock
from hinet_tf.layers import SupervisedAttention
from hinet_tf.layers.conv import conv2d
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.models import preset_utils
from hinet_tf.models.hinet.hinet_presets import backbone_presets


@keras.saving.register_keras_serializable(package="hinet_tf")
class HINetBackbone(keras.Model):
    """HINet: two U-Net stages joined by supervised attention and cross-stage feature fusion.

    Takes NHWC float images in [0, 1] and returns `[stage1_image, stage2_image]`
    (each already includes the input image, as the official forward; float32 under
    any dtype policy). Height and width must be multiples of `size_multiple`
    (`2 ** (depth - 1)`); `HINetImageRestorer` takes any size. Layer names follow
    the official state dict (`down_path_1_0` is `down_path_1.0`).

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
        dtype: the dtype policy of every layer but the two float32 output additions.

    Example:
    ```python
    backbone = HINetBackbone(width=16, hin_levels=(0, 1, 2, 3, 4))
    stage1, stage2 = backbone(images)  # images: (batch, 16k, 16k, 3)
    ```
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
        name="hinet_backbone",
        **kwargs,
    ):
        hin_levels = _check_arguments(depth, hin_levels, norm, num_stages)
        unet = {
            "width": width,
            "depth": depth,
            "hin_levels": hin_levels,
            "norm": norm,
            "relu_slope": relu_slope,
            "skip_connections": skip_connections,
            "num_extra_blocks": num_extra_blocks,
            "dtype": dtype,
        }

        # === Layers ===
        conv_01 = conv2d(width, 3, name="conv_01", dtype=dtype)
        sam12 = SupervisedAttention(width, in_channels, dtype=dtype, name="sam12")
        conv_02 = conv2d(width, 3, name="conv_02", dtype=dtype)
        concat12 = keras.layers.Concatenate(dtype=dtype, name="concat12")
        cat12 = conv2d(width, 1, name="cat12", dtype=dtype)
        last = conv2d(in_channels, 3, name="last", dtype=dtype)
        # The input image is added back in float32, also under mixed precision.
        stage1_output = keras.layers.Activation("linear", dtype="float32", name="stage1_image")
        stage2_output = keras.layers.Add(dtype="float32", name="stage2_image")

        # === Functional Model ===
        image = keras.Input((None, None, in_channels), name="degraded")
        x1 = conv_01(image)
        stage1_encoder, stage1_decoder = apply_unet_stage(x1, stage=1, **unet)
        if num_stages == 1:
            outputs = [keras.layers.Add(dtype="float32", name="stage1_image")([last(stage1_decoder[0]), image])]
        else:
            sam_features, stage1_image = sam12([stage1_decoder[0], image])
            x2 = cat12(concat12([conv_02(image), sam_features]))
            _, stage2_decoder = apply_unet_stage(x2, stage=2, csff=(stage1_encoder, stage1_decoder), **unet)
            outputs = [stage1_output(stage1_image), stage2_output([last(stage2_decoder[0]), image])]
        super().__init__(inputs=image, outputs=outputs, name=name, **kwargs)
        if dtype is not None:  # the functional __init__ leaves the model's own policy at the global one
            self.dtype_policy = keras.dtype_policies.get(dtype)

        # === Config ===
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
        height, width = ops.shape(inputs)[1:3]
        bad = [size for size in (height, width) if isinstance(size, int) and size % self.size_multiple]
        if bad:
            raise ValueError(
                f"HINet needs the input height and width to be multiples of {self.size_multiple}; got "
                f"{height} x {width}. HINetImageRestorer pads any size (reflect) and crops back."
            )
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        # Not chained to super: a functional model's config is its graph, not these arguments.
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
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds a preset: a built-in name (`hinet_tf.models.PRESETS`) or a preset directory.

        `kwargs` override the preset's configuration (e.g. `dtype`). Architecture-only
        names ("hinet_1x", "hinet_gopro", ...) ship no weights: pass `load_weights=False`
        for random weights, or convert the official checkpoint into a preset directory
        (`hinet convert X.pth --preset-dir DIR`).
        """
        return preset_utils.load_backbone(cls, preset, backbone_presets, load_weights, **kwargs)

    def save_to_preset(self, preset_dir):
        """Writes `config.json`, `model.weights.h5` and `metadata.json` into `preset_dir`."""
        preset_utils.save_backbone(self, preset_dir)


def apply_unet_stage(
    x, stage, width, depth, hin_levels, norm, relu_slope, skip_connections, num_extra_blocks, dtype, csff=None
):
    """One HINet stage: an encoder (HIN at `hin_levels`) and a decoder, on features `x`.

    Returns `(encoder_skips, decoder_features)`: the encoder's output at every level
    above the bottom, and the decoder's output at every such level (index 0 is the top,
    the stage's output). `csff=(encoder_skips, decoder_features)` of stage 1 adds
    cross-stage feature fusion to every encoder level above the bottom.
    """
    skips = []
    for level in range(depth):
        downsample = level < depth - 1
        block = EncoderBlock(
            width * 2**level,
            norm=norm if level in hin_levels else "none",
            relu_slope=relu_slope,
            downsample=downsample,
            use_csff=csff is not None and downsample,
            num_extra_blocks=num_extra_blocks,
            dtype=dtype,
            name=f"down_path_{stage}_{level}",
        )
        if not downsample:
            x = block(x)
        else:
            x, skip = block([x, csff[0][level], csff[1][level]] if csff is not None else x)
            skips.append(skip)
    decoder = [None] * (depth - 1)
    for index, level in enumerate(reversed(range(depth - 1))):
        up_block = DecoderBlock(
            width * 2**level,
            relu_slope=relu_slope,
            num_extra_blocks=num_extra_blocks,
            dtype=dtype,
            name=f"up_path_{stage}_{index}",
        )
        if skip_connections:
            skip = conv2d(width * 2**level, 3, name=f"skip_conv_{stage}_{index}", dtype=dtype)(skips[level])
            x = up_block([x, skip])
        else:
            x = up_block(x)
        decoder[level] = x
    return skips, decoder


def _check_arguments(depth, hin_levels, norm, num_stages):
    """Validates the arguments; returns `hin_levels` as a sorted tuple (all levels for None)."""
    if norm not in NORMALIZATIONS:
        raise ValueError(f"Unknown norm {norm!r}; choose one of {', '.join(NORMALIZATIONS)}.")
    if num_stages not in (1, 2):
        raise ValueError(f"num_stages must be 1 or 2, got {num_stages}.")
    if depth < 2:
        raise ValueError(f"depth must be at least 2, got {depth}.")
    hin_levels = tuple(range(depth)) if hin_levels is None else tuple(sorted({int(level) for level in hin_levels}))
    if any(level < 0 or level >= depth for level in hin_levels):
        raise ValueError(f"hin_levels {hin_levels} must lie in 0..{depth - 1}.")
    return hin_levels
