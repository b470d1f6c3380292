"""Calibration tiles of the integer LiteRT export: a seeded split, held-out photos, only the photos needed read."""

import numpy as np
import pytest

from hinet_tf.export.calibration import calibration_set


def photo(seed, height=40, width=56):
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


class Reader:
    """`read(name)` over a dict of photos, remembering which were read."""

    def __init__(self, photos):
        self.photos, self.read = photos, []

    def __call__(self, name):
        self.read.append(name)
        return self.photos[name]


def test_held_out_photos_give_no_calibration_tile_and_the_split_is_seeded():
    photos = {f"{index:02d}.png": photo(index) for index in range(10)}
    split = calibration_set(list(photos), Reader(photos), tile=16, count=12, measured=5)
    assert split.tiles.shape == (12, 16, 16, 3) and split.held_out.shape == (5, 16, 16, 3)
    assert len(split.held_out_names) == 2 and not set(split.held_out_names) & set(split.calibration_names)
    assert set(split.held_out_names) | set(split.calibration_names) == set(photos)
    # Every tile is a crop of a photo of its own side of the split.
    assert all(_is_crop_of(tile, [photos[name] for name in split.calibration_names]) for tile in split.tiles)
    assert all(_is_crop_of(tile, [photos[name] for name in split.held_out_names]) for tile in split.held_out)
    again = calibration_set(list(reversed(photos)), Reader(photos), tile=16, count=12, measured=5)
    assert again.held_out_names == split.held_out_names and np.array_equal(again.tiles, split.tiles)
    other = calibration_set(list(photos), Reader(photos), tile=16, count=12, measured=5, seed=1)
    assert not np.array_equal(other.tiles, split.tiles)


def test_only_the_photos_that_give_tiles_are_read():
    photos = {f"{index:03d}.png": photo(index, 20, 20) for index in range(100)}
    reader = Reader(photos)
    split = calibration_set(list(photos), reader, tile=16, count=4, measured=2)
    assert len(split.calibration_names) == 4 and len(split.held_out_names) == 2
    assert sorted(reader.read) == sorted(split.calibration_names + split.held_out_names)


def test_one_photo_is_measured_on_other_tiles_and_a_small_one_is_mirrored():
    photos = {"only.png": photo(0, 10, 12)}
    split = calibration_set(["only.png"], Reader(photos), tile=16, count=3, measured=2)
    assert split.held_out_names == () and split.calibration_names == ("only.png",)
    assert split.tiles.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(split.tiles[0][:10, :12], photos["only.png"])
    np.testing.assert_array_equal(split.tiles[0][10:, :12], photos["only.png"][::-1][:6])  # mirrored below
    assert "no image to hold out" in split.describe_held_out()


def test_bad_settings():
    with pytest.raises(ValueError, match="No calibration images"):
        calibration_set([], Reader({}), tile=16)
    with pytest.raises(ValueError, match="at least 1"):
        calibration_set(["a.png"], Reader({"a.png": photo(0)}), tile=16, count=0)


def _is_crop_of(tile, photos):
    size = tile.shape[0]
    return any(
        np.array_equal(tile, image[top : top + size, left : left + size])
        for image in photos
        for top in range(image.shape[0] - size + 1)
        for left in range(image.shape[1] - size + 1)
    )
