"""Instance normalisation: Keras' GroupNormalization with one channel per group, computed directly."""

import keras
from keras import ops

INSTANCE_NORM_EPSILON = 1e-5  # PyTorch's InstanceNorm2d default; Keras' GroupNormalization uses 1e-3.


@keras.saving.register_keras_serializable(package="hinet_tf")
class InstanceNormalization(keras.layers.GroupNormalization):
    """Normalises each sample's channels over the spatial axes, with a learned scale and offset.

    It is `GroupNormalization(groups=channels)` (the same weights, `gamma` and `beta`, and
    the same float32 arithmetic), but takes the moments over the spatial axes directly
    instead of through GroupNormalization's extra group axis: ONNX converters wrap that
    5-D reshape in layout transposes, 20 of them in a HINet graph, and this removes them.
    Equals `InstanceNorm2d(C, affine=True)` on channels-last inputs.

    Args:
        epsilon: added to the variance before the square root.
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


def normalize_over_space(inputs, epsilon, gamma=None, beta=None, keep=None):
    """Normalises each sample's channels over the spatial axes, then scales by `gamma` and shifts by `beta`.

    Computed in float32 at least, as GroupNormalization computes (float16 statistics
    overflow), as one per-channel `inputs * scale + offset`. Channels where the 0/1
    vector `keep` is 1, with `gamma` and `beta` 0 there, pass through exactly (scale 1,
    offset 0) for finite inputs.
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
