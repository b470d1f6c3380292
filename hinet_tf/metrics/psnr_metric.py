"""PSNR as a streaming Keras metric for training and validation, on every Keras backend."""

import math

import keras
from keras import ops


def psnr_per_image(y_true, y_pred, epsilon=0.0):
    """Each image's PSNR in dB at peak 1 in float32: `-10 / ln(10) * ln(mse + epsilon)`; the loss's too."""
    difference = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
    mse = ops.mean(ops.square(difference), axis=(1, 2, 3))
    return -((10.0 / math.log(10.0)) * ops.log(mse + epsilon))


@keras.saving.register_keras_serializable(package="hinet_tf")
class PSNR(keras.metrics.Mean):
    """Mean per-image PSNR (peak 1) of predictions clipped to [0, 1], on float values."""

    def __init__(self, name="psnr", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.clip(ops.cast(y_pred, "float32"), 0.0, 1.0)
        return super().update_state(psnr_per_image(y_true, y_pred), sample_weight)
