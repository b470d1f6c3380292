"""HINet models: `HINetBackbone` (the network), `HINetImageRestorer` (the task) and their presets.

The names below load their module on first use, so that the command line checks a model's
name (`model_source`) before anything imports Keras.
"""

import importlib

_PUBLIC = {
    "HINetBackbone": "hinet_tf.models.hinet.hinet_backbone",
    "HINetImageRestorer": "hinet_tf.models.hinet.hinet_image_restorer",
    "PRESETS": "hinet_tf.models.hinet.hinet_presets",
    "image_restorer": "hinet_tf.models.hinet.hinet_image_restorer",
}
_ATTRIBUTES = {"PRESETS": "backbone_presets"}

__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hinet_tf.models' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), _ATTRIBUTES.get(name, name))
