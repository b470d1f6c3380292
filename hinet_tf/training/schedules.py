"""The official recipes' learning rate: per-step cosine annealing, optionally after a linear warm-up."""

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hinet_tf")
class CosineWithWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """`floor + (peak - floor) * (1 + cos(pi * step / total_steps)) / 2`, constant `floor` after.

    During the first `warmup_steps` steps the rate instead rises linearly from 0 to
    `peak * step / warmup_steps`, as BasicSR's warm-up (the cosine keeps counting from step 0).

    Args:
        peak: learning rate at step 0 (2e-4 in every official recipe).
        total_steps: steps of the cosine (400k).
        floor: the final learning rate (`eta_min`: 1e-6 for SIDD, 1e-7 otherwise).
        warmup_steps: linear warm-up length (10k for Rain13k, else 0).
    """

    def __init__(self, peak, total_steps, floor=0.0, warmup_steps=0):
        if total_steps <= 0 or warmup_steps < 0 or not 0 <= floor <= peak:
            raise ValueError(
                f"Need total_steps > 0, warmup_steps >= 0 and 0 <= floor <= peak; got "
                f"peak={peak}, total_steps={total_steps}, floor={floor}, warmup_steps={warmup_steps}."
            )
        self.peak, self.total_steps, self.floor, self.warmup_steps = peak, total_steps, floor, warmup_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        progress = tf.minimum(step / self.total_steps, 1.0)
        cosine = self.floor + (self.peak - self.floor) * 0.5 * (1.0 + tf.cos(math.pi * progress))
        if not self.warmup_steps:
            return cosine
        return tf.where(step < self.warmup_steps, self.peak * step / self.warmup_steps, cosine)

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "floor": self.floor,
            "warmup_steps": self.warmup_steps,
        }
