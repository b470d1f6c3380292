"""Datasets built from a config for each layout, and `hinet prepare` TFRecord shards."""

import numpy as np
import pytest
import scipy.io
from PIL import Image

from hinet_tf.cli.main import main
from hinet_tf.data import paired
from hinet_tf.data import sidd_blocks
from hinet_tf.training import config as config_lib
from hinet_tf.training.datasets import build_datasets

SMALL = ["train.batch_size=2", "train.crop_size=32", "data.val_crop=32", "data.val_images=2"]


def _image(seed, height=40, width=48):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _config(recipe, root, *overrides):
    config = config_lib.load_config(f"configs/{recipe}.yaml", [*SMALL, *overrides])
    return config.replace(data={"root": str(root)})


def _first(dataset):
    degraded, target = next(iter(dataset))
    return degraded.numpy(), target.numpy()


def test_sidd_medium_with_validation_blocks(tmp_path):
    for scene in range(2):
        folder = tmp_path / "Data" / f"000{scene}_001_S6_00100_00060_3200_L"
        clean = _image(scene)
        _save(folder / f"000{scene}_GT_SRGB_010.PNG", clean)
        _save(folder / f"000{scene}_NOISY_SRGB_010.PNG", 255 - clean)
    blocks = np.stack([_image(seed, 32, 32) for seed in range(6)]).reshape(2, 3, 32, 32, 3)
    scipy.io.savemat(tmp_path / sidd_blocks.NOISY_FILE, {"ValidationNoisyBlocksSrgb": blocks})
    scipy.io.savemat(tmp_path / sidd_blocks.GT_FILE, {"ValidationGtBlocksSrgb": 255 - blocks})
    train, val, description = build_datasets(_config("sidd_0.5x", tmp_path))
    assert description.startswith("2 training pairs")
    degraded, target = _first(train)
    assert degraded.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(degraded + target, 1.0, atol=1e-6)  # the noisy file pairs with its GT file
    degraded, target = list(val.as_numpy_iterator())[1]  # whole validation images, one at a time
    np.testing.assert_allclose(degraded, blocks[0, 1] / 255.0, atol=1e-6)
    np.testing.assert_allclose(target, 1.0 - blocks[0, 1] / 255.0, atol=1e-6)


def test_gopro_reds_and_rain13k_layouts_build(tmp_path):
    for split in ("train", "test"):
        for index in range(2):
            _save(tmp_path / "gopro" / split / "input" / f"{index}.png", _image(index))
            _save(tmp_path / "gopro" / split / "target" / f"{index}.png", _image(index))
            _save(tmp_path / "rain" / "train" / "input" / f"{index}.jpg", _image(index))
            _save(tmp_path / "rain" / "train" / "target" / f"{index}.jpg", _image(index))
            _save(tmp_path / "rain" / "test" / "Test100" / "input" / f"{index}.png", _image(index))
            _save(tmp_path / "rain" / "test" / "Test100" / "target" / f"{index}.png", _image(index))
    for split in ("train", "val"):
        for frame in range(10):
            _save(tmp_path / "reds" / split / f"{split}_blur_jpeg" / "000" / f"{frame:08d}.jpg", _image(frame))
            _save(tmp_path / "reds" / split / f"{split}_sharp" / "000" / f"{frame:08d}.png", _image(frame))
    for recipe, folder in (("gopro", "gopro"), ("reds", "reds"), ("rain13k", "rain")):
        train, val, _ = build_datasets(_config(recipe, tmp_path / folder))
        assert _first(train)[0].shape == (2, 32, 32, 3), recipe
        assert len(list(val)) == (1 if recipe == "reds" else 2), recipe


def test_photos_hold_out_validation_and_degrade_on_the_fly(tmp_path):
    for index in range(5):
        _save(tmp_path / "album" / f"{index}.jpg", np.full((40, 40, 3), 128, np.uint8))
    train, val, description = build_datasets(_config("photos_cpu", tmp_path))
    assert description.startswith("4 training photos")  # data.val_images=2, capped at a fifth of the 5
    degraded, target = _first(train)
    assert np.abs(target - 128 / 255).max() < 0.02 and (degraded - target).std() > 0.03
    assert len(list(val)) == 1
    _save(tmp_path / "album" / "val" / "v.png", np.full((40, 40, 3), 128, np.uint8))
    _, val, description = build_datasets(_config("photos_cpu", tmp_path / "album", "data.val_split=val"))
    assert description.startswith("5 training photos")  # the validation subfolder is left out
    assert len(list(val)) == 1


def test_photo_scales_add_each_photo_resized_and_validate_at_scale_one(tmp_path):
    for index in range(5):
        _save(tmp_path / f"{index}.png", _image(index))
    config = _config("photos_cpu", tmp_path, "data.scales=[1, 2]")
    _, val, description = build_datasets(config)
    assert description.startswith("4 training photos in") and " at scales 1, 2," in description
    assert [image.shape for image, _ in val.as_numpy_iterator()] == [(32, 32, 3)]  # data.val_crop, at scale 1
    photos = sorted(tmp_path.glob("*.png"))[:2]
    pairs = paired.clean_images(photos, shuffle=True, seed=1, scales=[1, 2]).as_numpy_iterator()
    shapes = sorted(clean.shape for clean, _ in pairs)
    assert shapes == [(40, 48, 3)] * 2 + [(80, 96, 3)] * 2
    ramp = np.tile(np.linspace(0, 1, 20, dtype=np.float32)[None, :, None], (10, 1, 3))
    enlarged = paired.rescale(ramp, 2.0).numpy()
    assert enlarged.shape == (20, 40, 3) and enlarged.min() >= 0 and enlarged.max() <= 1
    assert np.all(np.diff(enlarged[5, :, 0]) > 0)  # bicubic: a ramp stays a ramp
    np.testing.assert_array_equal(np.asarray(paired.rescale(ramp, 1.0)), ramp)


def test_empty_photo_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=f"Photo folder {tmp_path / 'empty'} has no PNG or JPEG images"):
        build_datasets(_config("photos_cpu", tmp_path / "empty"))


def test_prepare_shards_then_train_from_them(tmp_path, capsys):
    for split in ("train", "test"):
        for index in range(3):
            _save(tmp_path / "data" / split / "input" / f"{index}.png", _image(index))
            _save(tmp_path / "data" / split / "target" / f"{index}.png", 255 - _image(index))
    shards = tmp_path / "shards"
    arguments = ["prepare", "gopro", str(tmp_path / "data"), str(shards), "--splits", "train", "test", "--shards", "2"]
    assert main(arguments) == 0
    assert "train: wrote 3 pairs into 2 shard(s)" in capsys.readouterr().out
    assert main(arguments) == 2
    assert "already holds split 'train'" in capsys.readouterr().err
    assert main([*arguments[:-1], "8", "--overwrite"]) == 0  # more shards than pairs: one pair each, none empty
    assert "train: wrote 3 pairs into 3 shard(s)" in capsys.readouterr().out
    assert all(path.stat().st_size > 0 for path in shards.glob("train-*.tfrecord"))
    assert len(list(shards.glob("train-*.tfrecord"))) == 3
    train, val, _ = build_datasets(_config("gopro", shards, "data.layout=tfrecord"))
    degraded, target = _first(train)
    np.testing.assert_allclose(degraded + target, 1.0, atol=1e-6)
    assert len(list(val)) == 2


def test_prepare_reports_bad_files(tmp_path, capsys):
    _save(tmp_path / "input" / "a.png", _image(0))
    _save(tmp_path / "target" / "a.png", _image(0, 40, 40))
    assert main(["prepare", "pairs", str(tmp_path), str(tmp_path / "shards")]) == 2
    assert "Size mismatch" in capsys.readouterr().err
    assert not (tmp_path / "shards").exists()
