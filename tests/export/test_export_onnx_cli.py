"""`hinet export --format onnx` on the command line."""

import sys

import numpy as np
import onnxruntime
import pytest

from hinet_tf.cli.main import main
from hinet_tf.models import HINetBackbone


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    HINetBackbone(width=8, depth=3).save(path)
    return path


def run_onnx(path, images):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["restored"], {"images": images})[0]


def one_error_line(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hinet: error: ")
    return lines[0]


@pytest.mark.slow
def test_writes_then_refuses_to_overwrite_then_overwrites(tmp_path, model_path, capsys):
    output = tmp_path / "model.onnx"
    argv = ["export", str(model_path), "--format", "onnx", "-o", str(output)]
    assert main(argv) == 0
    assert f"wrote {output}" in capsys.readouterr().out
    assert run_onnx(output, np.full((1, 19, 23, 3), 0.5, np.float32)).shape == (1, 19, 23, 3)

    before = output.read_bytes()
    assert main(argv) == 2
    assert "--overwrite" in one_error_line(capsys)
    assert output.read_bytes() == before

    assert main([*argv, "--tile", "32", "--overwrite"]) == 0
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):
        run_onnx(output, np.zeros((1, 19, 23, 3), np.float32))  # now a fixed 1 x 32 x 32 model
    assert run_onnx(output, np.zeros((1, 32, 32, 3), np.float32)).shape == (1, 32, 32, 3)


@pytest.mark.parametrize(
    "options, message",
    [(["--quantization", "fp16"], "apply to --format tflite"), (["--tile", "6"], "multiple of 4")],
)
def test_bad_options_are_one_line_errors(tmp_path, model_path, capsys, options, message):
    output = tmp_path / "model.onnx"
    assert main(["export", str(model_path), "--format", "onnx", "-o", str(output), *options]) == 2
    assert message in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_tile_is_refused_for_savedmodel(tmp_path, capsys):
    assert main(["export", "hinet_1x", "--format", "savedmodel", "-o", str(tmp_path / "sm"), "--tile", "32"]) == 2
    assert "--tile applies to --format tflite and onnx" in one_error_line(capsys)


def test_a_missing_converter_is_named_before_the_model_loads(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as in an install without the onnx extra
    argv = ["export", str(tmp_path / "absent.keras"), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]
    assert main(argv) == 2
    line = one_error_line(capsys)
    assert "tf2onnx" in line and 'pip install "hinet-tf[onnx]"' in line  # not "absent.keras does not exist"
    assert list(tmp_path.iterdir()) == []
