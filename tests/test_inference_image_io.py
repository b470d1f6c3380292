"""Image files: bit depths, channel layouts, formats, atomic writes and clear errors."""

import numpy as np
import PIL.Image
import pytest

from hinet_tf.inference import Image
from hinet_tf.inference import image_io
from hinet_tf.inference import ImageError
from hinet_tf.inference import read_image
from hinet_tf.inference import write_image
from hinet_tf.utils import atomic


def random_array(shape, dtype, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def stored(image):
    """The integer array a file holds: colour channels then alpha."""
    peak = 2**image.bit_depth - 1
    channels = [image.pixels] + ([image.alpha] if image.alpha is not None else [])
    return np.round(np.concatenate(channels, axis=-1) * peak).astype(np.uint16)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lossless_round_trip(tmp_path, suffix, channels, dtype):
    array = random_array((13, 21, channels), dtype)
    image = Image(
        pixels=array[..., : 1 if channels <= 2 else 3].astype(np.float32) / np.iinfo(dtype).max,
        alpha=array[..., -1:].astype(np.float32) / np.iinfo(dtype).max if channels in (2, 4) else None,
        bit_depth=np.iinfo(dtype).bits,
    )
    path = tmp_path / f"image{suffix}"
    write_image(path, image)
    back = read_image(path)
    assert back.bit_depth == image.bit_depth
    assert back.pixels.shape == (13, 21, 1 if channels <= 2 else 3)
    assert (back.alpha is None) == (channels in (1, 3))
    np.testing.assert_array_equal(stored(back), array)


def test_reads_rgba_png_written_by_pillow_with_its_alpha(tmp_path):
    array = random_array((9, 11, 4), np.uint8)
    PIL.Image.fromarray(array, "RGBA").save(tmp_path / "rgba.png")
    image = read_image(tmp_path / "rgba.png")
    np.testing.assert_array_equal(np.round(image.alpha[..., 0] * 255), array[..., 3])


def test_jpeg_is_read_as_8_bit_and_written_back(tmp_path):
    array = random_array((16, 24, 3), np.uint8) // 4 + 100
    PIL.Image.fromarray(array).save(tmp_path / "photo.jpg", quality=100)
    image = read_image(tmp_path / "photo.jpg")
    assert image.bit_depth == 8 and image.pixels.shape == (16, 24, 3)
    np.testing.assert_array_equal(np.round(image.pixels * 255), np.asarray(PIL.Image.open(tmp_path / "photo.jpg")))
    write_image(tmp_path / "copy.jpeg", image)
    assert read_image(tmp_path / "copy.jpeg").pixels.shape == (16, 24, 3)


def test_jpeg_cannot_take_alpha(tmp_path):
    image = Image(np.zeros((4, 4, 3), np.float32), alpha=np.ones((4, 4, 1), np.float32))
    with pytest.raises(ImageError, match="alpha"):
        write_image(tmp_path / "out.jpg", image)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty"),
        ("corrupt.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "cannot decode"),
        ("text.png", b"hello, not an image", "not a PNG"),
        ("corrupt.jpg", b"\xff\xd8\xff\xe0 truncated", "cannot decode"),
        ("corrupt.tif", b"II*\x00garbage", "no image data"),
        ("notes.txt", b"hello", "unsupported format"),
    ],
)
def test_bad_files_raise_an_error_naming_them(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError, match=message) as error:
        read_image(path)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "missing.png")


def test_existing_output_is_kept_without_overwrite(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    image = Image(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageError, match="--overwrite"):
        write_image(path, image)
    assert path.read_bytes() == b"precious"
    write_image(path, image, overwrite=True)
    assert read_image(path).pixels.shape == (4, 4, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o666 & ~atomic.current_umask()  # not private like a temporary file


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken_encoder(array):
        raise OSError("disk full")

    monkeypatch.setattr(image_io, "_encode_png", broken_encoder)
    with pytest.raises(OSError):
        write_image(tmp_path / "out.png", Image(np.zeros((4, 4, 3), np.float32)))
    assert list(tmp_path.iterdir()) == []


def test_jpeg_exif_orientation_is_applied(tmp_path):
    exif = PIL.Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    PIL.Image.fromarray(np.zeros((10, 30, 3), np.uint8)).save(tmp_path / "phone.jpg", exif=exif)
    assert read_image(tmp_path / "phone.jpg").pixels.shape == (30, 10, 3)
