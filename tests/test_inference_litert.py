"""The LiteRT tile backend: same results as TensorFlow, converted once per model and cached."""

import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.models import HINetBackbone
from hinet_tf.inference import Restorer
from hinet_tf.inference import restorer as restorer_module
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


def test_conversion_happens_once_per_model_and_is_cached(models):
    messages = []
    first = Restorer(models[0], tile=32, overlap=8, backend="litert", log=messages.append)
    assert len(messages) == 1 and "Converting" in messages[0]
    again = Restorer(models[0], tile=64, backend="auto", log=messages.append)
    expected = "keras" if tf.config.list_physical_devices("GPU") else "litert"
    assert again.backend == expected
    if expected == "litert":
        assert len(messages) == 1  # the cached file was used
        assert again._run_batch.path == first._run_batch.path
        image = np.random.default_rng(1).random((20, 24, 3), np.float32)
        np.testing.assert_allclose(again(image), Restorer(models[0], tile=64)(image), atol=1e-4)


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


def test_auto_keeps_large_models_on_tensorflow(models, monkeypatch):
    monkeypatch.setattr(restorer_module, "LITERT_MAX_PARAMETERS", models[0].count_params() - 1)
    assert Restorer(models[0], tile=32, overlap=8, backend="auto").backend == "keras"


def test_auto_uses_tensorflow_silently_without_ai_edge_litert(models, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as in an install without the litert extra
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Restorer(models[0], tile=32, overlap=8, backend="auto").backend == "keras"


def test_unknown_backends_are_refused(models):
    with pytest.raises(ValueError, match="Unknown backend"):
        Restorer(models[0], tile=32, overlap=8, backend="tensorrt")
