"""HINet's building blocks as Keras layers."""

from hinet_tf.layers.csff import CrossStageFeatureFusion
from hinet_tf.layers.decoder_block import DecoderBlock
from hinet_tf.layers.encoder_block import EncoderBlock
from hinet_tf.layers.half_instance_norm import HalfInstanceNormalization
from hinet_tf.layers.instance_norm import InstanceNormalization
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.layers.normalization import InstanceBatchNormalization
from hinet_tf.layers.normalization import build_normalization
from hinet_tf.layers.residual_block import ResidualBlock
from hinet_tf.layers.sam import SupervisedAttention

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
