"""Image files: bit depths, channel layouts, formats, atomic writes and clear errors."""


import numpy as np
import PIL.Image
import pytest
import tensorflow as tf
import tifffile

from hinet_tf.inference import Image
from hinet_tf.inference import image_io
from hinet_tf.inference import ImageError
from hinet_tf.inference import read_image
from hinet_tf.inference import write_image
from hinet_tf.utils import atomic

from helpers.images import png_header_only


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
        ("corrupt.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "cannot read the PNG header, the file is damaged"),
        ("text.png", b"hello, not an image", "not a PNG file$"),
        ("text.jpg", b"hello, not an image", "not a JPEG file$"),
        ("photo.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, r"not a JPEG file \(it holds PNG data\)$"),
        ("corrupt.jpg", b"\xff\xd8\xff\xe0 truncated", "cannot read the JPEG header, the file is damaged"),
        ("corrupt.tif", b"II*\x00garbage", r"no image data \(a damaged or empty TIFF\)"),
        ("notes.txt", b"hello", "unsupported format"),
        ("anim.gif", b"GIF89a" + b"\x00" * 20, "GIF is not supported"),
    ],
)
def test_bad_files_raise_an_error_naming_them(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError, match=message) as error:
        read_image(path)
    assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)


def test_damaged_png_data_is_named_in_plain_words(tmp_path):
    path = tmp_path / "cut.png"
    data = tf.io.encode_png(random_array((20, 20, 3), np.uint8)).numpy()
    path.write_bytes(data[:60])  # a readable header, then the data stops
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert str(error.value) == f"{path}: cannot decode the PNG data, the file is damaged (Invalid PNG data, size 60)"


def test_images_above_the_pixel_limit_are_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(20000, 20000))
    message = f"{path}: 20000 x 20000 pixels is above the limit of 120,000,000 (--max-pixels raises it)"
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert str(error.value) == message
    assert image_io.read_header(path, max_pixels=400_000_000) == image_io.Header("PNG", 20000, 20000)
    big = tmp_path / "big.jpg"
    PIL.Image.new("RGB", (300, 200)).save(big)
    with pytest.raises(ImageError, match="300 x 200 pixels is above the limit of 59,999"):
        read_image(big, max_pixels=59_999)
    assert read_image(big, max_pixels=60_000).pixels.shape == (200, 300, 3)


def test_several_frames_are_refused_not_cut_to_the_first(tmp_path):
    frames = [PIL.Image.fromarray(random_array((16, 16, 3), np.uint8, seed)) for seed in range(3)]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    with tifffile.TiffWriter(tmp_path / "pages.tif") as file:
        for frame in frames:
            file.write(np.asarray(frame))
    with pytest.raises(ImageError, match="anim.png: an animated PNG of 3 frames; only single images"):
        read_image(tmp_path / "anim.png")
    with pytest.raises(ImageError, match="pages.tif: a multi-page TIFF of 3 frames; only single images"):
        read_image(tmp_path / "pages.tif")
    frames[0].save(tmp_path / "still.png")
    assert read_image(tmp_path / "still.png").pixels.shape == (16, 16, 3)


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


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    path = tmp_path / "locked.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    real_open = open

    def refusing_open(file, *arguments, **options):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *arguments, **options)

    monkeypatch.setattr("builtins.open", refusing_open)  # file modes do not stop root, who runs the CI
    with pytest.raises(ImageError) as error:
        image_io.read_header(path)
    assert str(error.value) == f"{path}: cannot read it (Permission denied)"
