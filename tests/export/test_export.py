"""SavedModel and LiteRT export: signatures, dynamic sizes, outputs against Keras."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from helpers.tflite_ops import operators
from skimage import data as skimage_data
from skimage.transform import resize

from hinet_tf.export import export_litert
from hinet_tf.export import export_saved_model
from hinet_tf.export.litert import convert_saved_model
from hinet_tf.metrics import psnr
from hinet_tf.models import HINetBackbone


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    return HINetBackbone(width=4, depth=3)  # a short graph: conversion time grows with the op count


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    """Every exported artefact, made once for the module (conversion is slow)."""
    folder = tmp_path_factory.mktemp("export")
    saved_model = export_saved_model(model, folder / "savedmodel")
    return {
        "savedmodel": saved_model,
        # The SavedModel's serving_default is the dynamic-size float32 graph.
        "float32": convert_saved_model(saved_model, folder / "float32.tflite"),
        "fp16": convert_saved_model(saved_model, folder / "fp16.tflite", quantization="fp16"),
        "tile_int8": export_litert(model, folder / "tile_int8.tflite", tile=32, quantization="int8_dynamic"),
        "tile_full_int8": export_litert(
            model, folder / "tile_full_int8.tflite", tile=32, quantization="int8", calibration=photos(32)
        ),
        # 16x8 needs a model without instance norms (see test_litert_int16x8_refuses_instance_norms).
        "tile_int16x8": export_litert(
            no_norm_model(), folder / "tile_int16x8.tflite", tile=32, quantization="int16x8", calibration=photos(32)
        ),
    }


def no_norm_model():
    keras.utils.set_random_seed(4)
    return HINetBackbone(width=4, depth=3, norm="none")


def keras_restore(model, images):
    """Reference: reflect-pad in NumPy, run Keras, crop back."""
    height, width = images.shape[1:3]
    multiple = model.size_multiple
    padded = np.pad(images, ((0, 0), (0, -height % multiple), (0, -width % multiple), (0, 0)), mode="reflect")
    return model(padded)[-1][:, :height, :width].numpy()


def run_litert(path, images):
    interpreter = Interpreter(model_path=str(path))
    return interpreter.get_signature_runner("serving_default")(images=images)["restored"]


def weight_types(interpreter):
    return {tensor["dtype"] for tensor in interpreter.get_tensor_details()}


def random_images(*shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def photos(size=48):
    """Real photographs from scikit-image, resized to size x size, in [0, 1]."""
    return np.stack(
        [resize(image, (size, size), anti_aliasing=True) for image in (skimage_data.astronaut(), skimage_data.coffee())]
    ).astype(np.float32)


def test_saved_model_has_both_signatures_with_dynamic_shapes(exported):
    loaded = tf.saved_model.load(str(exported["savedmodel"]))
    assert set(loaded.signatures) == {"serving_default", "serving_uint8"}
    for name, dtype in (("serving_default", tf.float32), ("serving_uint8", tf.uint8)):
        signature = loaded.signatures[name]
        spec = signature.structured_input_signature[1]["images"]
        assert spec.shape.as_list() == [None, None, None, 3] and spec.dtype == dtype
        assert signature.structured_outputs["restored"].dtype == dtype


def test_saved_model_matches_keras_at_any_size(model, exported):
    loaded = tf.saved_model.load(str(exported["savedmodel"]))
    for shape in ((1, 32, 48, 3), (2, 37, 21, 3)):
        images = random_images(*shape)
        restored = loaded.signatures["serving_default"](images=tf.constant(images))["restored"].numpy()
        assert restored.shape == shape
        np.testing.assert_allclose(restored, keras_restore(model, images), atol=1e-5)


def test_saved_model_uint8_signature(model, exported):
    loaded = tf.saved_model.load(str(exported["savedmodel"]))
    pixels = (random_images(1, 20, 30, 3) * 255).round().astype(np.uint8)
    restored = loaded.signatures["serving_uint8"](images=tf.constant(pixels))["restored"].numpy()
    expected = np.round(np.clip(keras_restore(model, pixels / np.float32(255)), 0, 1) * 255)
    assert restored.dtype == np.uint8
    assert np.abs(restored.astype(int) - expected).max() <= 1


def test_saved_model_refuses_to_overwrite(model, exported):
    with pytest.raises(FileExistsError):
        export_saved_model(model, exported["savedmodel"])


def test_litert_float32_matches_keras_at_two_sizes(model, exported):
    interpreter = Interpreter(model_path=str(exported["float32"]))
    details = interpreter.get_input_details()[0]
    assert list(details["shape_signature"]) == [-1, -1, -1, 3]
    for shape in ((1, 48, 64, 3), (1, 37, 53, 3)):
        images = random_images(*shape, seed=shape[1])
        restored = run_litert(exported["float32"], images)
        assert restored.shape == shape
        np.testing.assert_allclose(restored, keras_restore(model, images), atol=1e-4)


def test_a_mixed_precision_model_exports_to_litert_in_float32(model, tmp_path):
    mixed = HINetBackbone.from_config({**model.get_config(), "dtype": "mixed_float16"})
    mixed.set_weights(model.get_weights())
    path = export_litert(mixed, tmp_path / "mixed.tflite", tile=32)
    images = random_images(1, 32, 32, 3, seed=5)
    np.testing.assert_allclose(run_litert(path, images), keras_restore(model, images), atol=1e-4)
    assert mixed.dtype_policy.name == "mixed_float16"  # the model itself is left as it was


def test_litert_fixed_tile_int8_dynamic_range_model(model, exported):
    interpreter = Interpreter(model_path=str(exported["tile_int8"]))
    assert list(interpreter.get_input_details()[0]["shape_signature"]) == [1, 32, 32, 3]
    assert np.int8 in weight_types(interpreter)
    images = photos(32)[:1]
    restored = run_litert(exported["tile_int8"], images)
    assert restored.shape == (1, 32, 32, 3)
    assert psnr(restored[0], model(images)[-1][0].numpy(), quantize=False) > 25


def test_litert_fp16_is_within_a_tenth_of_a_decibel_of_float32_on_photos(exported):
    clean = photos()
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 0.08, clean.shape), 0, 1).astype(np.float32)
    assert np.float16 in weight_types(Interpreter(model_path=str(exported["fp16"])))
    assert np.float16 not in weight_types(Interpreter(model_path=str(exported["float32"])))
    for noisy_photo, clean_photo in zip(noisy, clean):
        full = run_litert(exported["float32"], noisy_photo[None])[0]
        half = run_litert(exported["fp16"], noisy_photo[None])[0]
        assert abs(psnr(half, clean_photo) - psnr(full, clean_photo)) < 0.1


@pytest.mark.slow
def test_litert_full_int8_model_is_integer_inside_with_float_input_and_output(model, exported):
    interpreter = Interpreter(model_path=str(exported["tile_full_int8"]))
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    builtin, _ = operators(exported["tile_full_int8"])
    assert {"QUANTIZE", "DEQUANTIZE", "CONV_2D"} <= builtin
    # Float only at the edges (the input before its QUANTIZE, the output after its DEQUANTIZE) and in
    # the converter's one float op, the NEG of each instance norm's per-channel (1, 1, 1, C) mean.
    tensors = interpreter.get_tensor_details()
    floats = [tensor["shape"] for tensor in tensors if tensor["dtype"] == np.float32]
    assert [list(shape) for shape in floats if shape[1] == 32] == [[1, 32, 32, 3]] * 2
    assert all(list(shape[:3]) == [1, 1, 1] for shape in floats if shape[1] != 32)
    assert sum(tensor["dtype"] == np.int8 for tensor in tensors) > 20
    images = photos(32)
    restored = np.concatenate([run_litert(exported["tile_full_int8"], image[None]) for image in images])
    assert psnr(restored.reshape(-1, 32, 3), model(images)[-1].numpy().reshape(-1, 32, 3), quantize=False) > 25


@pytest.mark.slow
def test_litert_int16x8_has_int16_activations_and_refuses_instance_norms(model, exported, tmp_path):
    interpreter = Interpreter(model_path=str(exported["tile_int16x8"]))
    assert np.int16 in weight_types(interpreter) and interpreter.get_input_details()[0]["dtype"] == np.float32
    images = photos(32)
    restored = np.concatenate([run_litert(exported["tile_int16x8"], image[None]) for image in images])
    reference = no_norm_model()(images)[-1].numpy()
    assert psnr(restored.reshape(-1, 32, 3), reference.reshape(-1, 32, 3), quantize=False) > 45
    # LiteRT has no int16 SQUARED_DIFFERENCE (the instance norm's variance): refused, no file written.
    with pytest.raises(ValueError, match="does not run on LiteRT.*export int8 instead"):
        export_litert(model, tmp_path / "norm.tflite", tile=32, quantization="int16x8", calibration=photos(32))
    assert not (tmp_path / "norm.tflite").exists()


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["float32", "fp16", "tile_int8", "tile_full_int8", "tile_int16x8"])
def test_every_litert_variant_uses_builtin_ops_only(exported, variant):
    builtin, custom = operators(exported[variant])
    assert "CONV_2D" in builtin
    assert custom == set()  # no Flex (SELECT_TF_OPS) op, no other custom op


@pytest.mark.slow
def test_the_op_check_finds_flex_ops(tmp_path):
    """The check above can fail: a model converted with SELECT_TF_OPS shows its Flex op."""

    @tf.function(input_signature=[tf.TensorSpec((4,), tf.float32)])
    def through_strings(values):
        return tf.strings.to_number(tf.strings.as_string(values))

    function = through_strings.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], through_strings)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    path = tmp_path / "flex.tflite"
    path.write_bytes(converter.convert())
    _, custom = operators(path)
    assert custom and all(name.startswith("Flex") for name in custom)


def test_litert_rejects_bad_settings(model, tmp_path):
    with pytest.raises(ValueError, match="multiple of 4"):
        export_litert(model, tmp_path / "bad.tflite", tile=30)
    with pytest.raises(ValueError, match="quantization"):
        export_litert(model, tmp_path / "bad.tflite", quantization="int4")
    with pytest.raises(ValueError, match="fixed tile"):
        export_litert(model, tmp_path / "bad.tflite", quantization="int8", calibration=photos(32))
    with pytest.raises(ValueError, match="calibration"):
        export_litert(model, tmp_path / "bad.tflite", tile=32, quantization="int8")
    with pytest.raises(ValueError, match="int8 and int16x8 quantizations only"):
        export_litert(model, tmp_path / "bad.tflite", tile=32, quantization="fp16", calibration=photos(32))
    with pytest.raises(ValueError, match="not the export tile"):
        export_litert(model, tmp_path / "bad.tflite", tile=32, quantization="int8", calibration=photos(48))
    assert not (tmp_path / "bad.tflite").exists()


def test_litert_refuses_to_overwrite_before_converting(model, exported, monkeypatch):
    from hinet_tf.export import litert

    before = exported["float32"].read_bytes()
    monkeypatch.setattr(litert, "convert_function", _converter_must_not_run)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_litert(model, exported["float32"])
    assert exported["float32"].read_bytes() == before


def _converter_must_not_run(*args, **kwargs):
    raise AssertionError("converted although the file would not be written")


def test_litert_conversion_keeps_its_saved_model_beside_the_output(model, tmp_path, monkeypatch):
    from hinet_tf.export import litert

    folders = []

    def interrupted_conversion(saved_model, *args, **kwargs):
        folders.append(Path(saved_model))
        assert (Path(saved_model) / "saved_model.pb").is_file()
        raise KeyboardInterrupt  # as a Ctrl-C during the conversion

    monkeypatch.setattr(litert, "convert_saved_model", interrupted_conversion)
    with pytest.raises(KeyboardInterrupt):
        export_litert(model, tmp_path / "out" / "model.tflite")
    (folder,) = folders
    assert folder.parent == tmp_path / "out" and folder.name.startswith(".model.tflite.")
    assert list((tmp_path / "out").iterdir()) == []
