"""Restoration losses of the official HINet recipes."""

import keras
from keras import ops

from hinet_tf.metrics.psnr_metric import psnr_per_image
from hinet_tf.utils.color import rgb_to_y


@keras.saving.register_keras_serializable(package="hinet_tf")
class PSNRLoss(keras.losses.Loss):
    """Minus the PSNR at peak 1, per image: `10 / ln(10) * ln(mean((pred - target)^2) + 1e-8)`.

    The default reduction averages over the batch, which is the official loss.

    Args:
        y_channel: compare the BT.601 Y channel instead of RGB.
        epsilon: added to each image's mean squared error.
    """

    def __init__(self, y_channel=False, epsilon=1e-8, name="psnr_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.y_channel = y_channel
        self.epsilon = epsilon

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if self.y_channel:
            y_true, y_pred = rgb_to_y(y_true), rgb_to_y(y_pred)
        return -psnr_per_image(y_true, y_pred, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "y_channel": self.y_channel, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="hinet_tf")
class L1Loss(keras.losses.Loss):
    """Mean absolute error per image (the official SIDD recipe)."""

    def __init__(self, name="l1_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        difference = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
        return ops.mean(ops.abs(difference), axis=(1, 2, 3))


_LOSSES = {"psnr": PSNRLoss, "psnr_y": lambda: PSNRLoss(y_channel=True), "l1": L1Loss}
LOSSES = tuple(_LOSSES)  # hinet-tf's names; `get` also takes Keras' own


def get(identifier):
    """Returns a loss from "psnr", "psnr_y" or "l1", a Keras loss identifier (e.g. "mse"), or the given callable."""
    if isinstance(identifier, str):
        if identifier in _LOSSES:
            return _LOSSES[identifier]()
        try:
            return keras.losses.get(identifier)
        except ValueError:
            raise ValueError(f"Unknown loss {identifier!r}; choose one of {', '.join(LOSSES)} or a Keras loss.") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"A loss must be a name or a callable, got {identifier!r}.")
