"""The onnxruntime tile backend: same results as TensorFlow, converted once per model and cached."""

import sys
import warnings

import keras
import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from hinet_tf.cli.main import main
from hinet_tf.inference import Restorer
from hinet_tf.inference import onnx_backend
from hinet_tf.inference import read_image
from hinet_tf.inference.errors import ConversionError
from hinet_tf.models import HINetBackbone


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(7)
    return [HINetBackbone(width=8, depth=3), HINetBackbone(width=8, depth=3)]  # a short graph: conversion time grows with it


@pytest.mark.slow
def test_onnx_matches_tensorflow_with_tta_and_an_ensemble(models):
    image = np.random.default_rng(0).random((37, 53, 3), np.float32)
    onnx = Restorer(models, tile=32, overlap=8, tta=True, backend="onnx")
    keras_restorer = Restorer(models, tile=32, overlap=8, tta=True, backend="keras")
    assert (onnx.backend, keras_restorer.backend) == ("onnx", "keras")
    np.testing.assert_allclose(onnx(image), keras_restorer(image), atol=1e-4)


@pytest.mark.slow
def test_conversion_happens_once_per_model_and_options_and_is_cached(models):
    messages = []
    first = Restorer(models[0], tile=32, overlap=8, backend="onnx", log=messages.append)
    assert len(messages) == 1 and "Converting" in messages[0]
    again = Restorer(models[0], tile=64, backend="onnx", log=messages.append)
    assert len(messages) == 1  # the cached file was used
    assert again._run_batch.path == first._run_batch.path
    image = np.random.default_rng(1).random((20, 70, 3), np.float32)  # one side under a tile, one over
    np.testing.assert_allclose(again(image), Restorer(models[0], tile=64)(image), atol=1e-4)
    with_tta = Restorer(models[0], tile=32, overlap=8, tta=True, backend="onnx", log=messages.append)
    assert len(messages) == 2 and with_tta._run_batch.path != first._run_batch.path


def test_each_tile_shape_runs_on_a_session_of_that_fixed_shape(models):
    restorer = Restorer(models[0], tile=32, overlap=8, backend="onnx")
    runner = restorer._run_batch
    for shape in ((1, 32, 32, 3), (1, 16, 24, 3), (1, 32, 32, 3)):
        tiles = np.random.default_rng(len(shape)).random(shape, np.float32)
        np.testing.assert_allclose(runner(tiles), restorer._run_on_tensorflow(tiles), atol=1e-4)
        assert runner._session.get_inputs()[0].shape == list(shape)


def test_auto_takes_the_faster_of_tensorflow_and_onnxruntime_without_a_gpu(models, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # the onnx extra only
    restorer = Restorer(models[0], tile=32, overlap=8, backend="auto")
    if tf.config.list_physical_devices("GPU"):
        assert (restorer.backend, restorer.backend_choice) == ("keras", None)
    else:
        seconds = restorer.backend_choice.seconds
        assert set(seconds) == {"keras", "onnx"} and restorer.backend == min(seconds, key=seconds.get)


def test_auto_uses_tensorflow_silently_without_onnxruntime(models, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as in an install without the onnx extra
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # nor the litert one
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Restorer(models[0], tile=32, overlap=8, backend="auto").backend == "keras"


def test_auto_leaves_onnxruntime_out_when_the_conversion_fails(models, monkeypatch):
    monkeypatch.setattr(onnx_backend, "convert_function", _failing_converter)
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    if not tf.config.list_physical_devices("GPU"):
        with pytest.warns(UserWarning, match="Backend onnx left out of the choice: ONNX conversion failed: no converter"):
            restorer = Restorer(models[1], tile=32, overlap=8, backend="auto")
        assert restorer.backend == "keras" and set(restorer.backend_choice.left_out) == {"onnx"}
    with pytest.raises(ConversionError, match="no converter"):
        Restorer(models[1], tile=32, overlap=8, backend="onnx")


def test_hinet_restore_reports_a_failed_conversion_in_one_line(tmp_path, identity_model_path, capsys, monkeypatch):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path / "cache"))  # other tests convert this model too
    monkeypatch.setattr(onnx_backend, "convert_function", _failing_converter)
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--model", str(identity_model_path)]
    assert main([*argv, "--backend", "onnx"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "ONNX conversion failed: no converter" in lines[0] and "--backend keras" in lines[0]
    assert not (tmp_path / "out").exists()



@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="auto takes TensorFlow on a GPU")
def test_hinet_restore_shows_a_failed_conversion_under_auto_as_one_warning_line(
    tmp_path, identity_model_path, capsys, monkeypatch
):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(onnx_backend, "convert_function", _failing_converter)
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # the onnx extra only
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--model", str(identity_model_path)]
    assert main(argv) == 0
    assert capsys.readouterr().err.splitlines() == [
        "hinet: warning: Backend onnx left out of the choice: ONNX conversion failed: no converter"
    ]

def _failing_converter(*args, **kwargs):
    raise RuntimeError("no converter")


def test_a_missing_onnxruntime_is_named_in_one_line(models, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as in an install without the onnx extra
    with pytest.raises(ImportError) as error:
        Restorer(models[0], tile=32, overlap=8, backend="onnx")
    message = str(error.value)
    assert "onnxruntime" in message and "onnx]" in message and "\n" not in message


@pytest.mark.slow
def test_hinet_restore_runs_on_onnx(tmp_path, identity_model_path, capsys, monkeypatch):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path / "cache"))  # other tests convert this model too
    pixels = np.random.default_rng(2).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    PIL.Image.fromarray(pixels).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--model", str(identity_model_path)]
    assert main([*argv, "--tile", "32", "--overlap", "8", "--backend", "onnx"]) == 0
    out = capsys.readouterr().out
    assert "Converting the model for onnxruntime once" in out and "restored 1 image(s)" in out
    np.testing.assert_allclose(read_image(tmp_path / "out.png").pixels * 255, pixels, atol=0.51)



@pytest.mark.slow
def test_a_damaged_cached_onnx_file_is_converted_again_with_one_warning(tmp_path, identity_model_path, capsys, monkeypatch):
    monkeypatch.setenv("HINET_CACHE", str(tmp_path / "cache"))
    pixels = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    PIL.Image.fromarray(pixels).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "--model", str(identity_model_path), "--backend", "onnx"]
    assert main([*argv, "-o", str(tmp_path / "first.png")]) == 0
    (cached,) = (tmp_path / "cache" / "onnx").glob("*.onnx")
    size = cached.stat().st_size
    cached.write_bytes(cached.read_bytes()[:1000])  # cut short, as by a full disk or a killed copy
    capsys.readouterr()
    assert main([*argv, "-o", str(tmp_path / "second.png")]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"hinet: warning: the cached conversion {cached} is 1,000 bytes, not the {size:,} recorded; converting it again"
    ]
    assert "Converting the model for onnxruntime once" in captured.out
    np.testing.assert_allclose(read_image(tmp_path / "second.png").pixels * 255, pixels, atol=0.51)

def test_hinet_restore_names_a_missing_onnxruntime_before_loading(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    argv = ["restore", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "absent.keras")]
    assert main([*argv, "--backend", "onnx"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "onnxruntime" in lines[0] and 'pip install "hinet-tf[onnx]"' in lines[0]
    assert not (tmp_path / "out").exists()
