"""HINet models: `HINetBackbone` (the network), `HINetImageRestorer` (the task) and their presets."""

from hinet_tf.models.hinet.hinet_backbone import HINetBackbone
from hinet_tf.models.hinet.hinet_image_restorer import HINetImageRestorer
from hinet_tf.models.hinet.hinet_image_restorer import image_restorer
from hinet_tf.models.hinet.hinet_presets import backbone_presets as PRESETS

__all__ = ["HINetBackbone", "HINetImageRestorer", "PRESETS", "image_restorer"]
