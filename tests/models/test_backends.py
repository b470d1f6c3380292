"""Every Keras backend: the official fixture's outputs, and `fit` with the same losses (each in its own process)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "tests" / "helpers" / "backend_check.py"
FIXTURE = "hinet_wf8_hin3-4.npz"
TOLERANCE = 1e-4  # the converter's tolerance against the official outputs


def _check(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), FIXTURE], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))


@pytest.fixture(scope="module")
def tensorflow_report():
    return _check("tensorflow")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_backend_reproduces_the_official_outputs_and_the_training_losses(backend, tensorflow_report):
    pytest.importorskip(backend)
    report = _check(backend)
    assert report["backend"] == backend
    assert max(report["stage_differences"]) < TOLERANCE, report
    assert max(tensorflow_report["stage_differences"]) < TOLERANCE, tensorflow_report
    assert report["losses"][-1] < report["losses"][0]  # it trains
    # Same weights, data, loss, clipping and TorchAdam: the same three steps.
    for ours, reference in zip(report["losses"], tensorflow_report["losses"]):
        assert ours == pytest.approx(reference, rel=1e-3, abs=1e-3), (report, tensorflow_report)


@pytest.mark.slow
def test_tensorflow_only_parts_say_so_on_another_backend():
    code = (
        "import numpy as np\n"
        "from hinet_tf.models import HINetBackbone\n"
        "from hinet_tf.export import export_saved_model\n"
        "try:\n"
        "    export_saved_model(HINetBackbone(width=2, depth=3), 'unused')\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert "SavedModel export runs on TensorFlow only, and the Keras backend is 'torch'" in result.stdout, result.stderr



@pytest.mark.slow
def test_the_command_line_says_so_in_one_line_on_another_backend(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "hinet_tf.cli.main", "export", "hinet_camera_denoise", "--format", "onnx",
               "-o", str(tmp_path / "m.onnx")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("hinet: error: ONNX export runs on TensorFlow only")
    assert "Traceback" not in result.stderr
