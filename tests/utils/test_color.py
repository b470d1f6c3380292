"""BT.601 luma: one function for the loss (tensors in [0, 1]) and the metrics (NumPy on 0-255)."""

import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.utils.color import rgb_to_y

# (R, G, B) in [0, 1] -> Y on 0-255, from 16 + 65.481 R + 128.553 G + 24.966 B (MATLAB's rgb2ycbcr).
KNOWN = [
    ((0.0, 0.0, 0.0), 16.0),
    ((1.0, 1.0, 1.0), 235.0),
    ((1.0, 0.0, 0.0), 81.481),
    ((0.0, 1.0, 0.0), 144.553),
    ((0.0, 0.0, 1.0), 40.966),
    ((0.5, 0.25, 0.75), 16 + 0.5 * 65.481 + 0.25 * 128.553 + 0.75 * 24.966),
]


@pytest.mark.parametrize("rgb, y", KNOWN)
def test_known_values_on_both_scales(rgb, y):
    pixel = np.array(rgb, np.float64).reshape(1, 1, 3)
    assert rgb_to_y(pixel * 255, peak=255).shape == (1, 1, 1)
    assert rgb_to_y(pixel * 255, peak=255)[0, 0, 0] == pytest.approx(y, abs=1e-9)
    assert rgb_to_y(pixel)[0, 0, 0] == pytest.approx(y / 255, abs=1e-12)


def test_tensors_keep_their_dtype_and_match_numpy():
    images = np.random.default_rng(0).random((2, 5, 7, 3)).astype(np.float32)
    luma = rgb_to_y(tf.constant(images))
    assert luma.dtype == tf.float32 and luma.shape == (2, 5, 7, 1)
    np.testing.assert_allclose(luma.numpy(), rgb_to_y(images.astype(np.float64)), rtol=1e-6)
