"""Shared test setup: quiet TensorFlow, seeded runs, small models."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Converted LiteRT models are cached per test session, never in the user's cache.
os.environ["HINET_CACHE"] = tempfile.mkdtemp(prefix="hinet-cache-")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_modifyitems(items):
    """Files with slow tests run first: with `--dist loadfile` the fast files then fill the end,
    and neither worker waits alone on a slow file at the end of the queue."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: the order within each group is kept


@pytest.fixture(autouse=True)
def _seed_and_policy():
    keras.utils.set_random_seed(1234)
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def identity_model_path(tmp_path_factory):
    """A saved width-4, 3-level HINet whose last convolution is zero: it returns its input.

    Three levels convert for onnxruntime and LiteRT in about half the time of five.
    """
    from hinet_tf.models import HINetBackbone

    model = HINetBackbone(width=4, depth=3)
    last = model.get_layer("last")
    last.set_weights([np.zeros_like(weight) for weight in last.get_weights()])
    path = tmp_path_factory.mktemp("models") / "identity.keras"
    model.save(path)
    return path
