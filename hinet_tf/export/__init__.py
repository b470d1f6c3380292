"""Export to SavedModel (TF Serving), LiteRT (`.tflite`, phones and edge devices) and ONNX."""

from hinet_tf.export.litert import export_litert
from hinet_tf.export.onnx import export_onnx
from hinet_tf.export.savedmodel import export_saved_model

__all__ = ["export_litert", "export_onnx", "export_saved_model"]
