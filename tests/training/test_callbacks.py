"""The trainer's checkpoint callback: what it saves, and when."""

import math
from pathlib import Path

import keras
import numpy as np

from hinet_tf.training.callbacks import AtomicCheckpoint


def _model():
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])


def _epochs(checkpoint, model, values):
    """Runs `on_epoch_end` with each `val_psnr`; returns the model's bias saved after each epoch, or None."""
    checkpoint.set_model(model)
    saved = []
    for epoch, value in enumerate(values):
        model.layers[0].bias.assign([float(epoch)])  # tells the epochs' models apart
        checkpoint.on_epoch_end(epoch, {"val_psnr": value})
        path = Path(checkpoint.path)
        saved.append(float(keras.saving.load_model(path).layers[0].bias.numpy()[0]) if path.exists() else None)
    return saved


def test_the_best_checkpoint_keeps_the_highest_finite_score_above_a_resumed_run_s_best(tmp_path):
    checkpoint = AtomicCheckpoint(tmp_path / "best.keras", "val_psnr", best=30.0)
    saved = _epochs(checkpoint, _model(), [29.0, math.nan, 31.0, 30.5, math.inf, 32.0])
    assert saved == [None, None, 2.0, 2.0, 2.0, 5.0]  # below the resumed best, NaN, worse, inf: not saved
    assert checkpoint.best == 32.0 and [path.name for path in tmp_path.iterdir()] == ["best.keras"]


def test_without_a_monitor_every_epoch_is_saved(tmp_path):
    saved = _epochs(AtomicCheckpoint(tmp_path / "last.keras"), _model(), [np.float32(1.0), math.nan, 0.5])
    assert saved == [0.0, 1.0, 2.0]
