"""What the commands replace and say: nothing of the user's is lost, each error is one line naming its file."""

import warnings
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from hinet_tf.cli.main import main
from hinet_tf.export.outputs import SAVED_MODEL
from hinet_tf.models import HINetBackbone
from hinet_tf.models import preset_utils
from hinet_tf.utils import atomic
from hinet_tf.utils import image_io

from helpers.images import write_noisy_pair

DATA = Path(__file__).resolve().parents[1] / "data"


def model(path):
    """The arguments that restore with the model at `path` on TensorFlow (no conversion for onnxruntime)."""
    return ["--model", str(path), "--backend", "keras"]


def one_error(capsys):
    """The only line on standard error, which must be an error."""
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("hinet: error: ")
    return line


def write_png(path, seed=0, shape=(20, 20, 3)):
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)).save(path)


@pytest.fixture(scope="module")
def small_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "small.keras"
    HINetBackbone(width=4, depth=3).save(path)
    return path


@pytest.mark.slow
def test_export_overwrite_replaces_an_export_and_nothing_else(tmp_path, small_model_path, capsys):
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("code")
    export = ["export", str(small_model_path), "--overwrite", "--format"]
    assert main([*export, "savedmodel", "-o", str(project)]) == 2
    assert f"{project} holds src, which writing a SavedModel there would delete" in one_error(capsys)
    assert (project / "src" / "main.py").read_text() == "code"

    folder = tmp_path / "d.tflite"
    folder.mkdir()
    assert main([*export, "tflite", "-o", str(folder)]) == 2  # refused before converting
    assert f"{folder} is a folder; a file is written there" in one_error(capsys)

    saved_model = tmp_path / "sm"
    assert main([*export, "savedmodel", "-o", str(saved_model)]) == 0
    atomic.check_replaceable(saved_model, True, SAVED_MODEL)  # what TensorFlow wrote is recognised as ours
    (saved_model / "assets.extra").mkdir()  # TF Serving's warm-up requests, added by the user
    assert main([*export, "savedmodel", "-o", str(saved_model)]) == 2
    assert f"{saved_model} holds assets.extra, which writing a SavedModel there would delete" in one_error(capsys)
    assert (saved_model / "assets.extra").is_dir()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["d.tflite", "proj", "sm"]


def test_convert_overwrite_replaces_a_preset_and_nothing_else(tmp_path, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "README.md").write_text("mine")
    argv = ["convert", str(DATA / "hinet_wf8_hin3-4.npz"), "--preset-dir", str(folder), "--overwrite"]
    assert main(argv) == 2
    assert f"{folder} holds README.md, which writing a preset there would delete" in one_error(capsys)
    assert sorted(path.name for path in folder.iterdir()) == ["README.md", "config.json"]


def test_two_restores_into_one_folder_keep_each_others_files(tmp_path, small_model_path, monkeypatch, capsys):
    """The other run writes the output after this run checked it, while this one encodes its image."""
    write_png(tmp_path / "a.png")
    output = tmp_path / "out" / "a.png"
    output.parent.mkdir()
    encode = image_io._encode_png

    def encode_while_the_other_run_writes(array, *profile):
        output.write_bytes(b"the other run's")
        return encode(array, *profile)

    monkeypatch.setattr(image_io, "_encode_png", encode_while_the_other_run_writes)
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(output.parent), *model(small_model_path)]) == 2
    assert f"{output} already exists" in capsys.readouterr().err
    assert output.read_bytes() == b"the other run's"
    assert [path.name for path in output.parent.iterdir()] == ["a.png"]


def test_a_full_disk_names_the_file(tmp_path, small_model_path, monkeypatch, capsys):
    def full_disk(descriptor):
        raise OSError(28, "No space left on device")

    write_png(tmp_path / "a.png")
    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), *model(small_model_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"hinet: error: [Errno 28] No space left on device: {str(tmp_path / 'out' / 'a.png')!r}"

    output = tmp_path / "model.keras"
    assert main(["convert", str(DATA / "hinet_wf8_hin3-4.npz"), "-o", str(output)]) == 1
    assert one_error(capsys) == f"hinet: error: [Errno 28] No space left on device: {str(output)!r}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.png", "out"]


def test_odd_file_names_stay_on_one_line(tmp_path, capsys):
    odd = tmp_path / "bad\nname.png"
    odd.write_bytes(b"not a png")
    assert main(["restore", str(odd), "-o", str(tmp_path / "out"), "--model", "absent.keras"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and "bad\\nname.png" in lines[0]
    write_png(tmp_path / "a.png")
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--model", "odd\nmodel.keras"]) == 2
    assert "odd\\nmodel.keras does not exist" in one_error(capsys)


@pytest.mark.parametrize("command", ["restore", "export", "evaluate"])
def test_a_damaged_preset_is_one_line_in_every_command(tmp_path, command, capsys):
    preset = tmp_path / "preset"
    HINetBackbone(width=4, depth=3).save_to_preset(preset)
    weights = preset / preset_utils.MODEL_WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:32768])  # truncated, as by a kill of an old copy
    write_noisy_pair(tmp_path / "data", "a.png", 0, 5)
    argv = {
        "restore": ["restore", str(tmp_path / "data" / "input"), "-o", str(tmp_path / "out"), *model(preset)],
        "export": ["export", str(preset), "--format", "savedmodel", "-o", str(tmp_path / "out")],
        "evaluate": ["evaluate", "--model", str(preset), "--data", str(tmp_path / "data"), "--layout", "pairs",
                     "-o", str(tmp_path / "out")],
    }[command]
    assert main(argv) == 2
    problem = "is not a readable weights file (Unable to synchronously open file (truncated file"
    assert f"{weights} {problem}" in one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_a_preset_whose_config_does_not_match_its_weights_is_one_line(tmp_path, capsys):
    preset = tmp_path / "preset"
    HINetBackbone(width=4, depth=3).save_to_preset(preset)
    HINetBackbone(width=8, depth=3).save_weights(preset / preset_utils.MODEL_WEIGHTS_FILE)
    write_png(tmp_path / "a.png")
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), *model(preset)]) == 2
    assert one_error(capsys) == (
        f"hinet: error: {preset / 'model.weights.h5'} does not fit its config.json: "
        "it holds the weights of another architecture"
    )


def test_a_tile_that_is_no_multiple_of_the_models_is_named_so(tmp_path, identity_model_path, capsys):
    write_png(tmp_path / "a.png")
    argv = ["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), *model(identity_model_path)]
    assert main([*argv, "--tile", "15"]) == 2
    assert one_error(capsys) == "hinet: error: The tile size must be a positive multiple of 4, got 15."
    assert main([*argv, "--tile", "64", "--overlap", "64"]) == 2
    assert one_error(capsys) == "hinet: error: The overlap (64) must be at most 60, the tile (64) minus the size multiple (4)."
    assert not (tmp_path / "out").exists()


def test_a_model_whose_output_is_not_finite_is_an_error(tmp_path, capsys):
    broken = HINetBackbone(width=4, depth=3)
    broken.set_weights([np.full_like(weight, np.nan) for weight in broken.get_weights()])
    broken.save(tmp_path / "nan.keras")
    write_png(tmp_path / "in" / "a.png")
    write_png(tmp_path / "in" / "b.png", seed=1)
    argv = ["restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *model(tmp_path / "nan.keras")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning of NaN casts leaks
        assert main(argv) == 2
    assert "a.png: the model's output is not finite (NaN or infinity)" in one_error(capsys)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
