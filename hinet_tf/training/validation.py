"""Validation during training as the official recipes score it: whole images, the tile grid, 8-bit PSNR."""

import keras
import numpy as np
import tensorflow as tf

from hinet_tf.inference import Restorer
from hinet_tf.inference.errors import NonFiniteOutputError
from hinet_tf.metrics import psnr

MONITOR = "val_psnr"


class Validation(keras.callbacks.Callback):
    """Restores every validation image after each epoch and logs their mean PSNR as `val_psnr`.

    Images go through the official 256-pixel evaluation grid (`tile`; `None` restores each
    image whole), and PSNR is computed as `hinet evaluate` computes it: outputs clipped
    and rounded to 8 bits (`quantize`), peak 255, optionally on the BT.601 Y channel
    (Rain13k). SIDD's blocks are scored on float outputs (`quantize=False`). Put this
    callback before the checkpoints and loggers that read `val_psnr`.

    Args:
        images: a dataset of `(degraded, target)` float32 (H, W, 3) images, the same every epoch.
        tile: tile size of the grid, or None.
        y_channel: score the Y channel.
        quantize: round the outputs to 8 bits first.
        log_dir: where to write `degraded | restored | target` strips for TensorBoard, or None.
        log_images: how many of the images to show there.
    """

    def __init__(self, images, tile=256, y_channel=False, quantize=True, log_dir=None, log_images=0):
        super().__init__()
        self.images, self.tile = images, tile
        self.y_channel, self.quantize = y_channel, quantize
        self.log_dir, self.log_images = log_dir, log_images
        self._restorer = self._writer = None

    def on_train_begin(self, logs=None):
        # One traced tile function for the whole run; the model's weights are read at each call.
        tile = self.tile or max(max(degraded.shape[:2]) for degraded, _ in self.images)
        tile = -(-tile // self.model.size_multiple) * self.model.size_multiple
        self._restorer = Restorer(self.model, tile=tile, overlap=0, backend="keras", grid="official")

    def on_epoch_end(self, epoch, logs=None):
        scores, strips = [], []
        for index, (degraded, target) in enumerate(self.images.as_numpy_iterator()):
            try:
                restored = self._restorer(degraded)
            except NonFiniteOutputError:
                scores.append(float("nan"))  # a diverged model scores NaN; the run's NaN checks handle it
                continue
            scores.append(psnr(restored, target, y_channel=self.y_channel, quantize=self.quantize))
            if index < self.log_images:
                strips.append(np.concatenate([degraded, np.clip(restored, 0, 1), target], axis=1))
        if logs is not None:
            logs[MONITOR] = float(np.mean(scores))
        if strips and self.log_dir:
            self._write_strips(strips)

    def _write_strips(self, strips):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        step = int(self.model.optimizer.iterations.numpy())
        with self._writer.as_default():
            for index, strip in enumerate(strips):
                tf.summary.image(f"degraded | restored | target/{index}", strip[None], step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
