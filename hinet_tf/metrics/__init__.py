"""Image quality metrics.

The names below load their module on first use: `psnr` and `ssim` are NumPy only, so that
`hinet evaluate` checks its data before anything imports TensorFlow.
"""

from hinet_tf.utils.lazy import lazy_getattr

_PUBLIC = {
    "PSNR": "hinet_tf.metrics.psnr_metric",
    "psnr": "hinet_tf.metrics.image_quality",
    "ssim": "hinet_tf.metrics.image_quality",
    "ssim_map": "hinet_tf.metrics.image_quality",
}

__all__ = list(_PUBLIC)

__getattr__ = lazy_getattr(__name__, _PUBLIC)
