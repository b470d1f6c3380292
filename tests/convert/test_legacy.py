"""Files of hinet-tf 0.x's removed `HINet` class: a one-line refusal on load, and the converter it names."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import keras

from hinet_tf.convert.legacy import convert_legacy_file
from hinet_tf.inference import load_model
from hinet_tf.models import HINetImageRestorer

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
REPO_ROOT = DATA.parents[1]
# hinet_v0: Keras' Adam, before the PyTorch-exact step; hinet_v1: TorchAdam, saved by the HINet class of 0.1.
SAVED_FILES = ("hinet_v0_trained", "hinet_v1_torch_adam")
COMMAND = "python -m hinet_tf.convert.legacy OLD.keras NEW.keras"


@pytest.mark.parametrize("name", SAVED_FILES)
def test_loading_a_file_of_the_removed_class_names_the_converter(name):
    with pytest.raises(ValueError, match=f"removed in 0.3; convert it with `{COMMAND}`"):
        keras.saving.load_model(DATA / f"{name}.keras")
    with pytest.raises(ValueError, match=f"hinet_v.*convert it with `{COMMAND}`") as caught:
        load_model(DATA / f"{name}.keras")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", SAVED_FILES)
def test_converted_files_restore_as_before(name, tmp_path):
    data = np.load(DATA / f"{name}_io.npz")
    convert_legacy_file(DATA / f"{name}.keras", tmp_path / "new.keras")
    restorer = keras.saving.load_model(tmp_path / "new.keras")
    assert type(restorer) is HINetImageRestorer
    np.testing.assert_allclose(restorer.predict(data["input"], verbose=0), data["stage2"], atol=1e-6)


def test_the_converter_keeps_existing_files_and_refuses_other_models(tmp_path):
    target = tmp_path / "new.keras"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        convert_legacy_file(DATA / "hinet_v0_trained.keras", target)
    assert target.read_bytes() == b"mine"
    convert_legacy_file(DATA / "hinet_v0_trained.keras", tmp_path / "restorer.keras")
    with pytest.raises(ValueError, match="restorer.keras holds a HINetImageRestorer, not the HINet"):
        convert_legacy_file(tmp_path / "restorer.keras", tmp_path / "again.keras")


@pytest.mark.slow
def test_the_command_in_the_message_runs(tmp_path):
    source, target = DATA / "hinet_v1_torch_adam.keras", tmp_path / "n.keras"
    command = [sys.executable, "-m", "hinet_tf.convert.legacy", str(source), str(target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert target.is_file()
    assert "RuntimeWarning" not in result.stderr, result.stderr  # runpy's: the module was imported before it ran
