"""The Keras training step against the official PyTorch step, update for update (needs torch)."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import keras  # noqa: E402

from helpers import training_parity  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TOLERANCE = 1e-3  # relative L2 difference of each tensor's total update over 3 steps
# Steps on coordinates without a gradient (see `zero_gradient_coordinates`) are float noise, well
# below the peak learning rate; a real Adam step is about one learning rate per step.
NOISE_STEP_LIMIT = 0.5


@pytest.mark.parametrize("fixture", ["hinet_wf8_hin0-4.npz", "hinet_wf8_hin3-4.npz"])
def test_official_torch_module_reproduces_the_reference_outputs(fixture):
    import torch

    from hinet_tf.convert.official_torch import HINet

    arrays = np.load(REPO_ROOT / "tests" / "data" / fixture)
    width, depth, left, right = (int(value) for value in arrays["config"])
    network = HINet(width, depth, tuple(range(left, right + 1))).eval()
    state = {key[len("params/") :]: torch.from_numpy(arrays[key]) for key in arrays.files if key.startswith("params/")}
    network.load_state_dict(state, strict=True)
    with torch.no_grad():
        stage1, stage2 = network(torch.from_numpy(arrays["input_nchw"]))
    np.testing.assert_allclose(stage1.numpy(), arrays["stage1_nchw"], atol=1e-5)
    np.testing.assert_allclose(stage2.numpy(), arrays["stage2_nchw"], atol=1e-5)


@pytest.mark.parametrize("recipe", ["gopro", "sidd_1x"])  # PSNR loss, betas (0.9, 0.99); L1, (0.9, 0.999)
def test_three_training_steps_match_the_official_step(recipe):
    differences, noise_step, model = training_parity.compare(recipe)
    assert len(differences) == len(model.trainable_variables)
    worst = max(differences, key=differences.get)
    assert differences[worst] < TOLERANCE, f"{worst}: {differences[worst]:.2e}"
    assert noise_step < NOISE_STEP_LIMIT


@pytest.mark.slow
def test_the_xla_compiled_step_matches_the_official_step():
    differences, noise_step, model = training_parity.compare("gopro", overrides=("train.jit_compile=true",))
    assert model.jit_compile is True
    worst = max(differences, key=differences.get)
    assert differences[worst] < TOLERANCE, f"{worst}: {differences[worst]:.2e}"
    assert noise_step < NOISE_STEP_LIMIT


def test_keras_adam_fails_the_same_comparison():
    """Keras' Adam puts epsilon before the bias correction: the same check must catch it."""
    differences, _, _ = training_parity.compare("gopro", optimizer=keras.optimizers.Adam(2e-4, beta_2=0.99, global_clipnorm=0.01))
    assert max(differences.values()) > 0.5


@pytest.mark.slow
def test_two_replicas_match_the_official_step_with_one_all_reduce():
    script = REPO_ROOT / "tests" / "helpers" / "training_parity.py"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, str(script), "--replicas", "2", "gopro"],  # one replica covers the L1 recipe
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [report["recipe"] for report in reports] == ["gopro"]
    for report in reports:
        assert report["replicas"] == 2
        assert report["max_relative_difference"] < TOLERANCE, report
        assert report["zero_gradient_step"] < NOISE_STEP_LIMIT, report
        # One all-reduce of every gradient per step, not a second one inside the optimizer.
        assert report["reduced_gradient_tensors"] == report["trainable_variables"], report
