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
        # float32 at least, as GroupNormalization computes (its float16 statistics overflow).
        values = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = ops.moments(values, axes=tuple(range(1, len(inputs.shape) - 1)), keepdims=True)
        scale = ops.rsqrt(variance + self.epsilon)
        if self.scale:
            scale = scale * ops.cast(self.gamma, values.dtype)
        offset = -mean * scale
        if self.center:
            offset = offset + ops.cast(self.beta, values.dtype)
        return ops.cast(values * scale + offset, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        del config["groups"], config["axis"]
        return config
