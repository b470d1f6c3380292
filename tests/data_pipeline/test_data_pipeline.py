"""tf.data pipelines: decoding, aligned crops and flips, bad files, synthetic degradations, TFRecord."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hinet_tf.data import augment
from hinet_tf.data import check
from hinet_tf.data import layouts
from hinet_tf.data import paired
from hinet_tf.data import synthetic
from hinet_tf.data import tfrecord
from hinet_tf.data.decode import read_image
from hinet_tf.inference import read_image as inference_read_image
from hinet_tf.utils import atomic

from helpers.images import png_header_only


def _save(path, array, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def _random_image(seed, height=40, width=48):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _pair_folder(root, count=3, size=(40, 48), identical=False):
    for index in range(count):
        image = _random_image(index, *size)
        _save(root / "input" / f"{index}.png", image)
        _save(root / "target" / f"{index}.png", image if identical else 255 - image)
    return layouts.list_pairs(root, "pairs")


def test_decode_png8_png16_and_jpeg(tmp_path):
    image = _random_image(0)
    png8 = _save(tmp_path / "a.png", image)
    np.testing.assert_allclose(read_image(str(png8)).numpy(), image / 255.0, atol=1e-6)
    deep = (np.random.default_rng(1).integers(0, 65536, (8, 8), dtype=np.uint16))
    Image.fromarray(deep).save(tmp_path / "deep.png")  # 16-bit grayscale PNG
    decoded = read_image(str(tmp_path / "deep.png")).numpy()
    assert decoded.shape == (8, 8, 3)
    np.testing.assert_allclose(decoded[..., 1], deep / 65535.0, atol=1e-6)
    deep_rgb = np.random.default_rng(2).integers(0, 65536, (8, 10, 3), dtype=np.uint16)
    (tmp_path / "deep_rgb.png").write_bytes(tf.io.encode_png(deep_rgb).numpy())
    np.testing.assert_allclose(read_image(str(tmp_path / "deep_rgb.png")).numpy(), deep_rgb / 65535.0, atol=1e-6)
    assert check.image_size(tmp_path / "deep_rgb.png") == (10, 8)
    np.testing.assert_array_equal(read_image(str(png8)).numpy(), inference_read_image(png8).pixels)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_training_decodes_jpeg_exactly_as_inference(tmp_path, orientation):
    """Accurate IDCT (the fast one is off by up to 15 levels) and the EXIF orientation, as Pillow applies it."""
    yy, xx = np.mgrid[0:40, 0:56]
    image = np.stack([xx * 4, yy * 6, (xx * yy) % 256], axis=-1).astype(np.uint8)
    image = np.clip(image + np.random.default_rng(orientation).integers(0, 40, image.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    jpeg = _save(tmp_path / "photo.jpg", image, quality=75, exif=exif)  # 4:2:0 chroma, as most JPEGs
    expected = inference_read_image(jpeg).pixels
    decoded = read_image(str(jpeg)).numpy()
    assert decoded.shape == expected.shape == ((40, 56, 3) if orientation < 5 else (56, 40, 3))
    np.testing.assert_array_equal(decoded, expected)
    gray = _save(tmp_path / "gray.jpg", image[..., 0], quality=75)
    np.testing.assert_array_equal(read_image(str(gray)).numpy(), np.repeat(inference_read_image(gray).pixels, 3, -1))


def test_reflect_pad_mirrors_repeatedly_to_the_crop_size():
    image = tf.reshape(tf.range(6, dtype=tf.float32), (2, 3, 1))
    padded = augment.reflect_pad_to(image, 7, 4).numpy()[..., 0]
    assert padded.shape == (7, 4)
    np.testing.assert_array_equal(padded[:4, :3], [[0, 1, 2], [3, 4, 5], [3, 4, 5], [0, 1, 2]])
    np.testing.assert_array_equal(padded[:2, 3], [2, 5])


def test_crops_and_flips_keep_identical_images_identical(tmp_path):
    pairs = _pair_folder(tmp_path, count=2, size=(20, 70), identical=True)
    batches = paired.training_batches(paired.image_pairs(pairs, shuffle=True), 32, 4, patches_per_image=2)
    sources = [read_image(str(path)).numpy() for path, _ in pairs]
    for degraded, target in batches.take(3):
        assert degraded.shape == (4, 32, 32, 3) and degraded.dtype == tf.float32
        np.testing.assert_array_equal(degraded.numpy(), target.numpy())
    assert not np.array_equal(degraded[0].numpy(), sources[0][:32, :32])  # crops are random


def test_crop_keeps_different_images_aligned(tmp_path):
    pairs = _pair_folder(tmp_path, count=2, size=(48, 48), identical=False)
    for degraded, target in paired.training_batches(paired.image_pairs(pairs), 32, 2).take(3):
        np.testing.assert_allclose(degraded.numpy() + target.numpy(), 1.0, atol=1e-6)  # target = 255 - input


def test_validation_images_are_central_crops_or_whole_and_fixed(tmp_path):
    pairs = _pair_folder(tmp_path, count=3, size=(40, 48))
    noise = synthetic.build_degradation([{"type": "gaussian_noise", "sigma": 25}])
    dataset = paired.validation_images(paired.image_pairs(pairs), 32, degrade=noise)
    first, second = list(dataset.as_numpy_iterator()), list(dataset.as_numpy_iterator())
    assert len(first) == 3 and first[0][0].shape == (32, 32, 3)
    np.testing.assert_array_equal(first[0][0], second[0][0])  # degraded once, the same every epoch
    np.testing.assert_allclose(first[2][1], read_image(str(pairs[2][1])).numpy()[4:36, 8:40], atol=1e-6)
    whole = list(paired.validation_images(paired.image_pairs(pairs), max_images=2).as_numpy_iterator())
    assert len(whole) == 2 and whole[1][1].shape == (40, 48, 3)


def test_truncated_unreadable_and_mismatched_files_are_named(tmp_path):
    pairs = _pair_folder(tmp_path, count=4)
    truncated = pairs[0][0]
    truncated.write_bytes(truncated.read_bytes()[:200])
    pairs[1][1].write_bytes(b"this is not an image")
    _save(pairs[2][1], _random_image(9, 40, 40))
    with pytest.raises(ValueError, match="3 bad image file") as error:
        check.check_pairs(pairs)
    message = str(error.value)
    assert str(truncated) in message and str(pairs[1][1]) in message and "\n" not in message
    assert f"Size mismatch: {pairs[2][0]} is 48x40 but {pairs[2][1]} is 40x40" in message
    check.check_pairs(pairs[3:])


def test_synthetic_noise_range_and_fixed_sigma():
    clean = tf.fill((64, 64, 3), 0.5)
    fixed = synthetic.build_degradation([{"type": "gaussian_noise", "sigma": 25}])
    assert abs(float(tf.math.reduce_std(fixed(clean) - clean)) - 25 / 255) < 0.01
    ranged = synthetic.build_degradation([{"type": "gaussian_noise", "sigma": [0, 50]}])
    stds = [float(tf.math.reduce_std(ranged(clean) - clean)) * 255 for _ in range(12)]
    assert 0 <= min(stds) < max(stds) <= 50.5 and max(stds) - min(stds) > 5


def test_blurs_jpeg_and_rain_change_images_and_stay_in_range():
    image = tf.constant(_random_image(3, 48, 48) / 255.0, tf.float32)
    for spec in (
        {"type": "gaussian_blur", "sigma": [1.0, 2.0]},
        {"type": "motion_blur", "length": 9, "angle": [0, 180], "size": 11},
        {"type": "jpeg", "quality": [10, 20]},
        {"type": "rain", "density": 0.02},
    ):
        degraded = synthetic.build_degradation([spec])(image).numpy()
        assert degraded.shape == (48, 48, 3), spec
        assert 0 <= degraded.min() and degraded.max() <= 1, spec
        assert np.abs(degraded - image.numpy()).mean() > 0.01, spec
    blurred = synthetic.build_degradation([{"type": "gaussian_blur", "sigma": 2.0}])(image).numpy()
    assert blurred.std() < image.numpy().std() / 2
    rainy = synthetic.build_degradation([{"type": "rain", "density": 0.02}])(tf.zeros((48, 48, 3))).numpy()
    assert rainy.mean() > 0.01  # streaks brighten the image


def test_motion_kernel_is_a_line():
    kernel = synthetic.line_kernel(tf.constant(5.0), tf.constant(0.0), 7).numpy()
    np.testing.assert_allclose(kernel[3], [0, 1, 1, 1, 1, 1, 0])
    assert kernel.sum() == pytest.approx(5)


def test_degradation_probability_zero_is_identity_and_bad_specs_are_named():
    image = tf.random.uniform((16, 16, 3))
    skip = synthetic.build_degradation([{"type": "gaussian_noise", "sigma": 30, "probability": 0.0}])
    np.testing.assert_array_equal(skip(image).numpy(), image.numpy())
    with pytest.raises(ValueError, match="unknown type 'snow'"):
        synthetic.build_degradation([{"type": "snow"}])
    with pytest.raises(ValueError, match="sigma"):
        synthetic.build_degradation([{"type": "gaussian_noise", "sigma": [50, 10]}])
    with pytest.raises(ValueError, match=r"degradations\[0\] \(jpeg\).*strength"):
        synthetic.build_degradation([{"type": "jpeg", "strength": 3}])


def test_tfrecord_round_trip_and_no_silent_overwrite(tmp_path):
    pairs = _pair_folder(tmp_path / "data", count=5)
    count = tfrecord.write_shards(tfrecord.file_records(pairs), tmp_path / "shards", "train", 2)
    assert count == 5 and sorted(p.name for p in (tmp_path / "shards").iterdir()) == [
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
        "train.json",
    ]
    records = list(tfrecord.tfrecord_pairs(tmp_path / "shards", "train"))
    expected = {read_image(str(d)).numpy().tobytes(): read_image(str(t)).numpy() for d, t in pairs}
    assert len(records) == 5
    for degraded, target in records:
        np.testing.assert_array_equal(expected[degraded.numpy().tobytes()], target.numpy())
    with pytest.raises(ValueError, match="already holds split 'train'"):
        tfrecord.write_shards(tfrecord.file_records(pairs), tmp_path / "shards", "train", 2)
    assert tfrecord.write_shards(tfrecord.file_records(pairs[:1]), tmp_path / "shards", "train", 1, overwrite=True) == 1
    assert not list((tmp_path / "shards").glob("*-of-00002.tfrecord"))
    with pytest.raises(ValueError, match="No TFRecord split 'val'"):
        tfrecord.tfrecord_pairs(tmp_path / "shards", "val")


def test_a_failed_tfrecord_rewrite_leaves_the_old_split_whole(tmp_path):
    pairs = _pair_folder(tmp_path / "data", count=3)
    shards = tmp_path / "shards"
    tfrecord.write_shards(tfrecord.file_records(pairs), shards, "train", 2)
    before = {path.name: path.read_bytes() for path in shards.iterdir()}

    def failing_records():
        yield from tfrecord.file_records(pairs[:2])
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        tfrecord.write_shards(failing_records(), shards, "train", 2, overwrite=True)
    assert {path.name: path.read_bytes() for path in shards.iterdir()} == before  # no temporary files either
    assert len(list(tfrecord.tfrecord_pairs(shards, "train"))) == 3
    atomic.request_stop()  # Ctrl-C during a rewrite into one shard: the old index and shards are not deleted
    try:
        with pytest.raises(KeyboardInterrupt):
            tfrecord.write_shards(tfrecord.file_records(pairs[:1]), shards, "train", 1, overwrite=True)
    finally:
        atomic.request_stop(False)
    assert {path.name: path.read_bytes() for path in shards.iterdir()} == before


def test_an_image_bomb_in_the_training_data_is_named(tmp_path):
    pairs = _pair_folder(tmp_path, count=2)
    pairs[0][1].write_bytes(png_header_only(20000, 20000))
    with pytest.raises(ValueError, match="1 bad image file") as error:
        check.check_pairs(pairs, full=False)
    assert f"Cannot read image {pairs[0][1]}: Image size (400000000 pixels) exceeds limit" in str(error.value)
