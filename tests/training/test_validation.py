"""Validation during training: whole images through the official grid, PSNR of 8-bit outputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.inference import Restorer
from hinet_tf.metrics import psnr
from hinet_tf.models import HINetBackbone
from hinet_tf.training.validation import Validation


def _pairs():
    rng = np.random.default_rng(0)
    for height, width in ((70, 83), (48, 40)):
        target = rng.random((height, width, 3)).astype("float32")
        yield (target + rng.normal(0, 0.1, target.shape)).astype("float32"), target


def _dataset():
    return tf.data.Dataset.from_generator(
        _pairs, output_signature=(tf.TensorSpec((None, None, 3), tf.float32),) * 2
    )


@pytest.mark.parametrize("y_channel, quantize", [(False, True), (True, True), (False, False)])
def test_val_psnr_is_the_official_score_of_tiled_whole_images(tmp_path, y_channel, quantize):
    keras.utils.set_random_seed(5)
    model = HINetBackbone(width=4)
    model.compile()
    validation = Validation(
        _dataset(), tile=32, y_channel=y_channel, quantize=quantize, log_dir=tmp_path, log_images=1
    )
    validation.set_model(model)
    validation.on_train_begin()
    logs = {}
    validation.on_epoch_end(0, logs)

    restorer = Restorer(model, tile=32, overlap=0, grid="official")  # the official protocol
    scores = [psnr(restorer(degraded), target, y_channel=y_channel, quantize=quantize) for degraded, target in _pairs()]
    assert logs["val_psnr"] == pytest.approx(np.mean(scores), abs=1e-9)
    unrounded = [psnr(restorer(degraded), target, y_channel=y_channel, quantize=not quantize) for degraded, target in _pairs()]
    assert logs["val_psnr"] != pytest.approx(np.mean(unrounded), abs=1e-6)  # the rounding is really there (or not)
    assert list(tmp_path.glob("events.out.tfevents.*"))  # one degraded | restored | target strip
