"""The HINet network (Chen et al., CVPR-W 2021, Figure 2): image -> (stage1 image, stage2 image)."""

import numbers

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

    Takes NHWC float images in [0, 1] and returns `[stage1_image, stage2_image]`, each
    already including the input image (float32 under any dtype policy; with `num_stages=1`
    the one image alone, as Keras returns a single output). Height and width
    must be multiples of `size_multiple` (`2 ** (depth - 1)`); `HINetImageRestorer` takes
    any size. Layer names follow the official state dict (`down_path_1_0` is `down_path_1.0`).

    Args:
        width: channels at the first level (`wf`); level i has `width * 2**i`.
        depth: number of U-Net levels.
        hin_levels: encoder levels that are normalised (0 is the top level); all by default.
        relu_slope: negative slope of the LeakyReLUs.
        norm: the encoder normalisation at `hin_levels`: "half_instance" (HIN, the paper's
            choice) or one of the ablation's "instance", "batch", "sync_batch", "layer",
            "group", "ibn", "none".
        in_channels: image channels.
        num_stages: 2 for HINet; 1 keeps only stage 1 (ending in `last` plus the input).
        skip_connections: use the U-Net's encoder-decoder skips ("HINet Simple" has none).
        num_extra_blocks: residual blocks appended to every encoder and decoder block.
        dtype: the dtype policy of every layer but the float32 output additions.

    Example:
    ```python
    backbone = HINetBackbone(width=16)
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
        check_model_keywords(type(self).__name__, kwargs)
        hin_levels = check_arguments(width, depth, hin_levels, norm, num_stages, in_channels, num_extra_blocks)
        if skip_connections not in (True, False):  # "no" would be taken as True
            raise ValueError(f"skip_connections must be True or False, got {skip_connections!r}.")
        if isinstance(relu_slope, bool) or not isinstance(relu_slope, numbers.Real):
            raise ValueError(f"relu_slope must be a number, got {relu_slope!r}.")
        width, depth, in_channels, num_stages, num_extra_blocks = (
            int(value) for value in (width, depth, in_channels, num_stages, num_extra_blocks)  # numpy's integers too
        )
        skip_connections, relu_slope = bool(skip_connections), float(relu_slope)
        if dtype is not None and not keras.dtype_policies.get(dtype).compute_dtype.startswith(("float", "bfloat")):
            raise ValueError(f"dtype must be a floating-point type or policy, got {dtype!r}.")
        unet = dict(width=width, depth=depth, hin_levels=hin_levels, norm=norm, relu_slope=relu_slope,
                    skip_connections=skip_connections, num_extra_blocks=num_extra_blocks, dtype=dtype)  # fmt: skip

        # === Functional Model ===
        image = keras.Input((None, None, in_channels), name="degraded")
        stage1_output, stage1_features = unet_stage(conv2d(width, 3, "conv_01", dtype=dtype)(image), 1, **unet)
        last = conv2d(in_channels, 3, "last", dtype=dtype)
        # The input image is added back in float32, also under mixed precision.
        if num_stages == 1:
            outputs = [keras.layers.Add(dtype="float32", name="stage1_image")([last(stage1_output), image])]
        else:
            sam12 = SupervisedAttention(width, in_channels, dtype=dtype, name="sam12")
            features, stage1_image = sam12(stage1_output, image)
            x2 = conv2d(width, 3, "conv_02", dtype=dtype)(image)
            x2 = keras.layers.Concatenate(dtype=dtype, name="concat12")([x2, features])
            stage2_output, _ = unet_stage(conv2d(width, 1, "cat12", dtype=dtype)(x2), 2, csff=stage1_features, **unet)
            outputs = [
                keras.layers.Activation("linear", dtype="float32", name="stage1_image")(stage1_image),
                keras.layers.Add(dtype="float32", name="stage2_image")([last(stage2_output), image]),
            ]
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
        check_float_images(inputs)
        height, width = ops.shape(inputs)[1:3]
        if any(isinstance(size, int) and size % self.size_multiple for size in (height, width)):
            raise ValueError(
                f"HINet needs the input height and width to be multiples of {self.size_multiple}; got "
                f"{height} x {width}. HINetImageRestorer pads any size (reflect) and crops back."
            )
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        # Not chained to super: a functional model's config is its graph, not these arguments.
        arguments = ("width", "depth", "relu_slope", "norm", "in_channels", "num_stages", "skip_connections")
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "hin_levels": list(self.hin_levels),
            **{argument: getattr(self, argument) for argument in (*arguments, "num_extra_blocks")},
        }

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds a preset: a built-in name (`hinet_tf.models.PRESETS`) or a preset directory.

        `kwargs` override the preset's configuration (e.g. `dtype`). Architecture-only
        names ("hinet_1x", "hinet_gopro", ...) ship no weights: pass `load_weights=False`
        for random weights, or convert the official checkpoint into a preset directory
        (`hinet convert X.pth --preset-dir DIR`).
        """
        return preset_utils.load_backbone(cls, preset, backbone_presets, load_weights, **kwargs)

    def save_to_preset(self, preset_dir, overwrite=False):
        """Writes `config.json`, `model.weights.h5` and `metadata.json` into `preset_dir`.

        An existing preset there is replaced only with `overwrite`; a folder holding anything
        else never (`FileExistsError`).
        """
        preset_utils.save_backbone(self, preset_dir, overwrite)


def unet_stage(
    x, stage, width, depth, hin_levels, norm, relu_slope, skip_connections, num_extra_blocks, dtype, csff=None
):
    """One stage on features `x`: an encoder, normalised at `hin_levels`, and a decoder.

    Returns the stage's output and the `(encoder, decoder)` features of every level above
    the bottom, top level first. `csff`: stage 1's features, fused into this encoder.
    """
    encoder = []
    for level in range(depth):
        downsample = level < depth - 1
        block = EncoderBlock(
            width * 2**level,
            norm if level in hin_levels else "none",
            relu_slope,
            downsample=downsample,
            use_csff=csff is not None and downsample,
            num_extra_blocks=num_extra_blocks,
            dtype=dtype,
            name=f"down_path_{stage}_{level}",
        )
        if not downsample:
            x = block(x)
        else:
            x, skip = block(x, *csff[level]) if csff is not None else block(x)
            encoder.append(skip)
    decoder = []
    for index, level in enumerate(reversed(range(depth - 1))):
        filters = width * 2**level
        up_block = DecoderBlock(filters, relu_slope, num_extra_blocks, dtype=dtype, name=f"up_path_{stage}_{index}")
        if skip_connections:
            x = up_block(x, conv2d(filters, 3, f"skip_conv_{stage}_{index}", dtype=dtype)(encoder[level]))
        else:
            x = up_block(x)
        decoder.insert(0, x)
    return x, list(zip(encoder, decoder))


def check_model_keywords(class_name, kwargs):
    """Raises a ValueError naming the keyword arguments that `keras.Model` would drop silently (it takes `trainable`)."""
    unknown = sorted(set(kwargs) - {"trainable"})
    if unknown:
        raise ValueError(f"Unrecognized keyword arguments passed to {class_name}: {', '.join(unknown)}.")


def check_float_images(images):
    """Raises a ValueError for images of an integer (or bool) dtype: the model takes floats in [0, 1]."""
    dtype = keras.backend.standardize_dtype(images.dtype)
    if not keras.backend.is_float_dtype(dtype):
        raise ValueError(f"HINet takes float images in [0, 1], got {dtype}: convert them with `images / 255` as float32.")


def check_arguments(width, depth, hin_levels, norm, num_stages, in_channels=3, num_extra_blocks=0):
    """Validates the arguments of `HINetBackbone` (and of a config's model section); returns `hin_levels` as a
    sorted tuple (all levels for None)."""
    counts = {"width": (width, 1), "depth": (depth, 2), "in_channels": (in_channels, 1)}
    counts["num_extra_blocks"] = (num_extra_blocks, 0)
    for name, (value, minimum) in counts.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}.")
    if norm not in NORMALIZATIONS:
        raise ValueError(f"Unknown norm {norm!r}; choose one of {', '.join(NORMALIZATIONS)}.")
    if isinstance(num_stages, (bool, float)) or num_stages not in (1, 2):
        raise ValueError(f"num_stages must be 1 or 2, got {num_stages}.")
    if hin_levels is not None and not isinstance(hin_levels, (list, tuple)):
        raise ValueError(f"hin_levels must be a list of levels or None, got {hin_levels!r}.")
    hin_levels = tuple(range(depth)) if hin_levels is None else tuple(sorted({int(level) for level in hin_levels}))
    if any(level < 0 or level >= depth for level in hin_levels):
        raise ValueError(f"hin_levels {hin_levels} must lie in 0..{depth - 1}.")
    if width % 2 and 0 in hin_levels and norm in ("half_instance", "ibn"):
        raise ValueError(f"width must be even with norm {norm!r}, which splits the channels in halves; got {width}.")
    return hin_levels
