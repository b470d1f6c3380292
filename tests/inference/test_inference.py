"""Tiled restoration, padding, test-time augmentation and ensembles."""

import math
import tracemalloc

import keras
import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.inference import Restorer
from hinet_tf.inference import tiling
from hinet_tf.models import HINetBackbone
from hinet_tf.utils import dihedral


@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(7)
    return HINetBackbone(width=4)


@pytest.fixture(scope="module")
def identity_like_model():
    """A HINet whose last convolution is zero: its final output is its input."""
    model = HINetBackbone(width=4)
    last = model.get_layer("last")
    last.set_weights([np.zeros_like(weight) for weight in last.get_weights()])
    return model


def pointwise_model():
    """A per-pixel model: tiling cannot change its result."""
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="sigmoid")(inputs))


def random_image(height, width, channels=3, seed=0):
    return np.random.default_rng(seed).random((height, width, channels), dtype=np.float32)


@pytest.fixture(scope="module")
def restorer(tiny_model):
    """Shared by the tests, so the model is traced once."""
    return Restorer(tiny_model, tile=64, overlap=16)


def untiled(restorer, image):
    """The model's output on the whole reflect-padded image, cropped back."""
    height, width = image.shape[:2]
    padded = np.pad(image, ((0, -height % 16), (0, -width % 16), (0, 0)), mode="reflect")
    return restorer.restore_tile(padded[None])[0, :height, :width].numpy()


def test_odd_sizes_come_back_at_their_size(restorer):
    for height, width in ((97, 131), (17, 5), (1, 40)):
        assert restorer(random_image(height, width)).shape == (height, width, 3)


def test_untiled_result_is_the_padded_model_output_cropped_back(restorer, tiny_model):
    image = random_image(37, 50)
    padded = np.pad(image, ((0, 11), (0, 14), (0, 0)), mode="reflect")
    expected = tiny_model(padded[None])[-1][0, :37, :50].numpy()
    np.testing.assert_allclose(restorer(image), expected, atol=1e-5)


def test_tile_larger_than_the_image_gives_exactly_the_untiled_result(restorer):
    small = random_image(45, 60)  # padded to 48 x 64: one tile of 64
    np.testing.assert_array_equal(restorer(small), untiled(restorer, small))
    large = random_image(100, 90)  # several tiles: instance norm sees each tile alone
    assert not np.allclose(restorer(large), untiled(restorer, large), atol=1e-4)


def test_blending_of_overlapping_tiles_is_exact_for_a_per_pixel_model():
    model = pointwise_model()
    image = random_image(90, 75)
    whole = Restorer(model, tile=128)(image)
    tiled = Restorer(model, tile=32, overlap=12)(image)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_the_model_only_sees_tiles():
    seen = []

    def record(tile):
        seen.append(tile.shape)
        return tile * 2

    image = random_image(200, 130)
    result = tiling.restore_tiled(record, image, tile=64, overlap=16)
    assert max(shape[0] for shape in seen) == 64 and max(shape[1] for shape in seen) == 64
    np.testing.assert_allclose(result, image * 2, rtol=1e-6)


def traced_peak(function):
    """The peak of the memory Python and numpy allocate while `function` runs, in bytes."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_restoring_in_place_rounds_the_result_in_memory_that_does_not_grow_with_the_image(restorer):
    short = np.round(random_image(256, 256) * 255).astype(np.uint8)
    tall = np.round(random_image(2048, 256, seed=1) * 255).astype(np.uint8)
    expected = np.round(np.clip(restorer(tall / np.float32(255)), 0, 1) * 255)
    growth = traced_peak(lambda: restorer.restore_in_place(tall)) - traced_peak(lambda: restorer.restore_in_place(short))
    np.testing.assert_array_equal(tall, expected)
    float_copy = (tall.size - short.size) * 4  # of the extra rows
    assert growth < float_copy / 20, f"{growth} bytes more for the tall image; a float32 copy of its extra rows is {float_copy}"


def test_a_stop_request_ends_restoring_in_place_at_the_next_row_of_tiles(restorer, monkeypatch):
    from hinet_tf.inference import tiling
    from hinet_tf.utils import atomic

    restored_rows, rows = tiling.restored_rows, []

    def rows_then_a_stop_request(*args):  # a Ctrl-C swallowed while the first row of tiles was restored
        for top, band in restored_rows(*args):
            rows.append(top)
            atomic.request_stop()
            yield top, band

    monkeypatch.setattr(tiling, "restored_rows", rows_then_a_stop_request)
    image = np.zeros((256, 64, 3), np.uint8)
    try:
        with pytest.raises(KeyboardInterrupt):
            restorer.restore_in_place(image)
    finally:
        atomic.request_stop(False)
    assert rows == [0]  # the first of the image's rows of tiles only


def official_grid_starts(size, crop):
    """The tile starts along one axis of the official `grids()` (BasicSR's ImageRestorationModel)."""
    count = (size - 1) // crop + 1
    step = crop if count == 1 else math.ceil((size - crop) / (count - 1) - 1e-8)
    starts, start, last = [], 0, False
    while start < size and not last:
        if start + crop >= size:
            start, last = size - crop, True
        starts.append(start)
        start += step
    return starts


def test_tile_grid_is_the_official_one_without_overlap():
    assert len(tiling.tile_starts(720, 256, 0)) * len(tiling.tile_starts(1280, 256, 0)) == 15
    for size in [256, 257, 300, 321, 481, 511, 512, 513, 600, 720, 767, 1000, 1280, 2047]:
        assert tiling.tile_starts(size, 256, 0) == official_grid_starts(size, 256), size
    starts = tiling.tile_starts(1000, 256, 32)
    assert starts[0] == 0 and starts[-1] == 1000 - 256
    assert all(256 - (b - a) >= 32 for a, b in zip(starts, starts[1:]))
    assert tiling.tile_starts(100, 256, 32) == [0]


def test_tiles_lie_on_the_unpadded_image_at_the_official_positions(tiny_model):
    """A 70 x 83 image in 32-pixel tiles, averaged as the official evaluation: neither side is a multiple of 16."""
    image = random_image(70, 83)
    restored = Restorer(tiny_model, tile=32, overlap=0, grid="official")(image)
    total, count = np.zeros_like(image), np.zeros(image.shape[:2] + (1,), np.float32)
    for top in official_grid_starts(70, 32):
        for left in official_grid_starts(83, 32):
            tile = image[top : top + 32, left : left + 32]
            total[top : top + 32, left : left + 32] += tiny_model(tile[None])[-1][0].numpy()
            count[top : top + 32, left : left + 32] += 1
    np.testing.assert_allclose(restored, total / count, atol=1e-5)


def test_aligned_tiles_start_on_the_multiple_and_keep_the_overlap():
    for size in [100, 256, 257, 300, 321, 481, 511, 512, 513, 720, 1000, 3024, 4032]:
        starts = tiling.tile_starts(size, 256, 32, multiple=16)
        assert starts[0] == 0 and all(start % 16 == 0 for start in starts), size
        assert size <= starts[-1] + 256 < size + 16 or starts == [0], size
        assert all(0 < b - a <= 256 - 32 for a, b in zip(starts, starts[1:])), size
    assert tiling.tile_starts(4032, 256, 32, multiple=16)[:3] == [0, 208, 432]  # the official grid: 0, 223, 446
    assert tiling.tile_starts(100, 32, 16, multiple=16) == [0, 16, 32, 48, 64, 80]  # the largest overlap on 16
    with pytest.raises(ValueError, match=r"The overlap \(24\) must be at most 16, the tile \(32\) minus the size multiple \(16\)"):
        tiling.tile_starts(100, 32, 24, multiple=16)  # tiles 8 apart would be off the multiple


def test_aligned_tiles_meet_the_image_at_the_phase_of_the_whole_image():
    def marks_its_own_grid(window):  # as a network that learnt where a camera's JPEG blocks lie
        rows, columns = np.ogrid[: window.shape[0], : window.shape[1]]
        return window + ((rows % 16 == 0) & (columns % 16 == 0))[..., None]

    image = random_image(333, 517)
    aligned = tiling.restore_tiled(marks_its_own_grid, image, 128, 32, multiple=16, blend="interior")
    np.testing.assert_allclose(aligned, marks_its_own_grid(image), atol=1e-6)
    official = tiling.restore_tiled(marks_its_own_grid, image, 128, 32)
    assert not np.allclose(official, marks_its_own_grid(image), atol=0.1)


def test_the_restorer_pads_the_last_aligned_tiles_so_the_model_sees_whole_tiles_only(tiny_model):
    restorer = Restorer(tiny_model, tile=64, overlap=16)
    seen, run_batch = [], restorer._run_batch
    restorer._run_batch = lambda tiles: seen.append(tiles.shape[1:3]) or run_batch(tiles)
    restored = restorer(random_image(100, 90))
    assert restored.shape == (100, 90, 3) and np.isfinite(restored).all()
    assert set(seen) == {(64, 64)} and len(seen) == 4  # starts 0 and 48 down (100 -> 112), 0 and 32 across (90 -> 96)


def tile_numbers():
    """A tile function that returns each tile filled with its number: 0, 1, 2, ..."""
    count = iter(range(1000))
    return lambda window: np.full(window.shape, next(count), np.float32)


def test_overlaps_are_averaged_or_taken_from_the_tile_that_holds_them_further_inside():
    image = np.zeros((64, 208, 1), np.float32)  # one row of tiles of 64 at 0, 48, 96, 144
    assert tiling.tile_starts(208, 64, 16) == [0, 48, 96, 144]
    average = tiling.restore_tiled(tile_numbers(), image, 64, 16, blend="average")
    interior = tiling.restore_tiled(tile_numbers(), image, 64, 16, blend="interior")
    # Columns 64-95 are in tile 1 only; 144-159 in tiles 2 and 3.
    assert np.all(average[:, 64:96] == 1) and np.all(interior[:, 64:96] == 1)
    np.testing.assert_allclose(average[:, 144:160], 2.5)
    # Column 159 is tile 2's edge inside the image, weight (1 / 33) ** 4, and 15 pixels inside
    # tile 3, weight (16 / 33) ** 4. Tile 3's last column is the image's: it takes weight 1.
    np.testing.assert_allclose(interior[:, 159], (2 + 3 * 16**4) / (1 + 16**4), rtol=1e-6)
    np.testing.assert_allclose(interior[:, -1], 3)
    # Across each overlap the result moves monotonically from one tile's number to the next.
    assert np.all(np.diff(interior[0, :, 0]) > -1e-6) and np.all(np.diff(interior[:, 0, 0]) == 0)


def test_interior_blending_is_closer_to_the_whole_image_for_a_model_that_errs_at_tile_edges():
    """A stand-in for a network that lacks context near a cut: its error falls with the distance to the tile's edge."""

    def errs_at_edges(window):
        rows, columns = np.arange(window.shape[0]), np.arange(window.shape[1])
        distance = np.minimum.outer(np.minimum(rows, rows[::-1]), np.minimum(columns, columns[::-1]))
        return window + (1 / (1 + distance) ** 2)[..., None]

    image = random_image(300, 300)
    inner = (slice(16, -16), slice(16, -16))  # away from the image's own border, which every blend shares
    error = {
        blend: np.abs(tiling.restore_tiled(errs_at_edges, image, 128, 32, blend=blend) - image)[inner].max()
        for blend in tiling.BLENDS
    }
    assert error["average"] > 0.4 and error["interior"] < error["average"] / 10, error


def test_same_function_for_every_tile_size(restorer):
    restorer(random_image(50, 70))
    restorer(random_image(20, 33))
    assert restorer.restore_tile.experimental_get_tracing_count() == 1


@pytest.fixture(scope="module")
def identity_tta_restorer(identity_like_model):
    return Restorer(identity_like_model, tile=64, tta=True)


def test_tta_of_an_identity_like_model_returns_the_input(identity_tta_restorer):
    image = random_image(45, 61)
    np.testing.assert_allclose(identity_tta_restorer(image), image, atol=1e-6)


def test_tta_averages_the_inverted_outputs_of_the_eight_transforms(tiny_model, restorer):
    image = random_image(32, 48)
    expected = np.mean(
        [
            dihedral.inverse_transform(restorer(dihedral.transform(image[None], index)[0].numpy())[None], index)[0]
            for index in range(dihedral.NUM_TRANSFORMS)
        ],
        axis=0,
    )
    with_tta = Restorer(tiny_model, tile=64, tta=True)(image)
    np.testing.assert_allclose(with_tta, expected, atol=1e-5)
    assert not np.allclose(with_tta, restorer(image), atol=1e-4)


def test_ensemble_averages_the_models(tiny_model, restorer):
    other = HINetBackbone(width=4)
    image = random_image(40, 40)
    single = [restorer(image), Restorer(other, tile=64)(image)]
    np.testing.assert_allclose(Restorer([tiny_model, other], tile=64)(image), np.mean(single, axis=0), atol=1e-6)


def test_grayscale_images_through_an_rgb_model(identity_tta_restorer):
    image = random_image(30, 20, channels=1)
    restored = identity_tta_restorer(image[..., 0])
    assert restored.shape == (30, 20)
    np.testing.assert_allclose(restored, image[..., 0], atol=1e-6)


def test_bad_settings_raise(tiny_model, restorer):
    with pytest.raises(ValueError, match="multiple of 16"):
        Restorer(tiny_model, tile=100)
    with pytest.raises(ValueError, match="overlap"):
        Restorer(tiny_model, tile=64, overlap=64)
    with pytest.raises(ValueError, match="Unknown grid 'even'; choose one of aligned, official"):
        Restorer(tiny_model, tile=64, grid="even")
    for tile in (None, 64.0):  # not a TypeError from the arithmetic
        with pytest.raises(ValueError, match=f"positive multiple of 16, got {tile!r}"):
            Restorer(tiny_model, tile=tile)
    with pytest.raises(ValueError, match="channels"):
        restorer(random_image(16, 16, channels=4))
    with pytest.raises(ValueError, match=r"one image \(height, width\[, channels\]\) at a time, got shape \(2, 16, 16, 3\)"):
        restorer(np.zeros((2, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="The image holds NaN or infinite values"):  # not blamed on the weights
        restorer(np.full((16, 16, 3), np.nan, np.float32))
    for array, kind in ((np.zeros((16, 16, 3), np.int16), "int16"), (np.zeros((16, 16, 3), np.float32), "float32")):
        with pytest.raises(ValueError, match=f"takes 8- or 16-bit samples, got {kind}"):
            restorer.restore_in_place(array)


def test_integer_samples_are_scaled_whether_restored_whole_or_in_place(restorer):
    image = random_image(24, 20, channels=1)[..., 0]
    samples = np.round(image * 65535).astype(np.uint16)  # 2-D, as a grey 16-bit photo decodes
    expected = restorer(samples / np.float32(65535))
    np.testing.assert_allclose(restorer(samples), expected, atol=1e-6)  # scaled to [0, 1], not fed as 0-65535
    restorer.restore_in_place(samples)
    np.testing.assert_array_equal(samples, np.round(np.clip(expected, 0, 1) * 65535))


@pytest.mark.parametrize("backend", ["keras", "onnx", "litert"])
def test_a_mixed_precision_model_restores_in_float32_on_the_cpu_backends(backend):
    keras.utils.set_random_seed(3)
    model = HINetBackbone(width=4, depth=2)
    mixed = HINetBackbone.from_config({**model.get_config(), "dtype": "mixed_float16"})
    mixed.set_weights(model.get_weights())
    restorer = Restorer(mixed, tile=16, overlap=4, backend=backend)  # onnxruntime and LiteRT have no float16 kernels
    on_gpu = backend == "keras" and tf.config.list_physical_devices("GPU")  # where float16 pays, it is kept
    assert [model.dtype_policy.compute_dtype for model in restorer.models] == ["float16" if on_gpu else "float32"]
    image = random_image(20, 24)
    np.testing.assert_allclose(restorer(image), Restorer(model, tile=16, overlap=4)(image), atol=1e-4)
    assert mixed.dtype_policy.name == "mixed_float16"  # the user's model is left as it was
