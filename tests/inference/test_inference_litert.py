"""The LiteRT tile backend: same results as TensorFlow, converted once per model and tile shape, and cached."""

import numpy as np
import pytest

from hinet_tf.models import HINetBackbone
from hinet_tf.inference import Restorer
from hinet_tf.inference import litert_backend
from hinet_tf.inference.conversion_cache import ConversionError
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


def test_each_fed_tile_shape_is_converted_once_and_cached(models):
    messages = []
    image = np.random.default_rng(1).random((40, 70, 3), np.float32)  # 32 x 32 tiles
    small = np.random.default_rng(2).random((13, 24, 3), np.float32)  # padded to the size multiple, 4: one 16 x 24 tile
    first = Restorer(models[0], tile=32, overlap=8, backend="litert", log=messages.append)
    assert messages == []  # nothing is converted before a tile of some shape comes
    first(image)
    assert len(messages) == 1 and "Converting" in messages[0] and "1x32x32x3" in messages[0]
    full = first._run_batch.path
    assert full.is_file() and full.with_suffix(".xnnpack_cache").is_file()
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
