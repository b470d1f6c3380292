"""PSNR and SSIM against scikit-image and hand-computed values."""

import math

import numpy as np
import pytest
from skimage import data as skimage_data
from skimage.metrics import peak_signal_noise_ratio
from skimage.metrics import structural_similarity

from hinet_tf.metrics import psnr
from hinet_tf.metrics import ssim
from hinet_tf.metrics import ssim_map
from hinet_tf.utils.color import rgb_to_y


@pytest.fixture(scope="module")
def photo_pair():
    rng = np.random.default_rng(0)
    clean = skimage_data.astronaut()[100:196, 150:246]
    noisy = np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    return noisy, clean


def test_psnr_matches_scikit_image_on_uint8(photo_pair):
    noisy, clean = photo_pair
    expected = peak_signal_noise_ratio(clean, noisy, data_range=255)
    assert psnr(noisy, clean) == pytest.approx(expected, abs=1e-10)
    assert psnr(noisy / 255.0, clean / 255.0) == pytest.approx(expected, abs=1e-10)


def test_psnr_of_identical_images_is_infinite(photo_pair):
    assert psnr(photo_pair[1], photo_pair[1]) == math.inf


def test_psnr_uint8_rounding_by_hand():
    target = np.full((8, 8, 3), 100, np.uint8)
    restored = np.full((8, 8, 3), 100.4 / 255, np.float32)  # rounds to 100
    assert psnr(restored, target) == math.inf
    # Without rounding the error is 0.4 on the 0-255 scale.
    assert psnr(restored, target, quantize=False) == pytest.approx(10 * math.log10(255**2 / 0.16), abs=1e-4)
    # Values are clipped to [0, 1] first.
    assert psnr(np.full((4, 4), 1.7), np.full((4, 4), 255, np.uint8)) == math.inf


def test_psnr_y_channel_by_hand():
    white = np.ones((6, 6, 3))
    black = np.zeros((6, 6, 3))
    # Y is 235 for white and 16 for black: an error of 219 everywhere.
    assert psnr(white, black, y_channel=True) == pytest.approx(20 * math.log10(255 / 219), abs=1e-10)
    pure_red = np.zeros((1, 1, 3))
    pure_red[..., 0] = 1.0
    assert rgb_to_y(pure_red * 255, peak=255)[0, 0, 0] == pytest.approx(16 + 65.481)


def test_psnr_crop_border_ignores_the_border():
    target = np.zeros((20, 20, 3), np.uint8)
    restored = target.copy()
    restored[:4] = 255
    assert psnr(restored, target) < 10
    assert psnr(restored, target, crop_border=4) == math.inf
    with pytest.raises(ValueError, match="A border of 10 pixels leaves nothing of a 20x20 image to score"):
        psnr(restored, target, crop_border=10)


def test_y_channel_ssim_matches_scikit_image_away_from_the_border(photo_pair):
    noisy, clean = photo_pair
    ours = ssim_map(noisy, clean, y_channel=True)
    noisy_y, clean_y = rgb_to_y(noisy.astype(np.float64), 255)[..., 0], rgb_to_y(clean.astype(np.float64), 255)[..., 0]
    expected = structural_similarity(
        noisy_y, clean_y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    # scikit-image averages the map without its 5-pixel border, where the padding differs.
    assert ours.shape == clean.shape[:2]
    assert ours[5:-5, 5:-5].mean() == pytest.approx(expected, abs=1e-10)
    assert ssim(noisy, clean, y_channel=True) == pytest.approx(ours.mean())


def test_rgb_ssim_of_equal_channels_is_the_single_channel_ssim(photo_pair):
    # The 3-D window mixes channels; with three equal channels it reduces to the 2-D SSIM.
    gray_noisy, gray_clean = photo_pair[0][..., 1], photo_pair[1][..., 1]
    rgb = ssim(np.repeat(gray_noisy[..., None], 3, -1), np.repeat(gray_clean[..., None], 3, -1))
    single = ssim(gray_noisy, gray_clean)
    assert rgb == pytest.approx(single, abs=1e-12)
    assert 0 < single < 1


def test_rgb_ssim_mixes_channels(photo_pair):
    noisy, clean = photo_pair
    per_channel = np.mean([ssim(noisy[..., c], clean[..., c]) for c in range(3)])
    three_d = ssim(noisy, clean)
    assert 0.3 < three_d < 0.95
    assert three_d != pytest.approx(per_channel, abs=1e-6)
    assert ssim(clean, clean) == pytest.approx(1.0)


def test_ssim_of_constant_images_by_hand():
    # Flat images: variances vanish, SSIM = (2 a b + C1) / (a^2 + b^2 + C1).
    a, b, c1 = 100.0, 110.0, (0.01 * 255) ** 2
    value = ssim(np.full((16, 16), a / 255), np.full((16, 16), b / 255), quantize=False)
    assert value == pytest.approx((2 * a * b + c1) / (a**2 + b**2 + c1), rel=1e-9)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="RGB"):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), y_channel=True)
