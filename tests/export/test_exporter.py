"""`export_model`: the library call behind `hinet export`."""

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from hinet_tf.export.exporter import export_model
from hinet_tf.models import HINetBackbone


def test_exports_a_model_file_and_reports_what_it_wrote(tmp_path):
    model_path = tmp_path / "tiny.keras"
    HINetBackbone(width=4, depth=3).save(model_path)
    report = export_model(model_path, tmp_path / "tiny.tflite", "tflite", tile=32, quantization="int8_dynamic")
    assert report.output == tmp_path / "tiny.tflite" and report.quantization_psnr is None
    runner = Interpreter(model_path=str(report.output)).get_signature_runner("serving_default")
    restored = runner(images=np.full((1, 32, 32, 3), 0.5, np.float32))["restored"]
    assert restored.shape == (1, 32, 32, 3) and np.isfinite(restored).all()
    before = report.output.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_model(model_path, report.output, "tflite", tile=32)
    assert report.output.read_bytes() == before
    model_bytes = model_path.read_bytes()
    for export_format in ("tflite", "onnx"):  # an export never replaces its input model
        with pytest.raises(ValueError, match=f"--format {export_format} must end in .{export_format}; got .*tiny.keras"):
            export_model(model_path, model_path, export_format, overwrite=True)
    assert model_path.read_bytes() == model_bytes


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"export_format": "pb"}, ValueError, "Unknown export format 'pb'"),
        ({"export_format": "savedmodel", "tile": 32}, ValueError, "--tile applies to --format tflite and onnx"),
        ({"export_format": "onnx", "quantization": "fp16"}, ValueError, "apply to --format tflite"),
        ({"export_format": "tflite", "quantization": "int8", "tile": 32}, ValueError, "needs calibration photos"),
        ({"export_format": "tflite"}, FileNotFoundError, "no_model.keras"),
        ({"export_format": "onnx", "output": "out.tflite"}, ValueError, "--format onnx must end in .onnx; got .*out"),
        ({"export_format": "tflite", "output": "out.png"}, ValueError, "--format tflite must end in .tflite"),
        ({"export_format": "savedmodel", "output": "x.keras"}, ValueError, "savedmodel is a folder, not a .keras"),
        ({"export_format": "savedmodel", "output": "x.ONNX"}, ValueError, "savedmodel is a folder, not a .ONNX"),
    ],
)
def test_refusals_come_before_the_model_loads(tmp_path, options, error, message):
    names = {"savedmodel": "out", "onnx": "out.onnx"}
    output = tmp_path / options.pop("output", names.get(options["export_format"], "out.tflite"))
    with pytest.raises(error, match=message):
        export_model(tmp_path / "no_model.keras", output, **options)
    assert not output.exists()

