"""Inference: image files in and out, tiled restoration with test-time augmentation and ensembles.

The names below load their module on first use, so that `hinet restore` checks its files
with `hinet_tf.utils.image_io` before anything imports TensorFlow.
"""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "Image": "hinet_tf.utils.image_io",
    "ImageError": "hinet_tf.utils.image_io",
    "Restorer": "hinet_tf.inference.restorer",
    "StoredImage": "hinet_tf.utils.image_io",
    "default_model_path": "hinet_tf.models.loading",
    "restore_files": "hinet_tf.inference.image_files",
    "restore_paths": "hinet_tf.inference.image_files",
    "load_model": "hinet_tf.models.loading",
    "read_image": "hinet_tf.utils.image_io",
    "read_stored": "hinet_tf.utils.image_io",
    "write_image": "hinet_tf.utils.image_io",
    "write_stored": "hinet_tf.utils.image_io",
}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC)
