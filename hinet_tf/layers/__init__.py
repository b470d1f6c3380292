"""HINet's building blocks as Keras layers."""

from hinet_tf.layers.blocks import CrossStageFeatureFusion
from hinet_tf.layers.blocks import DecoderBlock
from hinet_tf.layers.blocks import EncoderBlock
from hinet_tf.layers.blocks import ResidualBlock
from hinet_tf.layers.blocks import SupervisedAttention
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.layers.normalization import HalfInstanceNormalization
from hinet_tf.layers.normalization import InstanceBatchNormalization
from hinet_tf.layers.normalization import InstanceNormalization
from hinet_tf.layers.normalization import build_normalization

__all__ = [
    "CrossStageFeatureFusion",
    "DecoderBlock",
    "EncoderBlock",
    "HalfInstanceNormalization",
    "InstanceBatchNormalization",
    "InstanceNormalization",
    "NORMALIZATIONS",
    "ResidualBlock",
    "SupervisedAttention",
    "build_normalization",
]
