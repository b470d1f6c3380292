"""`export_model`: a model by name to a SavedModel, `.tflite` or `.onnx` file, every check before the model loads."""

import dataclasses
from pathlib import Path

from hinet_tf.export.calibration import DEFAULT_TILES
from hinet_tf.export.outputs import check_output
from hinet_tf.utils.atomic import check_writable
from hinet_tf.utils.image_io import format_names
from hinet_tf.utils.image_io import is_supported
from hinet_tf.utils.image_io import read_image

FORMATS = ("savedmodel", "tflite", "onnx")


@dataclasses.dataclass(frozen=True)
class ExportReport:
    """What `export_model` wrote; for a calibrated integer model, its PSNR (dB) against the float model and on what."""

    output: Path
    quantization_psnr: float | None = None
    measured_on: str | None = None


def export_model(
    model,
    output,
    export_format,
    tile=None,
    quantization="float32",
    calibration=None,
    calibration_tiles=DEFAULT_TILES,
    overwrite=False,
):
    """Exports `model`, a preset name, a preset folder or a `.keras` file, as `export_format` at `output`.

    Args:
        export_format: "savedmodel", "tflite" or "onnx".
        tile: LiteRT and ONNX: a fixed 1 x tile x tile input instead of any size.
        quantization: LiteRT: "float32", "fp16", "int8_dynamic", "int8" or "int16x8".
        calibration: LiteRT int8 and int16x8: a folder of photos like those the model will restore;
            random tiles of most calibrate, the others measure the cost.
        calibration_tiles: how many calibration tiles.
        overwrite: replace an existing export at `output`.

    Raises:
        ValueError, FileNotFoundError, FileExistsError, ImportError: one line, before the model loads.
    """
    output = Path(output)
    if export_format not in FORMATS:
        raise ValueError(f"Unknown export format {export_format!r}; choose one of {', '.join(FORMATS)}.")
    if export_format != "tflite" and (quantization != "float32" or calibration is not None):
        raise ValueError("--quantization and --calibration apply to --format tflite")
    if export_format == "savedmodel" and tile:
        raise ValueError("--tile applies to --format tflite and onnx")
    check_writable(output.parent)
    check_output(output, export_format, overwrite)

    from hinet_tf.export.calibration import calibration_set
    from hinet_tf.export.calibration import require_interpreter
    from hinet_tf.export.litert import check_quantization
    from hinet_tf.export.onnx import require as require_onnx_converter
    from hinet_tf.models.model_source import check_model_source

    if export_format == "onnx":
        require_onnx_converter()
    photos = None
    if export_format == "tflite":
        check_quantization(quantization, calibration is not None, tile is not None)
        if calibration is not None:
            photos = _calibration_photos(Path(calibration))
            require_interpreter()
    check_model_source(model)
    samples = None
    if photos is not None:  # read before the model loads: a damaged photo is refused without waiting for TensorFlow
        samples = calibration_set(list(photos), lambda name: _rgb(photos[name]), tile, calibration_tiles)

    from hinet_tf.export.litert import export_litert
    from hinet_tf.export.onnx import export_onnx
    from hinet_tf.export.savedmodel import export_saved_model
    from hinet_tf.models.loading import load_model

    restorer = load_model(model)
    if export_format == "savedmodel":
        export_saved_model(restorer, output, overwrite=overwrite)
    elif export_format == "onnx":
        export_onnx(restorer, output, tile=tile, overwrite=overwrite)
    else:
        export_litert(restorer, output, tile, quantization, samples and samples.tiles, overwrite=overwrite)
    if samples is None:
        return ExportReport(output)
    from hinet_tf.export.calibration import psnr_against_float

    cost = psnr_against_float(restorer, output, samples.held_out)
    return ExportReport(output, cost, samples.describe_held_out())


def _calibration_photos(folder):
    """The image files in `folder` by name; a one-line ValueError when there are none."""
    if not folder.is_dir():
        raise ValueError(f"--calibration {folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    photos = {path.name: path for path in folder.iterdir() if path.is_file() and is_supported(path)}
    photos = {name: path for name, path in photos.items() if not name.startswith(".")}
    if not photos:
        raise ValueError(f"--calibration {folder}: no {format_names()} image in it")
    return photos


def _rgb(path):
    pixels = read_image(path).pixels
    return pixels if pixels.shape[-1] == 3 else pixels.repeat(3, axis=-1)
