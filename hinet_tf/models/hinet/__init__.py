"""HINet: the backbone, the image restoration task and their presets."""

from hinet_tf.models.hinet.hinet_backbone import HINetBackbone
from hinet_tf.models.hinet.hinet_image_restorer import HINetImageRestorer

__all__ = ["HINetBackbone", "HINetImageRestorer"]
