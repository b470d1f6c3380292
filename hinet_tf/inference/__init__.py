"""Inference: image files in and out, tiled restoration with test-time augmentation and ensembles."""

from hinet_tf.inference.default_model import default_model_path
from hinet_tf.inference.default_model import load_model
from hinet_tf.inference.default_model import load_models
from hinet_tf.inference.image_io import Image
from hinet_tf.inference.image_io import ImageError
from hinet_tf.inference.image_io import read_image
from hinet_tf.inference.image_io import write_image
from hinet_tf.inference.restorer import Restorer

__all__ = ["Image", "ImageError", "Restorer", "default_model_path", "load_model", "load_models", "read_image", "write_image"]
