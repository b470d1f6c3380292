"""The shipped presets denoise photos they were not trained on: camera noise by default, Gaussian noise by name."""

import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hinet_tf.data import camera_noise
from hinet_tf.inference import default_model_path
from hinet_tf.inference import load_model
from hinet_tf.metrics import psnr
from hinet_tf.models import HINetBackbone
from hinet_tf.models.hinet.hinet_presets import backbone_presets
from hinet_tf.training.config import load_config

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "saved_models" / "samples"
POLYU_VAL = REPO_ROOT.parent / "shared" / "datasets" / "PolyU-val"
SHIPPED = sorted(name for name, preset in backbone_presets.items() if preset.get("weights"))
# Each preset's recipe, stage by stage: the first stage's start, then each from the last one's weights.
RECIPES = {
    "hinet_photo_denoise": ("photo_denoise_cbsd", "photo_denoise_cbsd_stage2"),
    "hinet_camera_denoise": (
        "photo_denoise_camera",
        "photo_denoise_camera_stage2",
        "photo_denoise_camera_stage3",
        "photo_denoise_camera_stage4",
    ),
}


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def camera_model():
    return load_model()


@pytest.fixture(scope="module")
def gaussian_model():
    return load_model("hinet_photo_denoise")


def _clean_crop(size=96):
    clean = np.asarray(Image.open(SAMPLES / "clean_sample.png").convert("RGB"), np.float32) / 255.0
    return clean[:size, -size:]  # the parrot's eye and beak: edges, texture and flat colour


def _gain(model, noisy, clean):
    restored = np.asarray(model(noisy[None], training=False))[0]
    assert restored.shape == clean.shape
    return psnr(restored, clean, quantize=False) - psnr(noisy, clean, quantize=False)


def test_default_model_is_the_camera_preset_and_small():
    path = default_model_path()
    assert path == REPO_ROOT / "saved_models" / "hinet_camera_denoise"
    assert SHIPPED == ["hinet_camera_denoise", "hinet_photo_denoise"]
    for name in SHIPPED:
        files = sorted((REPO_ROOT / "saved_models" / name).iterdir())
        assert [file.name for file in files] == ["config.json", "metadata.json", "model.weights.h5"]
        assert files[-1].stat().st_size < 25 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_loads_by_name_with_its_weights(name):
    backbone = HINetBackbone.from_preset(name)
    restorer = load_model(REPO_ROOT / "saved_models" / name)
    for expected, actual in zip(restorer.backbone.weights, backbone.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(actual), keras.ops.convert_to_numpy(expected))
    assert any(float(np.abs(keras.ops.convert_to_numpy(weight)).max()) > 0 for weight in backbone.weights)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_is_the_network_its_recipe_trains(name):
    stages = [load_config(REPO_ROOT / "configs" / f"{stage}.yaml") for stage in RECIPES[name]]
    starts = [stage.train.init_weights for stage in stages]
    assert len(set(starts)) == len(starts)  # each from other weights: a chain, not a repeated stage
    assert all(stage.model == stages[0].model for stage in stages)
    shipped = HINetBackbone.from_preset(name).get_config()
    recipe = stages[0].model.to_dict()
    assert {key: shipped[key] for key in recipe} == recipe


def test_recipes_chain_from_scratch_to_the_gaussian_then_the_camera_preset():
    gaussian, camera = (load_config(REPO_ROOT / "configs" / f"{RECIPES[name][0]}.yaml") for name in SHIPPED[::-1])
    assert gaussian.train.init_weights is None
    assert camera.train.init_weights == "hinet_photo_denoise"  # the Gaussian preset, by name


def test_gaussian_preset_gains_9_db_on_a_real_photo_at_sigma_25(gaussian_model):
    # The CBSD432 model gains 9.6 dB here; the wallpaper-only model it replaced, 8.3 dB.
    clean = _clean_crop()
    noisy = clean + np.random.default_rng(0).normal(0.0, 25 / 255, clean.shape).astype(np.float32)
    assert (gain := _gain(gaussian_model, noisy, clean)) >= 9.0, f"PSNR gain {gain:.2f} dB"


def test_camera_preset_removes_camera_noise_that_the_gaussian_preset_leaves(camera_model, gaussian_model):
    clean = _clean_crop()
    gains = []
    for seed in range(3):  # one draw varies: the camera preset gains 1.0 dB on the first, 2.5 on the others
        tf.random.set_seed(seed)
        noisy = camera_noise.camera_noise(tf.constant(clean), shot_range=(3e-3, 3e-3), jpeg_quality=(90, 90)).numpy()
        gains.append((_gain(camera_model, noisy, clean), _gain(gaussian_model, noisy, clean)))
    camera_gain, gaussian_gain = np.mean(gains, axis=0)
    # Measured: +2.00 dB against +0.08 dB on average over these 29-33 dB crops.
    assert camera_gain >= 1.5 and camera_gain > gaussian_gain + 1.2, gains


@pytest.mark.skipif(not POLYU_VAL.is_dir(), reason="needs ../shared/datasets/PolyU-val (real camera noise)")
@pytest.mark.parametrize("camera", ["Canon80D", "Sony"])
@pytest.mark.parametrize("offset", [0, 8])
def test_default_model_helps_on_real_camera_noise_on_or_off_the_jpeg_grid(camera_model, camera, offset):
    # Stage 3, trained with the JPEG's blocks at each patch's corner, gained 0.07 and 0.10 dB on these crops 8 pixels off.
    noisy_path = sorted(POLYU_VAL.glob(f"{camera}*_real.JPG"))[0]
    mean_path = noisy_path.with_name(noisy_path.name.replace("_real", "_mean"))
    noisy, mean = (np.asarray(Image.open(path).convert("RGB"), np.float32)[offset:, offset:] / 255.0 for path in (noisy_path, mean_path))
    assert (gain := _gain(camera_model, noisy, mean)) >= 0.5, f"{noisy_path.name}: PSNR gain {gain:.2f} dB"
    # The noisy crop is unbiased against its mean image; a model trained on a biased JPEG added 1.5 levels of red and blue
    # to every crop. The shipped stages shift a PolyU-val crop's blue by -0.14 levels on average, at most 0.47 (stage 2)
    # and 0.55 (stage 3; this Sony crop).
    shift = (np.asarray(camera_model(noisy[None], training=False))[0] - noisy).mean(axis=(0, 1)) * 255
    assert np.abs(shift).max() < 0.75, f"{noisy_path.name}: the colours shift by {shift} levels"


def test_shipped_noisy_sample_is_the_clean_sample_with_noise():
    clean = np.asarray(Image.open(SAMPLES / "clean_sample.png").convert("RGB"))
    noisy = np.asarray(Image.open(SAMPLES / "noisy_sample.png").convert("RGB"))
    assert noisy.shape == clean.shape
    residual_std = (noisy.astype(np.float64) - clean).std()
    assert 20 < residual_std < 26  # sigma 25, a little less where clipped at 0 and 255
