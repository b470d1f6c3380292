"""Training: YAML recipes, the learning-rate schedule, callbacks and the `model.fit` trainer.

Importing this package registers `CosineWithWarmup`, which `keras.saving.load_model` needs
to restore the optimizer of a trained `model.keras` (not needed with `compile=False`).
"""

from hinet_tf.training.schedules import CosineWithWarmup

__all__ = ["CosineWithWarmup"]
