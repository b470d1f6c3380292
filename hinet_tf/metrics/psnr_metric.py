"""PSNR as a streaming Keras metric for training and validation."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hinet_tf")
class PSNR(keras.metrics.Mean):
    """Mean per-image PSNR (peak 1) of predictions clipped to [0, 1], on float values."""

    def __init__(self, name="psnr", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.float32)
        y_pred = tf.clip_by_value(tf.cast(y_pred, tf.float32), 0.0, 1.0)
        return super().update_state(tf.image.psnr(y_true, y_pred, max_val=1.0), sample_weight)
