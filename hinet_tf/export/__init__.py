"""Export to SavedModel (TF Serving) and LiteRT (`.tflite`, phones and edge devices)."""

from hinet_tf.export.litert import export_litert
from hinet_tf.export.savedmodel import export_saved_model

__all__ = ["export_litert", "export_saved_model"]
