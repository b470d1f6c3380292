"""Typed config sections, and name lists that come from the modules implementing them."""

import dataclasses
import pathlib

import pytest
import yaml

from hinet_tf import losses
from hinet_tf.data import check
from hinet_tf.data import layouts
from hinet_tf.data import synthetic
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.layers.normalization import build_normalization
from hinet_tf.training import config as config_lib

CONFIGS = sorted(pathlib.Path("configs").glob("*.yaml"))

# (section, key, the owner's names, a check that the owner implements a name)
OWNED_NAMES = [
    ("model", "norm", NORMALIZATIONS, lambda name: build_normalization(name, 8)),
    ("loss", "name", losses.LOSSES, losses.get),
    ("data", "check", check.CHECKS, lambda name: None),
    ("data", "layout", layouts.TRAINING_LAYOUTS, lambda name: None),
]


@pytest.mark.parametrize("section, key, names, implement", OWNED_NAMES, ids=lambda value: str(value)[:12])
def test_the_config_accepts_exactly_the_names_its_owner_implements(section, key, names, implement):
    extra = {"data": {"degradations": [{"type": "jpeg"}]}} if key == "layout" else {}  # photos needs one
    for name in names:
        implement(name)
        config = config_lib.validate({**extra, section: {**extra.get(section, {}), key: name}})
        assert getattr(getattr(config, section), key) == name
    with pytest.raises(ValueError) as error:
        config_lib.validate({section: {key: "nonexistent"}})
    assert str(error.value) == f"config key '{section}.{key}' must be one of {', '.join(names)}; got 'nonexistent'"


def test_layouts_of_pairs_are_listed_by_the_layout_module(tmp_path):
    for layout in layouts.LAYOUTS:  # a missing folder, not an unknown layout
        with pytest.raises(ValueError, match="does not exist"):
            layouts.list_pairs(tmp_path / "none", layout)
    assert set(layouts.TRAINING_LAYOUTS) - set(layouts.LAYOUTS) == {"photos", "tfrecord"}


def test_degradation_types_are_checked_by_the_synthetic_module():
    for kind in synthetic.DEGRADATIONS:
        config = config_lib.validate({"data": {"degradations": [{"type": kind}]}})
        assert config.data.degradations == [{"type": kind}]
    with pytest.raises(ValueError, match=r"'data.degradations' degradations\[0\]: unknown type 'snow'; choose one of: "):
        config_lib.validate({"data": {"degradations": [{"type": "snow"}]}})


def test_sections_are_frozen_and_typed():
    config = config_lib.load_config("configs/gopro.yaml")
    assert isinstance(config.train, config_lib.TrainConfig) and config.train.batch_size == 64
    assert config.model.hin_levels == [3, 4] and config.optimizer.clip_norm == 0.01
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.train.batch_size = 8
    assert list(config.to_dict()) == list(config_lib.SECTIONS) == ["model", "loss", "optimizer", "train", "data"]


def test_replace_returns_a_validated_copy():
    config = config_lib.load_config("configs/photos_cpu.yaml")
    changed = config.replace(train={"batch_size": 4}, data={"root": "/photos"})
    assert (changed.train.batch_size, changed.data.root) == (4, "/photos")
    assert config.train.batch_size == 8 and config.data.root is None  # the original is unchanged
    assert changed.model == config.model
    with pytest.raises(ValueError, match="'train.batch_size' must be >= 1, got 0"):
        config.replace(train={"batch_size": 0})
    with pytest.raises(ValueError, match=r"unknown config key 'train.batchsize' \(did you mean 'train.batch_size'\?\)"):
        config.replace(train={"batchsize": 4})


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_every_config_loads_and_round_trips_through_its_yaml(path):
    config = config_lib.load_config(path)
    text = config_lib.dump_config(config)
    assert config_lib.validate(yaml.safe_load(text)) == config
    written = yaml.safe_load(path.read_text())
    for section, values in written.items():  # every key the file gives is the value the config holds
        for key, value in values.items():
            assert getattr(getattr(config, section), key) == value, f"{path}: {section}.{key}"


def test_jit_compile_is_off_by_default_and_an_older_run_folder_still_resumes(tmp_path):
    from hinet_tf.training.trainer import CONFIG_FILE
    from hinet_tf.training.trainer import check_run_dir

    config = config_lib.load_config("configs/gopro.yaml")
    assert config.train.jit_compile is False
    assert config_lib.validate({"train": {"jit_compile": True}}).train.jit_compile is True
    assert config_lib.validate({"train": {"jit_compile": "auto"}}).train.jit_compile == "auto"
    with pytest.raises(ValueError, match="'train.jit_compile' must be true, false or auto, got 'yes'"):
        config_lib.validate({"train": {"jit_compile": "yes"}})
    older = config.to_dict()
    del older["train"]["jit_compile"]  # a run folder written before the key existed
    (tmp_path / CONFIG_FILE).write_text(yaml.safe_dump(older))
    check_run_dir(config, tmp_path)  # the same run: resumable
    with pytest.raises(ValueError, match="train.jit_compile: False -> True"):
        check_run_dir(config.replace(train={"jit_compile": True}), tmp_path)
