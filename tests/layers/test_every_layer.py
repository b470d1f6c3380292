"""The shared harness (build, call, serialisation, mixed precision) on every layer of `hinet_tf.layers`."""

import numpy as np
import pytest

from helpers import layer_harness
from hinet_tf import layers
from hinet_tf.layers import conv
from hinet_tf.layers import padding


def _images(*shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.random(shape).astype("float32") for shape in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


# (class, init kwargs, input shapes, output shapes, number of weights)
CASES = {
    "conv2d": (conv.Conv2D, {"filters": 4, "kernel_size": 3, "padding": "same"}, [(2, 8, 8, 3)], (2, 8, 8, 4), 2),
    "conv2d_transpose": (conv.Conv2DTranspose, {"filters": 4, "kernel_size": 2, "strides": 2}, [(2, 4, 4, 6)], (2, 8, 8, 4), 2),
    "instance": (layers.InstanceNormalization, {}, [(2, 8, 8, 6)], (2, 8, 8, 6), 2),
    "half_instance": (layers.HalfInstanceNormalization, {}, [(2, 8, 8, 6)], (2, 8, 8, 6), 2),
    "instance_batch": (layers.InstanceBatchNormalization, {}, [(2, 8, 8, 6)], (2, 8, 8, 6), 6),
    "residual": (layers.ResidualBlock, {"filters": 6, "relu_slope": 0.1}, [(2, 8, 8, 6)], (2, 8, 8, 6), 4),
    "encoder": (
        layers.EncoderBlock,
        {"filters": 6, "downsample": True, "num_extra_blocks": 1},
        [(2, 8, 8, 3)],
        [(2, 4, 4, 6), (2, 8, 8, 6)],
        13,
    ),
    "encoder_csff": (
        layers.EncoderBlock,
        {"filters": 4, "downsample": True, "use_csff": True, "norm": "ibn"},
        [(1, 8, 8, 4)] * 3,
        [(1, 4, 4, 4), (1, 8, 8, 4)],
        17,
    ),
    "decoder": (layers.DecoderBlock, {"filters": 4}, [(2, 4, 4, 8), (2, 8, 8, 4)], (2, 8, 8, 4), 8),
    "decoder_no_skip": (layers.DecoderBlock, {"filters": 4}, [(2, 4, 4, 8)], (2, 8, 8, 4), 8),
    "csff": (layers.CrossStageFeatureFusion, {"filters": 5}, [(2, 8, 8, 5), (2, 8, 8, 5)], (2, 8, 8, 5), 4),
    "sam": (
        layers.SupervisedAttention,
        {"filters": 6, "image_channels": 3},
        [(2, 8, 8, 6), (2, 8, 8, 3)],
        [(2, 8, 8, 6), (2, 8, 8, 3)],
        6,
    ),
    "reflect_pad": (padding.ReflectPadToMultiple, {"multiple": 8}, [(1, 13, 8, 3)], (1, 16, 8, 3), 0),
    "crop": (padding.CropToMatch, {}, [(1, 16, 16, 3), (1, 13, 9, 2)], (1, 13, 9, 3), 0),
}


@pytest.mark.parametrize("case", CASES)
def test_layer_builds_and_calls_with_the_expected_shapes(case):
    cls, kwargs, shapes, output_shape, num_weights = CASES[case]
    layer_harness.run_layer_test(cls, kwargs, _images(*shapes), output_shape, num_weights)


@pytest.mark.parametrize("case", CASES)
def test_layer_serialises_to_the_same_layer(case):
    cls, kwargs, shapes, _, _ = CASES[case]
    inputs = _images(*shapes)
    layer = cls(**kwargs)
    layer_harness.call_layer(layer, inputs)
    layer_harness.run_serialization_test(layer, inputs)


@pytest.mark.parametrize("case", CASES)
def test_layer_follows_a_mixed_precision_policy(case):
    cls, kwargs, shapes, _, _ = CASES[case]
    layer_harness.run_precision_test(cls, kwargs, _images(*shapes))
