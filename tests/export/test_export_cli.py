"""`hinet export` on the command line."""

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from hinet_tf.cli.main import main
from hinet_tf.models import HINetBackbone


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    HINetBackbone(width=4, depth=3).save(path)
    return path


def test_exports_a_fixed_tile_int8_tflite(tmp_path, model_path, capsys):
    output = tmp_path / "tile.tflite"
    argv = ["export", str(model_path), "--format", "tflite", "-o", str(output), "--tile", "32", "--int8-dynamic"]
    assert main(argv) == 0
    runner = Interpreter(model_path=str(output)).get_signature_runner("serving_default")
    restored = runner(images=np.full((1, 32, 32, 3), 0.5, np.float32))["restored"]
    assert restored.shape == (1, 32, 32, 3) and np.isfinite(restored).all()

    before = output.read_bytes()
    assert main(argv) == 2  # exists: refused without --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert output.read_bytes() == before


def test_tflite_options_are_refused_for_savedmodel(tmp_path, capsys):
    argv = ["export", "hinet_1x", "--format", "savedmodel", "-o", str(tmp_path / "sm"), "--fp16"]
    assert main(argv) == 2
    assert "tflite" in capsys.readouterr().err
    assert not (tmp_path / "sm").exists()


def test_help_says_the_shipped_preset_exports_its_trained_weights(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["export", "--help"])
    assert exit.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the shipped hinet_photo_denoise exports its trained weights" in help_text
    assert "an architecture-only preset (hinet_1x, ...) random ones, with a warning" in help_text
