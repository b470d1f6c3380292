"""PSNR and SSIM as the official HINet evaluation computes them, on NumPy arrays.

Both take a restored image and its ground truth, (H, W, C) or (H, W), either float in
[0, 1] or integer (uint8 / uint16, scaled by their maximum). Values are clipped to [0, 1]
and brought to the 0-255 scale, rounded to integers when `quantize` (the official
`tensor2img`: PSNR of the saved 8-bit image), and compared with peak 255:

- `crop_border` pixels are dropped on each side first;
- `y_channel` compares the BT.601 luma `16 + 65.481 R + 128.553 G + 24.966 B` (Rain13k);
- SSIM uses the 11 x 11 Gaussian window with sigma 1.5 and replicated borders, over
  H and W for one channel (or the Y channel) and over H, W and the channels (a 3-D
  window) for RGB, as HINet's `calculate_ssim` does. `ssim_map` gives the per-pixel map.

`tf.image.ssim` filters without padding and per channel, which is not this definition.
"""

import numpy as np
from scipy import ndimage

from hinet_tf.utils.color import rgb_to_y

PEAK = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
_C1 = (0.01 * PEAK) ** 2
_C2 = (0.03 * PEAK) ** 2


def psnr(restored, target, crop_border=0, y_channel=False, quantize=True):
    """Peak signal-to-noise ratio in dB (peak 255); `inf` for identical images."""
    restored, target = _prepare(restored, target, crop_border, y_channel, quantize)
    mse = np.mean((restored - target) ** 2)
    return float("inf") if mse == 0 else float(20.0 * np.log10(PEAK / np.sqrt(mse)))


def ssim(restored, target, crop_border=0, y_channel=False, quantize=True):
    """Structural similarity: the mean of `ssim_map`."""
    return float(np.mean(ssim_map(restored, target, crop_border, y_channel, quantize)))


def ssim_map(restored, target, crop_border=0, y_channel=False, quantize=True):
    """Per-pixel SSIM, (H, W) for one channel and (H, W, 3) for RGB (after `crop_border`)."""
    restored, target = _prepare(restored, target, crop_border, y_channel, quantize)
    if restored.shape[-1] == 1:
        restored, target = restored[..., 0], target[..., 0]

    def blur(values):  # on every axis (RGB: a 3-D window), cut at the window's radius, borders replicated
        return ndimage.gaussian_filter(values, SSIM_SIGMA, mode="nearest", truncate=(SSIM_WINDOW // 2) / SSIM_SIGMA)

    mean_restored, mean_target = blur(restored), blur(target)
    variance_restored = blur(restored**2) - mean_restored**2
    variance_target = blur(target**2) - mean_target**2
    covariance = blur(restored * target) - mean_restored * mean_target
    numerator = (2 * mean_restored * mean_target + _C1) * (2 * covariance + _C2)
    denominator = (mean_restored**2 + mean_target**2 + _C1) * (variance_restored + variance_target + _C2)
    return numerator / denominator


def _prepare(restored, target, crop_border, y_channel, quantize):
    restored, target = _to_255(restored, quantize), _to_255(target, quantize)
    if restored.shape != target.shape:
        raise ValueError(f"Images differ in shape: {restored.shape} and {target.shape}.")
    if 2 * crop_border >= min(target.shape[:2]):
        height, width = target.shape[:2]
        raise ValueError(f"A border of {crop_border} pixels leaves nothing of a {width}x{height} image to score.")
    if crop_border:
        restored = restored[crop_border:-crop_border, crop_border:-crop_border]
        target = target[crop_border:-crop_border, crop_border:-crop_border]
    if y_channel:
        if restored.shape[-1] != 3:
            raise ValueError(f"The Y channel needs RGB images, got {restored.shape[-1]} channel(s).")
        restored, target = rgb_to_y(restored, PEAK), rgb_to_y(target, PEAK)
    return restored, target


def _to_255(image, quantize):
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"Expected an (H, W, C) or (H, W) image, got shape {image.shape}.")
    if np.issubdtype(image.dtype, np.integer):
        image = image.astype(np.float64) / np.iinfo(image.dtype).max
    image = np.clip(image.astype(np.float64), 0.0, 1.0) * PEAK
    return np.round(image) if quantize else image
