"""`hinet export` on the command line."""

import re

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from hinet_tf.cli.main import main
from hinet_tf.models import HINetBackbone


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    HINetBackbone(width=4, depth=3).save(path)
    return path


def test_tflite_options_are_refused_for_savedmodel(tmp_path, capsys):
    argv = ["export", "hinet_1x", "--format", "savedmodel", "-o", str(tmp_path / "sm"), "--quantization", "fp16"]
    assert main(argv) == 2
    assert "tflite" in capsys.readouterr().err
    assert not (tmp_path / "sm").exists()


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(5):
        pixels = np.random.default_rng(index).integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{index}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.slow
def test_exports_a_full_int8_tflite_and_prints_its_cost_on_held_out_photos(tmp_path, model_path, photo_folder, capsys):
    output = tmp_path / "int8.tflite"
    argv = ["export", str(model_path), "--format", "tflite", "-o", str(output), "--tile", "32"]
    assert main([*argv, "--quantization", "int8", "--calibration", str(photo_folder), "--calibration-tiles", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote {output}"
    expected = r"int8: \d+\.\d\d dB PSNR against the float model on 16 tiles of 1 held-out image\(s\) \(photo\d\.png\)"
    assert re.fullmatch(expected, lines[1])
    interpreter = Interpreter(model_path=str(output))
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert np.int8 in {tensor["dtype"] for tensor in interpreter.get_tensor_details()}


@pytest.mark.parametrize(
    "options, message",
    [
        (["--quantization", "int8"], "needs calibration photos (--calibration DIR)"),
        (["--quantization", "int8", "--calibration", "{missing}"], "--calibration {missing}: no such folder"),
        (["--quantization", "int8", "--calibration", "{file}"], "--calibration {file}: not a folder"),
        (["--quantization", "int8", "--calibration", "{empty}"], "--calibration {empty}: no PNG, JPEG, TIFF, BMP or WebP image"),
        (["--calibration", "{photos}"], "apply to the int8 and int16x8 quantizations only, not float32"),
        (["--quantization", "int4"], "Unknown quantization 'int4'"),
    ],
)
def test_calibration_errors_are_one_line_before_the_model_loads(tmp_path, photo_folder, options, message, capsys):
    (tmp_path / "empty").mkdir()
    names = {
        "missing": tmp_path / "missing",
        "file": photo_folder / "notes.txt",
        "empty": tmp_path / "empty",
        "photos": photo_folder,
    }
    options = [option.format(**names) for option in options]
    output = tmp_path / "out.tflite"
    # A missing model: these errors must come first, before the model loads.
    argv = ["export", str(tmp_path / "no_model.keras"), "--format", "tflite", "-o", str(output), "--tile", "32"]
    assert main([*argv, *options]) == 2
    error = capsys.readouterr().err
    assert message.format(**names) in error and error.count("\n") == 1
    assert not output.exists()


def test_a_damaged_calibration_photo_is_named(tmp_path, model_path, photo_folder, capsys):
    (photo_folder / "photo2.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    argv = ["export", str(model_path), "--format", "tflite", "-o", str(tmp_path / "out.tflite"), "--tile", "32"]
    assert main([*argv, "--quantization", "int8", "--calibration", str(photo_folder)]) == 2
    error = capsys.readouterr().err
    assert "photo2.png" in error and error.count("\n") == 1
    assert not (tmp_path / "out.tflite").exists()


def test_help_says_the_shipped_presets_export_their_trained_weights(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["export", "--help"])
    assert exit.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "hinet_camera_denoise and hinet_photo_denoise export their trained weights" in help_text
    assert "an architecture-only preset (hinet_1x, ...) random ones, with a warning" in help_text
