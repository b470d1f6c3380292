"""LiteRT (`.tflite`) export: dynamic-size or fixed-tile models, float, float16-weight or integer-quantised.

The quantization names, one vocabulary for the API and `hinet export --quantization`:

- "float32": float weights and arithmetic;
- "fp16": float16 weights (half the size), float arithmetic;
- "int8_dynamic": int8 weights (a quarter the size), activations quantised at run time;
- "int8": full integer, int8 weights and activations with float32 input and output
  (quantised and dequantised inside the graph), calibrated on representative tiles;
  what NPUs, DSPs and Edge TPUs run. The converter keeps one op in float where there is
  one: the NEG of an instance norm's per-channel mean;
- "int16x8": int16 activations and int8 weights, calibrated likewise, far closer to float;
  DEPTH_TO_SPACE (and NEG) stay float, as the converter has no 16x8 kernel for them.
  LiteRT has no int16 kernel for an instance norm's SQUARED_DIFFERENCE either, so a model
  with instance norms is refused (a smoke run on one tile finds it before the file is written).
"""

import warnings

import keras
import numpy as np
import tensorflow as tf

from hinet_tf.export.graph import float_signature
from hinet_tf.export.graph import input_shape
from hinet_tf.models import float32_restorer
from hinet_tf.utils.atomic import atomic_write_bytes
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.atomic import temporary_directory
from hinet_tf.utils.backend import require_tensorflow
from hinet_tf.utils.quiet import native_stderr_silenced

QUANTIZATIONS = ("float32", "fp16", "int8_dynamic", "int8", "int16x8")
# Calibrated on representative inputs, so they take a fixed tile: integer accelerators need static shapes.
CALIBRATED = ("int8", "int16x8")


def check_quantization(quantization, calibrated=False, fixed_size=True):
    """Raises a one-line ValueError unless `quantization` is known and has what it needs.

    `calibrated` says whether representative inputs are given and `fixed_size` whether the
    model has a fixed tile: "int8" and "int16x8" need both, the others take no calibration.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}.")
    if quantization in CALIBRATED and not fixed_size:
        raise ValueError(
            f"The {quantization} quantization needs a fixed tile (--tile, e.g. 256): integer models have one size."
        )
    if quantization in CALIBRATED and not calibrated:
        raise ValueError(f"The {quantization} quantization needs calibration photos (--calibration DIR).")
    if quantization not in CALIBRATED and calibrated:
        raise ValueError(
            f"Calibration photos apply to the {' and '.join(CALIBRATED)} quantizations only, not {quantization}."
        )


def export_litert(model, path, tile=None, quantization="float32", calibration=None, overwrite=False):
    """Converts `model`, an image restorer or a `HINetBackbone`, to a `.tflite` file at `path`.

    Its one signature, `serving_default`, takes float32 NHWC `images` in [0, 1] and returns
    `restored`, whatever the `quantization` (one of `QUANTIZATIONS`, see the module's docstring).

    Args:
        tile: None for a model of any height and width (batch 1 or more, padded inside
            the graph; runs on the CPU/XNNPACK), or a tile size for a fixed 1 x tile x tile
            model, which GPU delegates and integer accelerators need (the caller tiles the image).
        calibration: for "int8" and "int16x8", representative inputs, float32 (N, tile, tile, C)
            in [0, 1] (`hinet_tf.export.calibration.calibration_set` draws them from photos).
        overwrite: replace an existing `path`; otherwise, or if `path` is a folder, it raises
            `FileExistsError` before converting.
    """
    require_tensorflow("LiteRT export")
    check_quantization(quantization, calibration is not None and len(calibration) > 0, tile is not None)
    shape = input_shape(model, tile)
    if calibration is not None and np.shape(calibration)[1:3] != (tile, tile):
        size = " x ".join(map(str, np.shape(calibration)[1:3]))
        raise ValueError(f"The calibration tiles are {size}, not the export tile {tile} x {tile}.")
    check_replaceable(path, overwrite)  # before the slow conversion
    model = float32_restorer(model)
    return convert_function(float_signature(model, shape), [model], path, quantization, overwrite, calibration)


def convert_function(function, models, path, quantization="float32", overwrite=True, calibration=None):
    """Converts a `tf.function` of one input signature to a `.tflite` file at `path`, atomically.

    The function is the file's `serving_default` signature; `models` are the Keras models
    whose variables it reads (`Restorer` converts its tile function, with test-time
    augmentation and every model of an ensemble, this way). The intermediate SavedModel is a
    hidden temporary beside `path`, as every write's is, so a killed export leaves nothing elsewhere.
    """
    with temporary_directory(path) as saved_model:
        archive = keras.export.ExportArchive()
        for model in models:
            archive.track(model)
        archive.add_endpoint("serving_default", function)
        archive.write_out(saved_model, verbose=False)
        return convert_saved_model(saved_model, path, quantization, overwrite=overwrite, calibration=calibration)


def convert_saved_model(saved_model, path, quantization="float32", overwrite=True, calibration=None):
    """Converts the `serving_default` signature of a SavedModel folder (e.g. from `export_saved_model`) to `.tflite`.

    `calibration` holds the representative `images` of the "int8" and "int16x8" quantizations.
    """
    check_quantization(quantization, calibration is not None and len(calibration) > 0)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=["serving_default"])
    if quantization != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization in CALIBRATED:
        inputs = np.asarray(calibration, np.float32)
        converter.representative_dataset = lambda: ({"images": tile[None]} for tile in inputs)
    if quantization == "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if quantization == "int16x8":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,  # float kernels for the ops without a 16x8 one
        ]
    with warnings.catch_warnings(), native_stderr_silenced():  # the calibrator's deprecation warning and log lines
        warnings.simplefilter("ignore")
        content = converter.convert()
    if quantization == "int16x8":
        _check_runs(content, inputs[:1], quantization)
    atomic_write_bytes(path, content, overwrite)
    return path


def _check_runs(content, images, quantization):
    """Raises a one-line ValueError if LiteRT cannot run the converted model on `images` (one tile)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        with native_stderr_silenced():
            Interpreter(model_content=content).get_signature_runner("serving_default")(images=images)
    except RuntimeError as error:
        reason = str(error).split(".Node")[0].strip()
        raise ValueError(f"The {quantization} model does not run on LiteRT ({reason}); export int8 instead.") from None
