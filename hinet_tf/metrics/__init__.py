"""Image quality metrics."""

from hinet_tf.metrics.psnr_metric import PSNR

__all__ = ["PSNR"]
