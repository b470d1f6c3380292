"""Instance normalisation, HINet's Half Instance Normalization and the encoder normalisations of the paper's Table 6."""

import keras
from keras import ops

INSTANCE_NORM_EPSILON = 1e-5  # PyTorch's default for every norm here; Keras' GroupNormalization uses 1e-3.
BATCH_NORM_MOMENTUM = 0.9  # PyTorch's BatchNorm2d momentum 0.1, in Keras' convention.
GROUP_NORM_GROUPS = 32
NORMALIZATIONS = ("half_instance", "instance", "batch", "sync_batch", "layer", "group", "ibn", "none")


def normalize_over_space(inputs, epsilon, gamma=None, beta=None, keep=None):
    """Normalises each sample's channels over height and width, then scales by `gamma` and shifts by `beta`.

    Computed in float32 at least (float16 statistics overflow), as one per-channel
    `inputs * scale + offset`. Channels where the 0/1 vector `keep` is 1, with `gamma` and
    `beta` 0 there, pass through exactly (scale 1, offset 0) for finite inputs.
    """
    values = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    mean, variance = ops.moments(values, axes=tuple(range(1, len(inputs.shape) - 1)), keepdims=True)
    scale = ops.rsqrt(variance + epsilon)
    if gamma is not None:
        scale = scale * ops.cast(gamma, values.dtype)
    offset = -mean * scale
    if beta is not None:
        offset = offset + ops.cast(beta, values.dtype)
    if keep is not None:
        scale = scale + ops.cast(keep, values.dtype)
    return values * scale + offset


@keras.saving.register_keras_serializable(package="hinet_tf")
class InstanceNormalization(keras.layers.GroupNormalization):
    """`InstanceNorm2d(C, affine=True)`: `GroupNormalization` with one channel per group, its weights and arithmetic.

    The moments are taken over the spatial axes directly, without GroupNormalization's
    5-D reshape, which ONNX converters wrap in layout transposes.
    """

    def __init__(self, epsilon=INSTANCE_NORM_EPSILON, **kwargs):
        super().__init__(groups=-1, axis=-1, epsilon=epsilon, **kwargs)  # one group per channel, channels last

    def call(self, inputs):
        gamma = self.gamma if self.scale else None
        beta = self.beta if self.center else None
        return ops.cast(normalize_over_space(inputs, self.epsilon, gamma, beta), self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        del config["groups"], config["axis"]
        return config


@keras.saving.register_keras_serializable(package="hinet_tf")
class HalfInstanceNormalization(keras.layers.Layer):
    """HIN: instance-normalises the first half of the channels and keeps the second half.

    Statistics per sample and channel over height and width (biased variance), the same
    in training and inference; the affine weights (`instance_norm`) act on the first half
    only: the official `InstanceNorm2d(C // 2, affine=True)` on `torch.chunk(x, 2, dim=1)[0]`.
    Why one per-channel scale and offset over all channels (`x * 1 + 0` on the kept half)
    instead of slicing and concatenating: ONNX runtimes reorder the whole feature map's
    memory layout around such slices; this form keeps onnxruntime in its blocked layout.
    """

    def __init__(self, epsilon=INSTANCE_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] % 2:
            raise ValueError(f"HalfInstanceNormalization needs an even, known channel count; got {input_shape}.")
        self.half = input_shape[-1] // 2
        self.instance_norm = InstanceNormalization(self.epsilon, dtype=self.dtype_policy, name="instance_norm")
        self.instance_norm.build((*input_shape[:-1], self.half))

    def call(self, inputs):
        zeros = ops.zeros((self.half,), self.instance_norm.gamma.dtype)
        gamma = ops.concatenate([self.instance_norm.gamma, zeros], axis=0)
        beta = ops.concatenate([self.instance_norm.beta, zeros], axis=0)
        keep = ops.concatenate([zeros, ops.ones_like(zeros)], axis=0)
        return ops.cast(normalize_over_space(inputs, self.epsilon, gamma, beta, keep), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="hinet_tf")
class InstanceBatchNormalization(keras.layers.Layer):
    """IBN-Net style: instance norm on the first half of the channels, batch norm on the second."""

    def __init__(self, epsilon=INSTANCE_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] % 2:
            raise ValueError(f"InstanceBatchNormalization needs an even, known channel count; got {input_shape}.")
        self.half = input_shape[-1] // 2
        half_shape = (*input_shape[:-1], self.half)
        self.instance_norm = InstanceNormalization(self.epsilon, dtype=self.dtype_policy, name="instance_norm")
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, epsilon=self.epsilon, dtype=self.dtype_policy, name="batch_norm"
        )
        self.instance_norm.build(half_shape)
        self.batch_norm.build(half_shape)

    def call(self, inputs, training=None):
        normed = self.instance_norm(inputs[..., : self.half])
        return ops.concatenate([normed, self.batch_norm(inputs[..., self.half :], training=training)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def build_normalization(kind, channels, dtype=None, name="norm"):
    """The encoder normalisation `kind` (one of `NORMALIZATIONS`) for `channels`, or None for "none".

    "layer" normalises each sample over height, width and channels; "group" uses 32
    groups (fewer when `channels` is not divisible by 32).
    """
    if kind not in NORMALIZATIONS:
        raise ValueError(f"Unknown normalization {kind!r}; choose one of {', '.join(NORMALIZATIONS)}.")
    eps, common = INSTANCE_NORM_EPSILON, {"dtype": dtype, "name": name}
    if kind in ("batch", "sync_batch"):
        return keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, epsilon=eps, synchronized=kind == "sync_batch", **common
        )
    if kind in ("layer", "group"):
        divisors = [g for g in range(min(GROUP_NORM_GROUPS, channels), 0, -1) if channels % g == 0]
        return keras.layers.GroupNormalization(groups=1 if kind == "layer" else divisors[0], epsilon=eps, **common)
    layers = {"half_instance": HalfInstanceNormalization, "instance": InstanceNormalization}
    layers["ibn"] = InstanceBatchNormalization
    return layers[kind](eps, **common) if kind in layers else None
