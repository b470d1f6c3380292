"""Loading a model from a preset name, a preset folder or a `.keras` file: each error is one line naming the file."""

import shutil
import warnings

import keras
import numpy as np
import pytest

from hinet_tf.inference import load_model
from hinet_tf.models import HINetBackbone
from hinet_tf.models import preset_utils
from hinet_tf.models.model_source import check_model_source
from hinet_tf.training.trainer import load_initial_weights
from hinet_tf.utils import atomic


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """Width-4 and width-8 presets (depth 3) and a `.keras` file whose Lambda names a function."""
    folder = tmp_path_factory.mktemp("presets")
    HINetBackbone(width=4, depth=3).save_to_preset(folder / "w4")
    HINetBackbone(width=8, depth=3).save_to_preset(folder / "w8")
    inputs = keras.Input((None, None, 3))
    keras.Model(inputs, keras.layers.Lambda(_double)(inputs)).save(folder / "lambda.keras")
    return folder


def _double(images):
    return images * 2


def _damaged(presets, folder, damage):
    """A copy of the width-4 preset in `folder`, damaged as `damage` says."""
    shutil.copytree(presets / "w4", folder)
    weights = folder / preset_utils.MODEL_WEIGHTS_FILE
    if damage == "junk weights":
        weights.write_bytes(b"\x00junk" * 40)
    elif damage == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:96])
    elif damage == "weights of another width":
        shutil.copy(presets / "w8" / preset_utils.MODEL_WEIGHTS_FILE, weights)
    elif damage == "missing weights":
        weights.unlink()
    elif damage == "invalid JSON":
        (folder / preset_utils.CONFIG_FILE).write_text('{"module": "hinet_tf", "class_name": "HINetBackbone", "config": ')
    return folder


DAMAGES = {  # the damage: the file named, and the problem said
    "junk weights": ("model.weights.h5", "is not a readable weights file (Unable to synchronously open file"),
    "truncated weights": ("model.weights.h5", "is not a readable weights file (Unable to synchronously open file"),
    "weights of another width": ("model.weights.h5", "does not fit its config.json: it holds the weights of another"),
    "invalid JSON": ("config.json", "is not valid JSON (Expecting value: line 1 column 65"),
    "missing weights": ("model.weights.h5", "is missing: the preset has no weights"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_preset_is_one_line_naming_its_file_as_model_or_initial_weights(presets, tmp_path, damage):
    preset = _damaged(presets, tmp_path / "preset", damage)
    file, problem = DAMAGES[damage]
    loaders = {
        "load_model": load_model,
        "init_weights": lambda path: load_initial_weights(HINetBackbone(width=4, depth=3), path),
    }
    for name, load in loaders.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError) as error:
                load(preset)
        message = str(error.value)
        assert "\n" not in message and f"{preset / file} {problem}" in message
        assert message.startswith("train.init_weights: ") == (name == "init_weights")
        assert [str(warning.message) for warning in caught] == []  # Keras' warnings of the failed load are dropped


def test_a_keras_file_whose_lambda_names_a_function_is_refused_in_one_line(presets):
    path = presets / "lambda.keras"
    for load in (load_model, lambda path: load_initial_weights(HINetBackbone(width=4, depth=3), path)):
        with pytest.raises(ValueError) as error:
            load(path)
        message = str(error.value)
        assert "\n" not in message and f"Model {path} is not a valid .keras file (Could not locate function '_double'" in message


def test_an_override_that_changes_a_preset_s_architecture_is_named_with_the_weights(presets):
    with pytest.raises(ValueError) as error:
        HINetBackbone.from_preset(presets / "w4", width=8)
    weights = presets / "w4" / preset_utils.MODEL_WEIGHTS_FILE
    assert str(error.value).startswith(f"{weights} does not fit its config.json with width=8: it holds the weights")
    assert HINetBackbone.from_preset(presets / "w4", load_weights=False, width=8).width == 8


def test_initial_weights_of_a_preset_of_another_width_are_named(presets):
    with pytest.raises(ValueError, match=r"^train.init_weights: .*w8 does not fit this model \(the config's model"):
        load_initial_weights(HINetBackbone(width=4, depth=3), presets / "w8")
    backbone = HINetBackbone(width=8, depth=3)
    load_initial_weights(backbone, presets / "w8")
    reference = HINetBackbone.from_preset(presets / "w8")
    for loaded, saved in zip(backbone.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(loaded, saved)


def test_a_preset_replaced_by_a_killed_save_loads_whole(presets, tmp_path, monkeypatch):
    """Killed between the renames of `save_to_preset` over a width-4 preset: the width-4 preset loads, whole."""
    preset = tmp_path / "p"
    shutil.copytree(presets / "w4", preset)
    rename = atomic.os.rename

    def killed_after_the_first_rename(source, destination):
        rename(source, destination)
        if destination == atomic.previous_path(preset):
            raise KeyboardInterrupt

    wider = HINetBackbone(width=8, depth=3)
    monkeypatch.setattr(atomic.os, "rename", killed_after_the_first_rename)
    with pytest.raises(FileExistsError, match="overwrite"):
        wider.save_to_preset(preset)  # an existing preset is replaced only when asked
    assert HINetBackbone.from_preset(preset).width == 4
    with pytest.raises(KeyboardInterrupt):
        wider.save_to_preset(preset, overwrite=True)
    monkeypatch.undo()
    assert not preset.exists()  # the window: the old preset lies whole beside it
    check_model_source(preset)  # what every command checks first puts it back
    assert HINetBackbone.from_preset(preset).width == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]

    wider.save_to_preset(preset, overwrite=True)
    assert HINetBackbone.from_preset(preset).width == 8
    assert sorted(path.name for path in preset.iterdir()) == sorted(preset_utils.PRESET_FILES)
