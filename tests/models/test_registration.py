"""`import hinet_tf` registers every class for `keras.saving.load_model` (problem 1 of issue 14)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer
from hinet_tf.training.schedules import CosineWithWarmup

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(code, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registration")
    backbone = HINetBackbone(width=2, depth=3)
    backbone.save(folder / "backbone.keras")
    HINetImageRestorer(backbone).save(folder / "task.keras")
    compiled = HINetImageRestorer(HINetBackbone(width=2, depth=3))
    from hinet_tf.optimizers import TorchAdam

    compiled.compile(optimizer=TorchAdam(CosineWithWarmup(1e-3, 10)), loss="psnr_y")
    images = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    compiled.train_on_batch(images, images)
    compiled.save(folder / "compiled.keras")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "order",
    [
        "import hinet_tf, keras",
        "import keras, hinet_tf",
        # A subpackage that imports Keras first: registering then would import its half-run module.
        "from hinet_tf import metrics; import keras",
        "import hinet_tf.layers, keras",
    ],
)
def test_import_hinet_tf_then_load_model_works_in_a_fresh_process(saved_models, order):
    code = f"""
{order}
for name in ("backbone", "task", "compiled"):
    model = keras.saving.load_model("{saved_models}/" + name + ".keras")
    print(name, type(model).__name__, type(getattr(model, "optimizer", None)).__name__)
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert "backbone HINetBackbone NoneType" in lines
    assert "task HINetImageRestorer NoneType" in lines
    assert "compiled HINetImageRestorer TorchAdam" in lines


@pytest.mark.slow
def test_hinet_help_imports_neither_keras_nor_tensorflow_and_is_fast():
    code = """
import sys, time
start = time.perf_counter()
from hinet_tf.cli.main import build_parser
build_parser()
import hinet_tf
print(time.perf_counter() - start, "keras" in sys.modules, "tensorflow" in sys.modules)
"""
    result = _run(code)
    seconds, keras_loaded, tensorflow_loaded = result.stdout.split()
    assert (keras_loaded, tensorflow_loaded) == ("False", "False")
    assert float(seconds) < 1.0
