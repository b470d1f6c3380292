"""HINet models: `HINetBackbone` (the network), `HINetImageRestorer` (the task) and their presets.

The names below load their module on first use, so that the command line checks a model's
name (`model_source`) before anything imports Keras.
"""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "HINetBackbone": "hinet_tf.models.hinet.hinet_backbone",
    "HINetImageRestorer": "hinet_tf.models.hinet.hinet_image_restorer",
    "PRESETS": "hinet_tf.models.hinet.hinet_presets",
    "image_restorer": "hinet_tf.models.hinet.hinet_image_restorer",
    "float32_restorer": "hinet_tf.models.hinet.hinet_image_restorer",
}
_ATTRIBUTES = {"PRESETS": "backbone_presets"}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC, renamed=_ATTRIBUTES)
