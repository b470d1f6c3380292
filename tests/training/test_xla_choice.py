"""`train.jit_compile: auto` (hinet_tf/training/xla_choice.py): the faster setting, timed; none over replicas."""

import keras
import pytest

from hinet_tf.training import xla_choice


def _small_model(jit_compile):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
    return model


@pytest.mark.parametrize("faster", [False, True])
def test_the_faster_setting_is_chosen_and_both_times_are_logged(monkeypatch, faster):
    timed = lambda model, shape, steps: 1.0 if model.jit_compile == faster else 2.0  # noqa: E731
    monkeypatch.setattr(xla_choice, "seconds_per_step", timed)
    lines = []
    assert xla_choice.choose_jit_compile(_small_model, (2, 4, 4, 3), log=lines.append) is faster
    assert f"training {'with' if faster else 'without'} XLA" in lines[-1]
    without, with_xla = (2.0, 1.0) if faster else (1.0, 2.0)
    assert f"{without:.2f} s per step without XLA, {with_xla:.2f} s with it" in lines[-1]


def test_several_replicas_train_without_xla_untimed():
    built, lines = [], []
    assert xla_choice.choose_jit_compile(built.append, (2, 4, 4, 3), replicas=2, log=lines.append) is False
    assert built == [] and "cannot compile the step over 2 replicas" in lines[0]


def test_the_steps_are_timed_after_a_compiling_one():
    model = _small_model(False)
    seconds = xla_choice.seconds_per_step(model, (2, 4, 4, 3), steps=2)
    assert 0 < seconds < 10
    assert int(model.optimizer.iterations.numpy()) == 3
