"""The official recipes' learning rate: per-step cosine annealing, optionally after a linear warm-up."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hinet_tf")
class CosineWithWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate of BasicSR's per-iteration `CosineAnnealingLR` with its linear warm-up.

    Without warm-up the rate of optimizer step `s` (from 0) is
    `floor + (peak - floor) * c(s)`, with `c(s) = (1 + cos(pi * min(s / total_steps, 1))) / 2`.

    With `warmup_steps = W > 1`, steps `s < W - 1` take `peak * (s + 1) / W`, as BasicSR sets
    the rate of iteration `s + 1` during warm-up. PyTorch's cosine then goes on multiplying
    the last warm-up rate, so every later step takes
    `floor + (peak * (W - 1) / W - floor) * c(s) / c(W - 2)`.

    Args:
        peak: learning rate at step 0 (2e-4 in every official recipe).
        total_steps: steps of the cosine (400k).
        floor: the final learning rate (`eta_min`: 1e-6 for SIDD, 1e-7 otherwise).
        warmup_steps: BasicSR's `warmup_iter` (10k for Rain13k, else 0; 0 and 1 mean none).
    """

    def __init__(self, peak, total_steps, floor=0.0, warmup_steps=0):
        if total_steps <= 0 or warmup_steps < 0 or not 0 <= floor <= peak:
            raise ValueError(
                f"Need total_steps > 0, warmup_steps >= 0 and 0 <= floor <= peak; got "
                f"peak={peak}, total_steps={total_steps}, floor={floor}, warmup_steps={warmup_steps}."
            )
        self.peak, self.total_steps, self.floor, self.warmup_steps = peak, total_steps, floor, warmup_steps

    def _cosine(self, step):
        return 0.5 * (1.0 + ops.cos(math.pi * ops.minimum(step / self.total_steps, 1.0)))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.warmup_steps <= 1:
            return self.floor + (self.peak - self.floor) * self._cosine(step)
        warmup = float(self.warmup_steps)
        last_warmup_rate = self.peak * (warmup - 1.0) / warmup
        after = self.floor + (last_warmup_rate - self.floor) * self._cosine(step) / self._cosine(warmup - 2.0)
        return ops.where(step + 1.0 < warmup, self.peak * (step + 1.0) / warmup, after)

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "floor": self.floor,
            "warmup_steps": self.warmup_steps,
        }
