"""Image quality metrics."""

from hinet_tf.metrics.image_quality import psnr
from hinet_tf.metrics.image_quality import ssim
from hinet_tf.metrics.image_quality import ssim_map
from hinet_tf.metrics.psnr_metric import PSNR

__all__ = ["PSNR", "psnr", "ssim", "ssim_map"]
