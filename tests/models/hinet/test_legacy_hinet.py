"""The deprecated `HINet`: it warns, equals the backbone, and the files of earlier releases keep loading."""

import pathlib

import numpy as np
import pytest

import keras

from hinet_tf.inference import load_model
from hinet_tf.models import HINet
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
# hinet_v0: Keras' Adam, before the PyTorch-exact step; hinet_v1: TorchAdam, saved by the HINet class of 0.1.
SAVED_FILES = ("hinet_v0_trained", "hinet_v1_torch_adam")


def test_hinet_warns_and_equals_the_backbone_with_the_same_weights():
    with pytest.warns(DeprecationWarning, match="HINetImageRestorer"):
        legacy = HINet(width=4, hin_levels=(3, 4))
    backbone = legacy.to_backbone()
    assert type(backbone) is HINetBackbone
    assert {**backbone.get_config(), "name": None} == {**legacy.get_config(), "name": None}
    images = np.random.default_rng(0).random((1, 32, 32, 3)).astype("float32")
    for expected, actual in zip(legacy(images), backbone(images)):
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("name", SAVED_FILES)
def test_files_of_earlier_releases_load_with_their_optimizer_and_train(name):
    data = np.load(DATA / f"{name}_io.npz")
    with pytest.warns(DeprecationWarning):
        model = keras.saving.load_model(DATA / f"{name}.keras")
    np.testing.assert_allclose(model.predict(data["input"], verbose=0)[1], data["stage2"], atol=1e-6)
    assert int(model.optimizer.iterations) == int(data["iterations"])
    history = model.fit(data["input"], data["input"], epochs=1, verbose=0).history
    assert int(model.optimizer.iterations) == int(data["iterations"]) + 1
    assert history["psnr"] == pytest.approx(history["psnr_stage2"])  # the final image's PSNR, over the whole batch


@pytest.mark.parametrize("name", SAVED_FILES)
def test_files_of_earlier_releases_load_as_image_restorers(name):
    data = np.load(DATA / f"{name}_io.npz")
    restorer = load_model(DATA / f"{name}.keras")
    assert type(restorer) is HINetImageRestorer and type(restorer.backbone) is HINetBackbone
    np.testing.assert_allclose(restorer.predict(data["input"], verbose=0), data["stage2"], atol=1e-6)
