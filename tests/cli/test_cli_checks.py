"""Every `hinet` command checks its arguments, files and folders before TensorFlow is imported.

A refusal then takes well under a second instead of the seconds (tens of seconds on a busy
machine) that importing TensorFlow and Keras costs.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from hinet_tf.cli.errors import CLIError
from hinet_tf.cli.errors import reported

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("jax", "keras", "tensorflow", "torch")

# Runs `main` on each argument list in one process; prints, per list, the exit code, the
# messages on standard error and the heavy modules loaded by then.
RUN_EACH = f"""
import contextlib, io, json, sys
from hinet_tf.cli.main import main
for argv in json.loads(sys.argv[1]):
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code
    loaded = sorted(name for name in {HEAVY!r} if name in sys.modules)
    print(json.dumps([code, errors.getvalue().splitlines(), loaded]))
"""


def test_refusals_come_before_tensorflow_is_imported(tmp_path):
    (tmp_path / "in.png").write_bytes(b"not read: its output exists")
    (tmp_path / "restored.png").write_bytes(b"the user's file")
    (tmp_path / "model.tflite").write_bytes(b"the user's file")
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / "a_file").write_text("where an output folder should go")
    (tmp_path / "trained.keras").write_bytes(b"a model the user meant to convert back")
    (tmp_path / "photos").mkdir()
    (tmp_path / "pairs" / "input").mkdir(parents=True)
    (tmp_path / "pairs" / "target").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "pairs" / "target" / "x1.png")
    (tmp_path / "pairs" / "input" / "x1.png").symlink_to(tmp_path / "nowhere")
    Image.new("RGB", (20, 20)).save(tmp_path / "in2.png")  # a readable input: the model is checked next
    recipe = str(REPO_ROOT / "configs" / "photos_cpu.yaml")
    backbone = {"registered_name": "hinet_tf>HINetBackbone", "config": {"depth": 3}}  # size multiple 4
    with zipfile.ZipFile(tmp_path / "small.keras", "w") as archive:  # the config is read, nothing else
        archive.writestr("config.json", json.dumps({
            "registered_name": "hinet_tf>HINetImageRestorer", "config": {"backbone": backbone}
        }))
    (tmp_path / "preset").mkdir()
    (tmp_path / "preset" / "config.json").write_text(json.dumps({**backbone, "config": {"depth": 4}}))
    refusals = {
        ("restore", "absent.png", "-o", "out"): "hinet: error: absent.png: no such file",
        ("restore", "in.png", "-o", "restored.png"): (
            "hinet: error: restored.png: the output exists; pass --overwrite to replace it"
        ),
        ("restore", "in.png", "-o", "out", "--tile", "0"): (
            "hinet restore: error: argument --tile: must be at least 1, got 0"
        ),
        ("restore", "in2.png", "-o", "out.heic"): "hinet: error: out.heic: cannot write '.heic' images",
        ("restore", "in2.png", "in.png", "-o", "two.png"): (
            "hinet: error: two.png: with several inputs or a folder, -o names a folder; give one without an image suffix"
        ),
        ("restore", "in.png", "-o", "out", "--tile", "32"): (
            "hinet: error: The overlap (32) must be at most 16, the tile (32) minus the size multiple (16)."
        ),
        ("export", "hinet_1x", "--format", "tflite", "-o", "model.tflite"): (
            "hinet: error: model.tflite already exists; pass overwrite=True (`--overwrite`) to replace it"
        ),
        ("evaluate", "--model", "m.keras", "--data", "absent", "--layout", "pairs"): (
            "hinet: error: Dataset folder absent does not exist."
        ),
        ("restore", "in2.png", "-o", "out", "--model", "absent.keras"): (
            "hinet: error: Model absent.keras does not exist; pass a .keras file, a preset directory or a preset"
        ),
        ("restore", "in2.png", "-o", "out", "--model", "a_file"): "hinet: error: Model a_file is not a .keras file.",
        # A tile that no HINet preset or .keras file of a readable config takes (the default model's too).
        ("restore", "in2.png", "-o", "out", "--tile", "20"): (
            "hinet: error: The tile size must be a positive multiple of 16, got 20."
        ),
        ("restore", "in2.png", "-o", "out", "--model", "hinet_photo_denoise", "--tile", "24"): (
            "hinet: error: The tile size must be a positive multiple of 16, got 24."
        ),
        ("restore", "in2.png", "-o", "out", "--model", "small.keras", "--tile", "18"): (
            "hinet: error: The tile size must be a positive multiple of 4, got 18."
        ),
        ("restore", "in2.png", "-o", "out", "--model", "preset", "--tile", "20"): (
            "hinet: error: The tile size must be a positive multiple of 8, got 20."
        ),
        ("evaluate", "--model", "hinet_camera_denoise", "--data", "pairs", "--layout", "pairs", "--tile", "20"): (
            "hinet: error: The tile size must be a positive multiple of 16, got 20."
        ),
        ("train", "absent.yaml", "--out", "run"): "hinet: error: cannot read config absent.yaml: not a file",
        ("train", recipe, "--data", "absent", "--out", "run"): (
            "hinet: error: the training data folder absent does not exist"
        ),
        ("train", recipe, "--data", ".", "--out", "a_file/run"): (
            f"hinet: error: cannot write into {tmp_path / 'a_file' / 'run'}: "
            f"{tmp_path / 'a_file'} is a file, not a folder"
        ),
        ("prepare", "pairs", "absent", "shards"): "hinet: error: Dataset folder absent does not exist.",
        ("evaluate", "--model", "m.keras", "--data", "photos", "--layout", "pairs"): (
            "hinet: error: Dataset folder photos/test/input does not exist: pairs are DIR/test/input + DIR/test/target "
            "(DIR/input + DIR/target is the train split, and hinet evaluate's test set)."
        ),
        ("convert", "absent.pth", "-o", "m.keras"): "hinet: error: absent.pth: no such file",
        ("benchmark", "-o", "report.json"): "hinet: error: report.json already exists; pass overwrite=True (`--overwrite`)",
        # A file where a folder is read, or a folder where a file is, is called what it is.
        ("prepare", "pairs", "a_file", "shards"): "hinet: error: Dataset folder a_file is a file, not a folder.",
        ("evaluate", "--model", "m.keras", "--data", "a_file", "--layout", "pairs"): (
            "hinet: error: Dataset folder a_file is a file, not a folder."
        ),
        ("convert", "photos", "-o", "m.keras"): "hinet: error: photos is a folder, not a file",
        ("convert", "a_file", "--to-pytorch", "-o", "w.npz"): "hinet: error: a_file is no Keras model: expected a .keras file",
        ("convert", "trained.keras", "-o", "m.keras"): (
            "hinet: error: trained.keras is a Keras model: pass --to-pytorch to write it as a checkpoint"
        ),
        ("evaluate", "--model", "m.keras", "--data", "pairs", "--layout", "pairs"): (
            f"hinet: error: pairs/input/x1.png is a broken link to {tmp_path / 'nowhere'}: fix or remove it."
        ),
    }
    result = subprocess.run(
        [sys.executable, "-c", RUN_EACH, json.dumps(list(refusals))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    for (argv, message), (code, errors, loaded) in zip(refusals.items(), outcomes, strict=True):
        assert code == 2, (argv, errors)
        assert any(line.startswith(message) for line in errors), (argv, errors)
        assert loaded == [], f"hinet {' '.join(argv)} imported {', '.join(loaded)} before refusing"
    assert outcomes[2][1] == ["hinet restore: error: argument --tile: must be at least 1, got 0 (see hinet restore --help)"]
    tile = list(refusals).index(("restore", "in2.png", "-o", "out", "--tile", "20"))
    assert outcomes[tile][1] == ["hinet: error: The tile size must be a positive multiple of 16, got 20."]
    assert (tmp_path / "restored.png").read_bytes() == b"the user's file"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "a_file", "in.png", "in2.png", "model.tflite", "pairs", "photos", "preset", "report.json", "restored.png",
        "small.keras", "trained.keras",
    ]


def test_reported_turns_only_the_named_errors_into_cli_errors():
    with pytest.raises(CLIError) as caught:
        with reported(KeyError, ValueError, prefix="--tiles: "):
            raise ValueError("The overlap (32) must be smaller than the tile (32).")
    assert str(caught.value) == "--tiles: The overlap (32) must be smaller than the tile (32)."
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no traceback of the cause
    with pytest.raises(TypeError, match="a bug"):  # an error not named is no message for the user
        with reported(ValueError):
            raise TypeError("a bug")
    with reported(ValueError):
        value = 1
    assert value == 1


def test_an_interrupt_that_a_finalizer_swallows_is_not_reported_but_other_errors_are(monkeypatch):
    from hinet_tf.cli.main import interrupts_stop_writes

    class Finalized:
        def __init__(self, error):
            self.error = error

        def __del__(self):
            raise self.error

    reports = []
    monkeypatch.setattr(sys, "unraisablehook", reports.append)
    with interrupts_stop_writes():
        Finalized(KeyboardInterrupt())  # a Ctrl-C landing in a __del__, as in TensorFlow's AtomicFunction
        Finalized(RuntimeError("a bug"))
    assert [type(report.exc_value) for report in reports] == [RuntimeError]
    assert sys.unraisablehook == reports.append  # restored after the command
