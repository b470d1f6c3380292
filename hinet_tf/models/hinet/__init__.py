"""HINet: the backbone, the image restoration task and their presets (each loaded on first use)."""

import importlib

_PUBLIC = {
    "HINetBackbone": "hinet_tf.models.hinet.hinet_backbone",
    "HINetImageRestorer": "hinet_tf.models.hinet.hinet_image_restorer",
}

__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hinet_tf.models.hinet' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
