"""LiteRT (`.tflite`) export: dynamic-size or fixed-tile models, float32, fp16 or int8 weights."""

import tempfile

import keras
import tensorflow as tf

from hinet_tf.export.graph import float_signature
from hinet_tf.export.graph import input_shape
from hinet_tf.models import image_restorer
from hinet_tf.utils.atomic import atomic_write_bytes
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.backend import require_tensorflow

QUANTIZATIONS = (None, "fp16", "int8_dynamic")


def export_litert(model, path, tile=None, quantization=None, overwrite=False):
    """Converts `model` to a `.tflite` file at `path` with one `serving_default` signature.

    The signature takes float32 NHWC `images` in [0, 1] and returns `restored`.

    Args:
        model: an image restorer (`HINetImageRestorer`; a `HINetBackbone` is wrapped in one).
        path: the `.tflite` file to write.
        tile: None for a model of any height and width (batch 1 or more, padded inside
            the graph; runs on the CPU/XNNPACK), or a tile size for a fixed 1 x tile x tile
            model, which GPU delegates need (the caller tiles the image).
        quantization: None (float32), "fp16" (float16 weights, half the size) or
            "int8_dynamic" (int8 weights, dynamic-range quantisation, a quarter the size).
        overwrite: replace an existing `path`; otherwise, or if `path` is a folder, it raises
            `FileExistsError` before converting.
    """
    require_tensorflow("LiteRT export")
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}; choose one of {QUANTIZATIONS}.")
    shape = input_shape(model, tile)
    check_replaceable(path, overwrite)  # before the slow conversion
    model = image_restorer(model)
    return convert_function(float_signature(model, shape), [model], path, quantization, overwrite)


def convert_function(function, models, path, quantization=None, overwrite=True):
    """Converts a `tf.function` of one input signature to a `.tflite` file at `path`, atomically.

    The function is the file's `serving_default` signature; `models` are the Keras models
    whose variables it reads (`Restorer` converts its tile function, with test-time
    augmentation and every model of an ensemble, this way).
    """
    with tempfile.TemporaryDirectory() as saved_model:
        archive = keras.export.ExportArchive()
        for model in models:
            archive.track(model)
        archive.add_endpoint("serving_default", function)
        archive.write_out(saved_model, verbose=False)
        return convert_saved_model(saved_model, path, quantization, overwrite=overwrite)


def convert_saved_model(saved_model, path, quantization=None, signature="serving_default", overwrite=True):
    """Converts one signature of a SavedModel folder (e.g. from `export_saved_model`) to `.tflite`."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}; choose one of {QUANTIZATIONS}.")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=[signature])
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    atomic_write_bytes(path, converter.convert(), overwrite)
    return path
