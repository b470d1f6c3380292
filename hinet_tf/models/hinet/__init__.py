"""HINet: the backbone, the image restoration task and their presets (each loaded on first use)."""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "HINetBackbone": "hinet_tf.models.hinet.hinet_backbone",
    "HINetImageRestorer": "hinet_tf.models.hinet.hinet_image_restorer",
}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC)
