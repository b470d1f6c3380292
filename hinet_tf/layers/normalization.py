"""The encoder normalisations compared in the paper's ablation (Table 6)."""

import keras
from keras import ops

from hinet_tf.layers.half_instance_norm import HalfInstanceNormalization
from hinet_tf.layers.instance_norm import INSTANCE_NORM_EPSILON
from hinet_tf.layers.instance_norm import InstanceNormalization

BATCH_NORM_MOMENTUM = 0.9  # PyTorch's BatchNorm2d momentum 0.1, in Keras' convention.
GROUP_NORM_GROUPS = 32


@keras.saving.register_keras_serializable(package="hinet_tf")
class InstanceBatchNormalization(keras.layers.Layer):
    """IBN-Net style normalisation: instance norm on the first half, batch norm on the rest.

    Args:
        epsilon: added to the variances.
    """

    def __init__(self, epsilon=INSTANCE_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % 2:
            raise ValueError(
                "InstanceBatchNormalization needs an even, known channel count; "
                f"got input shape {input_shape}."
            )
        self.half = channels // 2
        half_shape = (*input_shape[:-1], self.half)
        self.instance_norm = InstanceNormalization(epsilon=self.epsilon, dtype=self.dtype_policy, name="instance_norm")
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, epsilon=self.epsilon, dtype=self.dtype_policy, name="batch_norm"
        )
        self.instance_norm.build(half_shape)
        self.batch_norm.build(half_shape)

    def call(self, inputs, training=None):
        return ops.concatenate(
            [
                self.instance_norm(inputs[..., : self.half]),
                self.batch_norm(inputs[..., self.half :], training=training),
            ],
            axis=-1,
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


NORMALIZATIONS = (
    "half_instance",
    "instance",
    "batch",
    "sync_batch",
    "layer",
    "group",
    "ibn",
    "none",
)


def build_normalization(kind, channels, dtype=None, name="norm"):
    """Returns the encoder normalisation layer `kind` for `channels`, or None for "none".

    All variants use PyTorch's epsilon (1e-5). "layer" normalises each sample over
    height, width and channels (GroupNormalization with one group), "group" uses 32
    groups (fewer when the channels are not divisible by 32).
    """
    if kind not in NORMALIZATIONS:
        raise ValueError(f"Unknown normalization {kind!r}; choose one of {', '.join(NORMALIZATIONS)}.")
    eps = INSTANCE_NORM_EPSILON
    common = {"dtype": dtype, "name": name}
    if kind == "none":
        return None
    if kind == "half_instance":
        return HalfInstanceNormalization(epsilon=eps, **common)
    if kind == "instance":
        return InstanceNormalization(epsilon=eps, **common)
    if kind in ("batch", "sync_batch"):
        return keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM,
            epsilon=eps,
            synchronized=kind == "sync_batch",
            **common,
        )
    if kind == "layer":
        return keras.layers.GroupNormalization(groups=1, epsilon=eps, **common)
    if kind == "group":
        groups = next(g for g in range(min(GROUP_NORM_GROUPS, channels), 0, -1) if channels % g == 0)
        return keras.layers.GroupNormalization(groups=groups, epsilon=eps, **common)
    return InstanceBatchNormalization(epsilon=eps, **common)
