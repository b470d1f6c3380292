"""Half Instance Normalization (HIN), the core idea of HINet."""

import keras
from keras import ops

from hinet_tf.layers.instance_norm import INSTANCE_NORM_EPSILON
from hinet_tf.layers.instance_norm import InstanceNormalization
from hinet_tf.layers.instance_norm import normalize_over_space


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
        # The instance norm's weights hold the first half; zeros extend them over the kept half.
        zeros = ops.zeros((self.half,), self.instance_norm.gamma.dtype)
        gamma = ops.concatenate([self.instance_norm.gamma, zeros], axis=0)
        beta = ops.concatenate([self.instance_norm.beta, zeros], axis=0)
        keep = ops.concatenate([zeros, ops.ones_like(zeros)], axis=0)
        return ops.cast(normalize_over_space(inputs, self.epsilon, gamma, beta, keep), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
