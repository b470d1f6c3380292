"""Export to SavedModel (TF Serving), LiteRT (`.tflite`, phones and edge devices) and ONNX.

The names below load their module on first use, so that `hinet export` checks its output
with `hinet_tf.export.outputs` before anything imports TensorFlow.
"""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "export_litert": "hinet_tf.export.litert",
    "export_model": "hinet_tf.export.exporter",
    "export_onnx": "hinet_tf.export.onnx",
    "export_saved_model": "hinet_tf.export.savedmodel",
}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC)
