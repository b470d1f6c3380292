"""Image files: bit depths, channel layouts, formats, atomic writes and clear errors."""


import numpy as np
import PIL.Image
import PIL.ImageOps
import pytest
import tensorflow as tf
import tifffile

from hinet_tf.inference import Image
from hinet_tf.inference import ImageError
from hinet_tf.inference import read_image
from hinet_tf.inference import write_image
from hinet_tf.utils import atomic
from hinet_tf.utils import image_io

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
    def broken_encoder(array, icc_profile=None):
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


def test_cmyk_tiff_is_converted_to_rgb_as_pillow_converts_cmyk(tmp_path):
    inks = random_array((6, 7, 4), np.uint8)
    tifffile.imwrite(tmp_path / "cmyk.tif", inks, photometric="separated")
    image = read_image(tmp_path / "cmyk.tif")
    assert image.alpha is None  # K is an ink, not an alpha
    expected = np.asarray(PIL.Image.fromarray(inks, "CMYK").convert("RGB"))
    np.testing.assert_allclose(image.pixels * 255, expected, atol=1)


def test_cmyk_tiff_of_16_bits_keeps_its_alpha(tmp_path):
    inks = random_array((6, 7, 5), np.uint16)
    tifffile.imwrite(tmp_path / "cmyka.tif", inks, photometric="separated", extrasamples=["unassalpha"])
    image = read_image(tmp_path / "cmyka.tif")
    colours = inks[..., :3].astype(np.float64) / 65535
    black = inks[..., 3:4].astype(np.float64) / 65535
    np.testing.assert_allclose(image.pixels, (1 - colours) * (1 - black), atol=1e-4)
    np.testing.assert_array_equal(np.round(image.alpha[..., 0] * 65535), inks[..., 4])
    assert image.bit_depth == 16


@pytest.mark.parametrize("scale", [257, 1])  # the standard's 16-bit colours, and 8-bit ones as some writers store
def test_palette_tiff_is_read_through_its_colormap(tmp_path, scale):
    palette = random_array((256, 3), np.uint8)
    indices = random_array((5, 9), np.uint8, seed=1)
    colormap = palette.T.astype(np.uint16) * scale
    tifffile.imwrite(tmp_path / "palette.tif", indices, photometric="palette", colormap=colormap)
    image = read_image(tmp_path / "palette.tif")
    assert image.pixels.shape == (5, 9, 3) and image.bit_depth == 8
    np.testing.assert_array_equal(np.round(image.pixels * 255), palette[indices])


def test_min_is_white_tiff_is_inverted(tmp_path):
    values = random_array((5, 9), np.uint16)
    tifffile.imwrite(tmp_path / "white.tif", values, photometric="miniswhite")
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "white.tif").pixels[..., 0] * 65535), 65535 - values)
    bilevel = random_array((5, 16), np.uint8) > 127  # 1 bit per sample: 1 is black
    tifffile.imwrite(tmp_path / "fax.tif", bilevel, photometric="miniswhite")
    expected = np.asarray(PIL.Image.open(tmp_path / "fax.tif").convert("L"))
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "fax.tif").pixels[..., 0] * 255), expected)


def test_tiff_colours_it_cannot_map_are_refused_by_name(tmp_path):
    path = tmp_path / "lab.tif"
    tifffile.imwrite(path, random_array((5, 9, 3), np.uint8), photometric="cielab")
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert str(error.value).startswith(f"{path}: TIFF of photometric interpretation CIELAB")


@pytest.mark.parametrize("compression", ["tiff_lzw", "tiff_adobe_deflate", "jpeg"])
def test_compressed_tiffs_are_read_as_pillow_reads_them(tmp_path, compression):
    path = tmp_path / f"{compression}.tif"
    PIL.Image.fromarray(random_array((12, 16, 3), np.uint8)).save(path, compression=compression)
    expected = np.asarray(PIL.Image.open(path).convert("RGB"))  # a JPEG TIFF holds YCbCr
    np.testing.assert_array_equal(np.round(read_image(path).pixels * 255), expected)


def test_a_compressed_tiff_without_imagecodecs_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "lzw.tif"
    PIL.Image.fromarray(random_array((12, 16, 3), np.uint8)).save(path, compression="tiff_lzw")

    def without_imagecodecs(page, *args, **kwargs):  # what tifffile raises when imagecodecs is not installed
        raise ValueError(f"{page.compression!r} requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", without_imagecodecs)
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert str(error.value) == f"{path}: its compression (LZW) needs imagecodecs: pip install 'hinet-tf[tiff]'"


def test_tiff_orientation_is_applied(tmp_path):
    array = random_array((4, 6, 3), np.uint8)
    tifffile.imwrite(tmp_path / "turned.tif", array, photometric="rgb", extratags=[(274, "H", 1, 6, False)])
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "turned.tif").pixels * 255), np.rot90(array, -1))


@pytest.mark.parametrize("suffix", [".bmp", ".webp"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_bmp_and_webp_round_trip(tmp_path, suffix, channels):
    array = random_array((13, 21, channels), np.uint8)
    image = Image(array[..., :3] / 255, array[..., 3:] / 255 if channels == 4 else None)
    path = tmp_path / f"image{suffix}"
    if suffix == ".bmp" and channels == 4:
        with pytest.raises(ImageError, match="BMP cannot store the alpha channel"):
            write_image(path, image)
        return
    write_image(path, image)
    back = read_image(path)
    colours = array[..., :3] if suffix == ".bmp" or channels > 1 else np.repeat(array[..., :1], 3, axis=-1)
    np.testing.assert_array_equal(np.round(back.pixels * 255), colours)  # lossless; WebP stores grey as RGB
    assert (back.alpha is None) == (channels < 4)


def test_16_bit_images_go_to_8_bit_formats_rounded(tmp_path):
    array = random_array((5, 6, 3), np.uint16)
    write_image(tmp_path / "deep.bmp", Image(array / 65535, bit_depth=16))
    back = read_image(tmp_path / "deep.bmp")
    assert back.bit_depth == 8
    np.testing.assert_array_equal(np.round(back.pixels * 255), np.round(array / 65535 * 255))


def test_an_animated_webp_is_refused(tmp_path):
    frames = [PIL.Image.fromarray(random_array((8, 8, 3), np.uint8, seed)) for seed in range(2)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="an animated WebP of 2 frames"):
        read_image(tmp_path / "anim.webp")


def srgb_profile():
    import PIL.ImageCms

    return PIL.ImageCms.ImageCmsProfile(PIL.ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("source", [".png", ".jpg", ".tif", ".webp"])
@pytest.mark.parametrize("target", [".png", ".jpg", ".tif", ".webp"])
def test_the_icc_profile_goes_from_input_to_output(tmp_path, source, target):
    profile = srgb_profile()
    array = random_array((8, 9, 3), np.uint8)
    if source == ".tif":
        tifffile.imwrite(tmp_path / "in.tif", array, photometric="rgb", iccprofile=profile)
    else:
        PIL.Image.fromarray(array).save(tmp_path / f"in{source}", icc_profile=profile)
    image = read_image(tmp_path / f"in{source}")
    assert image.icc_profile == profile
    write_image(tmp_path / f"out{target}", image)
    with PIL.Image.open(tmp_path / f"out{target}") as written:
        assert written.info.get("icc_profile") == profile
    assert read_image(tmp_path / f"out{target}").icc_profile == profile


def test_a_profile_of_other_colours_is_not_carried(tmp_path):
    cmyk_profile = bytes(16) + b"CMYK" + bytes(108)  # only the header's colour space matters here
    PIL.Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "print.jpg", icc_profile=cmyk_profile)
    image = read_image(tmp_path / "print.jpg")
    assert image.pixels.shape == (8, 8, 3) and image.icc_profile is None
    grey = Image(np.zeros((4, 4, 1), np.float32), icc_profile=srgb_profile())  # an RGB profile on a grey image
    write_image(tmp_path / "grey.png", grey)
    with PIL.Image.open(tmp_path / "grey.png") as written:
        assert "icc_profile" not in written.info


def test_a_folder_lists_its_images_and_the_files_it_skips(tmp_path):
    for name in ("a.png", "b.BMP", "c.webp", "sub/d.tiff", "e.gif", "notes.txt", "f.heic", ".hidden.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    images, skipped = image_io.list_images(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in images] == ["a.png", "b.BMP", "c.webp", "e.gif", "sub/d.tiff"]
    assert [path.name for path in skipped] == ["f.heic", "notes.txt"]


def test_png_exif_orientation_is_applied(tmp_path):
    exif = PIL.Image.Exif()
    exif[0x0112] = 8  # "rotate 90 degrees counter-clockwise to display"
    array = random_array((4, 6, 3), np.uint8)
    PIL.Image.fromarray(array).save(tmp_path / "turned.png", exif=exif)
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "turned.png").pixels * 255), np.rot90(array, 1))


def test_planar_tiff_is_read_channels_last(tmp_path):
    array = random_array((3, 5, 7), np.uint16)  # (channels, height, width) storage
    tifffile.imwrite(tmp_path / "planar.tif", array, photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(stored(read_image(tmp_path / "planar.tif")), np.moveaxis(array, 0, -1))


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"subsampling": 0}, {"mode": "L"}, {"orientation": 6}])
def test_jpeg_decoded_in_strips_gives_pillow_s_samples(tmp_path, monkeypatch, options):
    options = dict(options)
    array = random_array((70, 45, 3), np.uint8) // 2 + np.arange(45, dtype=np.uint8)[:, None]
    picture = PIL.Image.fromarray(array).convert(options.pop("mode", "RGB"))
    exif = PIL.Image.Exif()
    exif[image_io.EXIF_ORIENTATION] = options.pop("orientation", 1)
    picture.save(tmp_path / "photo.jpg", quality=90, exif=exif, **options)
    monkeypatch.setattr(image_io, "JPEG_STRIP_BYTES", 45 * 3 * 9)  # strips of 9 rows, or 27 for grey
    stored = image_io.read_stored(tmp_path / "photo.jpg")
    with PIL.Image.open(tmp_path / "photo.jpg") as file:
        expected = np.asarray(PIL.ImageOps.exif_transpose(file))
    np.testing.assert_array_equal(stored.samples, expected.reshape(stored.samples.shape))


def test_a_profile_longer_than_a_jpeg_segment_is_split_and_read_back_whole(tmp_path):
    profile = srgb_profile() + bytes(range(256)) * 600  # 153,600 bytes more: three APP2 segments
    image = Image(random_array((8, 9, 3), np.uint8) / np.float32(255), icc_profile=profile)
    write_image(tmp_path / "out.jpg", image)
    with PIL.Image.open(tmp_path / "out.jpg") as written:
        assert written.info.get("icc_profile") == profile
    assert read_image(tmp_path / "out.jpg").icc_profile == profile


def test_damaged_jpeg_data_is_named_in_one_line(tmp_path):
    path = tmp_path / "photo.jpg"
    PIL.Image.fromarray(random_array((64, 64, 3), np.uint8)).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header is whole, the scan is cut
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert str(error.value).startswith(f"{path}: cannot decode the JPEG data, the file is damaged (")
    assert "\n" not in str(error.value) and "{{" not in str(error.value)
