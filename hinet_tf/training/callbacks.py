"""Callbacks of the trainer beyond Keras' own: validation images in TensorBoard."""

import keras
import tensorflow as tf


class ImageStrip(keras.callbacks.Callback):
    """Writes `degraded | restored | target` strips of a few validation images to TensorBoard.

    Args:
        degraded: float32 batch (N, H, W, 3) of validation inputs.
        target: the matching targets.
        log_dir: folder of the summaries (a TensorBoard log directory).
    """

    def __init__(self, degraded, target, log_dir):
        super().__init__()
        self.degraded, self.target = degraded, target
        self.log_dir = str(log_dir)
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        # A direct call, not `predict`: it runs on this worker alone, with no collective ops.
        restored = self.model(self.degraded, training=False)[-1]
        strip = tf.concat([self.degraded, tf.cast(restored, tf.float32), self.target], axis=2)
        step = int(self.model.optimizer.iterations.numpy())
        with self._writer.as_default():
            tf.summary.image(
                "degraded | restored | target", tf.clip_by_value(strip, 0.0, 1.0), step=step, max_outputs=len(strip)
            )
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
