"""Presets in keras-hub's layout: save_to_preset / from_preset, the shipped preset, architecture-only names."""

import json
import pathlib

import numpy as np
import pytest

from hinet_tf.cli.main import main
from hinet_tf.models import PRESETS
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"


def _images(height=32, width=32):
    return np.random.default_rng(0).random((1, height, width, 3)).astype("float32")


def test_save_to_preset_then_from_preset_gives_the_same_model(tmp_path):
    backbone = HINetBackbone(width=4, hin_levels=(3, 4), dtype="mixed_float16")
    HINetImageRestorer(backbone).save_to_preset(tmp_path / "preset")
    assert sorted(path.name for path in (tmp_path / "preset").iterdir()) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
    ]
    metadata = json.loads((tmp_path / "preset" / "metadata.json").read_text())
    assert metadata["parameter_count"] == backbone.count_params() and metadata["tasks"] == ["HINetImageRestorer"]
    restorer = HINetImageRestorer.from_preset(tmp_path / "preset")
    assert restorer.backbone.get_config() == backbone.get_config()
    images = _images(20, 36)
    np.testing.assert_array_equal(restorer(images), HINetImageRestorer(backbone)(images))
    fresh = HINetBackbone.from_preset(str(tmp_path / "preset"), load_weights=False)
    assert not np.array_equal(fresh.get_weights()[0], backbone.get_weights()[0])


def test_architecture_only_presets_need_load_weights_false_and_say_how_to_get_weights():
    with pytest.raises(ValueError, match=r"no weights are in reach.*hinet convert HINet-GoPro.pth --preset-dir DIR"):
        HINetBackbone.from_preset("hinet_gopro")
    backbone = HINetBackbone.from_preset("hinet_reds", load_weights=False, width=4)
    assert backbone.width == 4 and backbone.hin_levels == (3, 4)
    assert PRESETS["hinet_sidd_0.5x"]["config"]["width"] == 32
    assert isinstance(HINetImageRestorer.from_preset("hinet_1x", load_weights=False, width=4), HINetImageRestorer)


def test_unknown_presets_and_folders_that_are_no_presets_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown preset 'hinet_3x'"):
        HINetBackbone.from_preset("hinet_3x")
    with pytest.raises(ValueError, match="not a preset directory"):
        HINetBackbone.from_preset(tmp_path)
    with pytest.raises(ValueError, match="A preset is a name or a directory, got None; the built-in names: hinet_"):
        HINetImageRestorer.from_preset(None)


def test_convert_cli_writes_a_preset_of_the_official_checkpoint(tmp_path, capsys):
    assert main(["convert", str(DATA / "hinet_wf8_hin3-4.npz"), "--preset-dir", str(tmp_path / "gopro")]) == 0
    assert f"wrote {tmp_path / 'gopro'}" in capsys.readouterr().out
    arrays = np.load(DATA / "hinet_wf8_hin3-4.npz")
    images = arrays["input_nchw"].transpose(0, 2, 3, 1)
    restored = HINetImageRestorer.from_preset(tmp_path / "gopro").predict(images, verbose=0)
    assert np.abs(restored - arrays["stage2_nchw"].transpose(0, 2, 3, 1)).max() < 1e-4
    assert main(["convert", str(DATA / "hinet_wf8_hin3-4.npz"), "--preset-dir", str(tmp_path / "gopro")]) == 2
    assert f"{tmp_path / 'gopro'} already exists" in capsys.readouterr().err
