"""Half Instance Normalization (HIN), the core idea of HINet."""

import keras
from keras import ops

from hinet_tf.layers.instance_norm import INSTANCE_NORM_EPSILON
from hinet_tf.layers.instance_norm import InstanceNormalization


@keras.saving.register_keras_serializable(package="hinet_tf")
class HalfInstanceNormalization(keras.layers.Layer):
    """Instance-normalises the first half of the channels and keeps the second half.

    The statistics are taken per sample and channel over height and width (biased
    variance), identically in training and inference; the affine scale and offset
    act on the normalised half only. This matches `InstanceNorm2d(C // 2,
    affine=True)` applied to `torch.chunk(x, 2, dim=1)[0]` in the official model.

    It is computed as one per-channel scale and offset over all channels, `x * 1 + 0`
    on the kept half (exact for finite inputs), rather than by slicing the feature map
    and concatenating it again: ONNX runtimes reorder the whole map's memory layout
    around such slices, and this form lets them keep their blocked layout.

    Args:
        epsilon: added to the variance before the square root.
    """

    def __init__(self, epsilon=INSTANCE_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % 2:
            raise ValueError(
                "HalfInstanceNormalization needs an even, known channel count; "
                f"got input shape {input_shape}."
            )
        self.half = channels // 2
        self.instance_norm = InstanceNormalization(epsilon=self.epsilon, dtype=self.dtype_policy, name="instance_norm")
        self.instance_norm.build((*input_shape[:-1], self.half))

    def call(self, inputs):
        # float32 at least, as InstanceNormalization computes.
        values = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = ops.moments(values, axes=tuple(range(1, len(inputs.shape) - 1)), keepdims=True)
        # The instance norm's weights hold the first half; zeros extend them over the kept half.
        padding = ops.zeros((self.half,), values.dtype)
        gamma = ops.concatenate([ops.cast(self.instance_norm.gamma, values.dtype), padding], axis=0)
        beta = ops.concatenate([ops.cast(self.instance_norm.beta, values.dtype), padding], axis=0)
        keep = ops.concatenate([padding, ops.ones((self.half,), values.dtype)], axis=0)
        normalising_scale = ops.rsqrt(variance + self.epsilon) * gamma
        offset = beta - mean * normalising_scale
        return ops.cast(values * (normalising_scale + keep) + offset, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
