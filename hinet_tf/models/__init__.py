"""HINet models."""

from hinet_tf.models.hinet import HINet
from hinet_tf.models.presets import PRESETS

__all__ = ["HINet", "PRESETS"]
