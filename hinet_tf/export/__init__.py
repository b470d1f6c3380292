"""Export to SavedModel (TF Serving), LiteRT (`.tflite`, phones and edge devices) and ONNX.

The names below load their module on first use, so that `hinet export` checks its output
with `hinet_tf.export.outputs` before anything imports TensorFlow.
"""

import importlib

_PUBLIC = {
    "export_litert": "hinet_tf.export.litert",
    "export_onnx": "hinet_tf.export.onnx",
    "export_saved_model": "hinet_tf.export.savedmodel",
}

__all__ = list(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hinet_tf.export' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
