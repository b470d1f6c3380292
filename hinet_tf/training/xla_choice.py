"""`train.jit_compile: auto`: XLA or not, by timing the training step both ways on this machine.

Whether XLA speeds up the step depends on the CPU: it measured 1.3-1.4x slower on an Intel
Xeon with AVX-512 and about level with PyTorch, where the plain step was slower, on an AMD
EPYC with AVX2. So `auto` measures instead of assuming.
"""

import statistics

import numpy as np

from hinet_tf.utils.timing import wall_times


def choose_jit_compile(build_model, batch_shape, replicas=1, log=print, steps=3):
    """Times `steps` training steps of `build_model(jit_compile)` with and without XLA; returns the faster setting.

    Each model trains on one random batch of `batch_shape` (N, H, W, C) after a first step
    that traces and compiles it, and is then thrown away. XLA cannot compile the step over
    several replicas, so with `replicas > 1` the answer is False, untimed.
    """
    if replicas > 1:
        log(f"train.jit_compile auto: without XLA, which cannot compile the step over {replicas} replicas.")
        return False
    log(f"train.jit_compile auto: timing {steps} training steps without and with XLA first.")
    seconds = {setting: seconds_per_step(build_model(setting), batch_shape, steps) for setting in (False, True)}
    with_xla = seconds[True] < seconds[False]
    log(
        f"train.jit_compile auto: {seconds[False]:.2f} s per step without XLA, {seconds[True]:.2f} s with it: "
        f"training {'with' if with_xla else 'without'} XLA."
    )
    return with_xla


def random_batch(batch_shape, seed=0):
    """A fixed `(degraded, targets)` training batch of `batch_shape`: uniform targets plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    targets = rng.random(batch_shape, np.float32)
    return targets + rng.normal(0, 0.1, batch_shape).astype(np.float32), targets


def seconds_per_step(model, batch_shape, steps):
    """Median wall time of `steps` calls of `model.train_on_batch` after a first, compiling one."""
    degraded, targets = random_batch(batch_shape)
    return statistics.median(wall_times(lambda: model.train_on_batch(degraded, targets), steps, warmup=1))
