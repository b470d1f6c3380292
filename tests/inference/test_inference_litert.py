"""The LiteRT tile backend: same results as TensorFlow, converted once per model and tile shape, and cached."""

import os
import subprocess
import sys
from unittest import mock

import numpy as np
import PIL.Image
import pytest

from hinet_tf.models import HINetBackbone
from hinet_tf.inference import Restorer
from hinet_tf.inference import load_model
from hinet_tf.inference import read_image
from hinet_tf.inference import litert_backend
from hinet_tf.inference.conversion_cache import entry_problem
from hinet_tf.inference.errors import ConversionError
from hinet_tf.inference.litert_backend import fingerprint


@pytest.fixture(scope="module")
def models():
    return [HINetBackbone(width=4, depth=3), HINetBackbone(width=4, depth=3)]


def test_litert_matches_tensorflow_with_tta_and_an_ensemble(models):
    image = np.random.default_rng(0).random((37, 53, 3), np.float32)
    litert = Restorer(models, tile=32, overlap=8, tta=True, backend="litert")
    keras_restorer = Restorer(models, tile=32, overlap=8, tta=True, backend="keras")
    assert (litert.backend, keras_restorer.backend) == ("litert", "keras")
    np.testing.assert_allclose(litert(image), keras_restorer(image), atol=1e-4)
    smaller = image[:21, :10]  # smaller than a tile, odd, and not square: the transposed transforms change its shape
    np.testing.assert_allclose(litert(smaller), keras_restorer(smaller), atol=1e-4)


def test_each_fed_tile_shape_is_converted_once_and_cached(models, monkeypatch):
    compiled_model, loads = litert_backend._compiled_model, []
    monkeypatch.setattr(litert_backend, "_compiled_model", lambda *args: loads.append(args) or compiled_model(*args))
    messages = []
    image = np.random.default_rng(1).random((40, 70, 3), np.float32)  # 32 x 32 tiles
    small = np.random.default_rng(2).random((13, 24, 3), np.float32)  # padded to the size multiple, 4: one 16 x 24 tile
    first = Restorer(models[0], tile=32, overlap=8, backend="litert", log=messages.append)
    assert messages == []  # nothing is converted before a tile of some shape comes
    first(image)
    assert len(messages) == 1 and "Converting" in messages[0] and "1x32x32x3" in messages[0]
    full = first._run_batch.path
    assert full.is_file() and full.with_suffix(".xnnpack_cache").is_file()
    # XNNPACK built the weight cache under this process's hidden name; it was moved into place whole and recorded.
    assert entry_problem(full.with_suffix(".xnnpack_cache")) is None
    assert not list(full.parent.glob(f".{full.stem}.xnnpack_cache.*"))
    assert loads[0][1].name == f".{full.stem}.xnnpack_cache.{os.getpid()}"  # no other process maps it half-written
    wide = np.random.default_rng(3).random((33, 90, 3), np.float32)  # tiles of 32 x 32 again
    first(wide)
    assert len(messages) == 1
    first(small)  # a second shape, a second file
    assert len(messages) == 2 and "1x16x24x3" in messages[1] and first._run_batch.path != full
    keras_restorer = Restorer(models[0], tile=32, overlap=8)
    again = Restorer(models[0], tile=32, overlap=8, backend="litert", log=messages.append)
    for picture in (image, small, image):  # back and forth between the two cached shapes
        np.testing.assert_allclose(again(picture), keras_restorer(picture), atol=1e-4)
    assert len(messages) == 2  # the second restorer converted nothing


def test_a_failed_conversion_is_one_error_naming_the_converter(models, monkeypatch):
    monkeypatch.setattr(litert_backend, "convert_function", _failing_converter)
    restorer = Restorer(models[0], tile=32, overlap=8, backend="litert")
    with pytest.raises(ConversionError, match="LiteRT conversion failed: no converter"):
        restorer(np.random.default_rng(4).random((16, 48, 3), np.float32))


def _failing_converter(*args, **kwargs):
    raise RuntimeError("no converter")


def test_the_cache_key_follows_weights_and_options(models):
    model = models[0]
    key = fingerprint([model], tta=False)
    assert fingerprint([model], tta=False) == key
    assert fingerprint([model], tta=True) != key
    assert fingerprint([models[1]], tta=False) != key
    kernel = model.get_layer("last").kernel
    original = np.array(kernel)
    kernel.assign(original + 1.0)
    try:
        assert fingerprint([model], tta=False) != key
    finally:
        kernel.assign(original)


def test_unknown_backends_are_refused(models):
    with pytest.raises(ValueError, match="Unknown backend"):
        Restorer(models[0], tile=32, overlap=8, backend="tensorrt")




@pytest.mark.slow
def test_a_damaged_cached_tflite_file_is_converted_again_not_run(tmp_path, models):
    # LiteRT maps a .tflite file as it is: a truncated one crashed the process (exit 139).
    model_path = tmp_path / "model.keras"
    models[0].save(model_path)
    image = np.random.default_rng(5).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    PIL.Image.fromarray(image).save(tmp_path / "in.png")
    cache = tmp_path / "cache"
    with mock.patch.dict(os.environ, {"HINET_CACHE": str(cache)}):  # converted as the command would
        restorer = Restorer(load_model(model_path), tile=256, overlap=32, backend="litert")
        expected = restorer(image / 255)
    cached = restorer._run_batch.path
    size = cached.stat().st_size
    cached.write_bytes(cached.read_bytes()[: size // 2])  # cut short, as by a full disk or a killed copy
    code = "import sys; from hinet_tf.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = ["restore", str(tmp_path / "in.png"), "--model", str(model_path), "--backend", "litert", "--overwrite"]

    def restore():
        return subprocess.run(
            [sys.executable, "-c", code, *argv, "-o", str(tmp_path / "out.png")],
            env={**{key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}, "HINET_CACHE": str(cache)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    result = restore()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.splitlines() == [
        f"hinet: warning: the cached conversion {cached} is {size // 2:,} bytes, not the {size:,} recorded; "
        "converting it again"
    ]
    assert "Converting the model for LiteRT" in result.stdout
    np.testing.assert_allclose(read_image(tmp_path / "out.png").pixels, np.clip(expected, 0, 1), atol=0.51 / 255)
    # XNNPACK's packed weights, made on that run, are mapped as they are too: changed bytes crashed the process.
    weights = cached.with_suffix(".xnnpack_cache")
    packed = bytearray(weights.read_bytes())
    packed[200::997] = bytes(value ^ 0xFF for value in packed[200::997])
    weights.write_bytes(bytes(packed))
    (tmp_path / "out.png").unlink()
    result = restore()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "" and "Converting" not in result.stdout  # rebuilt by XNNPACK, not converted
    np.testing.assert_allclose(read_image(tmp_path / "out.png").pixels, np.clip(expected, 0, 1), atol=0.51 / 255)
