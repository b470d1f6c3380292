"""The camera noise model: each step of unprocess / raw noise / process, and the degradation built from a config."""

import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.data import camera_noise
from hinet_tf.data import synthetic
from hinet_tf.training import config as config_lib


def _blocks(size=64, block=8, seed=0):
    """A test image of flat colour blocks (every sRGB value from 0 to 1 drawn)."""
    colours = np.random.default_rng(seed).uniform(0, 1, (size // block, size // block, 3)).astype(np.float32)
    return np.repeat(np.repeat(colours, block, 0), block, 1)


def _away_from_block_edges(size=64, block=8, margin=2):
    keep = np.ones((size, size), bool)
    for edge in range(0, size, block):
        keep[max(edge - margin, 0) : edge + margin] = False
        keep[:, max(edge - margin, 0) : edge + margin] = False
    return keep


def _correlation(first, second):
    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


def test_tone_curve_and_gamma_steps_invert_each_other():
    values = tf.linspace(0.0, 1.0, 1001)
    np.testing.assert_allclose(camera_noise.smoothstep(camera_noise.inverse_smoothstep(values)), values, atol=1e-6)
    gamma = camera_noise.gamma_compression(camera_noise.gamma_expansion(values)).numpy()
    np.testing.assert_allclose(gamma[10:], values[10:], atol=1e-6)
    assert gamma[0] < 0.1 / 255  # black: the 1e-8 floor of linear light, far below one 8-bit level
    # An S curve: shadows darker, highlights brighter.
    assert camera_noise.smoothstep(0.25) < 0.25 < camera_noise.inverse_smoothstep(tf.constant(0.25))
    assert camera_noise.smoothstep(0.75) > 0.75


def test_colour_matrix_is_a_random_mix_whose_rows_sum_to_one():
    first, second = camera_noise.random_rgb_to_camera(), camera_noise.random_rgb_to_camera()
    np.testing.assert_allclose(tf.reduce_sum(first, axis=-1), 1.0, atol=1e-6)  # grey stays grey
    assert np.abs(first - second).max() > 1e-3
    # Each camera's own matrix is one end of the mix: the mix lies between them.
    single = [np.array(m) @ np.array(camera_noise.SRGB_TO_XYZ) for m in camera_noise.XYZ_TO_CAMERA]
    single = [m / m.sum(axis=-1, keepdims=True) for m in single]
    assert np.all(np.min(single, axis=0) - 1e-6 <= first.numpy())
    assert np.all(first.numpy() <= np.max(single, axis=0) + 1e-6)


def test_inverse_gains_divide_except_near_white():
    brightness, red, blue = tf.constant(1.25), tf.constant(2.0), tf.constant(1.6)
    image = tf.constant([[[0.2, 0.4, 0.3], [0.9, 0.9, 0.9], [0.95, 0.95, 0.95], [1.0, 1.0, 1.0]]])
    inverted = camera_noise.safe_invert_gains(image, brightness, red, blue).numpy()[0]
    divided = image.numpy()[0] / np.array([2.0 * 1.25, 1.25, 1.6 * 1.25])
    np.testing.assert_allclose(inverted[:2], divided[:2], rtol=1e-6)  # grey up to 0.9: the plain inverse
    assert np.all(inverted[2] > divided[2]) and np.all(inverted[2] < image.numpy()[0, 2])  # fading
    np.testing.assert_allclose(inverted[3], 1.0, rtol=1e-6)  # white stays white


def test_bayer_mosaic_is_rggb_and_bilinear_demosaicing_keeps_the_samples():
    image = tf.random.uniform((6, 8, 3))
    raw = camera_noise.mosaic(image).numpy()
    assert raw.shape == (3, 4, 4)
    np.testing.assert_array_equal(raw[..., 0], image[0::2, 0::2, 0])
    np.testing.assert_array_equal(raw[..., 1], image[0::2, 1::2, 1])
    np.testing.assert_array_equal(raw[..., 2], image[1::2, 0::2, 1])
    np.testing.assert_array_equal(raw[..., 3], image[1::2, 1::2, 2])
    rgb = camera_noise.demosaic(raw)
    assert rgb.shape == (6, 8, 3)
    np.testing.assert_allclose(camera_noise.mosaic(rgb), raw, atol=1e-6)
    # A flat colour comes back everywhere, borders included.
    flat = tf.ones((6, 8, 3)) * tf.constant([0.2, 0.5, 0.7])
    np.testing.assert_allclose(camera_noise.demosaic(camera_noise.mosaic(flat)), flat, atol=1e-6)


def test_unprocess_then_process_without_noise_returns_the_image():
    image = tf.constant(_blocks())
    keep = _away_from_block_edges()
    for _ in range(3):
        camera = camera_noise.random_camera()
        raw = camera_noise.unprocess(image, **camera)
        assert raw.shape == (32, 32, 4)
        restored = camera_noise.process(raw, **camera).numpy()
        error = np.abs(restored - image.numpy())
        # Exact (float32 rounding) where the 3x3 bilinear demosaicing sees one colour; only the
        # pixels next to a colour edge differ, by the demosaicing error.
        assert error[keep].max() < 1e-5
        assert error[~keep].max() > 0.01
    # Highlights above the grey 0.9 of linear light are not dimmed: they come back brighter, up to white.
    highlight = tf.fill((8, 8, 3), 0.97)
    restored = camera_noise.process(camera_noise.unprocess(highlight, **camera), **camera).numpy()
    assert restored.min() >= 0.97 - 1e-5
    white = tf.ones((8, 8, 3))
    np.testing.assert_allclose(camera_noise.process(camera_noise.unprocess(white, **camera), **camera), 1.0, atol=1e-5)


def test_raw_noise_variance_grows_linearly_with_intensity():
    shot, read = 4e-3, 1e-3
    levels = np.linspace(0.0, 0.95, 8)
    variances = []
    for level in levels:
        flat = tf.fill((200, 200, 4), float(level))
        variances.append(float(tf.math.reduce_variance(camera_noise.add_raw_noise(flat, shot, read) - flat)))
    slope, intercept = np.polyfit(levels, variances, 1)
    assert slope == pytest.approx(shot, rel=0.05)
    assert intercept == pytest.approx(read, rel=0.1)
    residuals = np.array(variances) - (slope * levels + intercept)
    assert np.abs(residuals).max() < 0.05 * max(variances)  # a line, not a curve


def test_noise_levels_follow_the_published_shot_read_relation():
    shot, read = (values.numpy().astype(np.float64) for values in camera_noise.random_noise_levels((4000,)))
    low, high = camera_noise.SHOT_NOISE_RANGE
    assert low <= shot.min() and shot.max() <= high
    assert np.median(np.log(shot)) == pytest.approx((np.log(low) + np.log(high)) / 2, abs=0.2)  # log-uniform
    slope, intercept = np.polyfit(np.log(shot), np.log(read), 1)
    assert slope == pytest.approx(2.18, abs=0.05) and intercept == pytest.approx(1.20, abs=0.25)
    assert np.std(np.log(read) - 2.18 * np.log(shot) - 1.20) == pytest.approx(0.26, abs=0.02)


def test_noise_after_demosaicing_is_correlated_between_neighbours_and_channels():
    flat = tf.fill((128, 128, 3), 0.4)
    camera = camera_noise.random_camera()
    raw = camera_noise.unprocess(flat, **camera)
    clean = camera_noise.process(raw, **camera)
    noise = (camera_noise.process(camera_noise.add_raw_noise(raw, 2e-3, 1e-4), **camera) - clean).numpy()
    white = tf.random.normal(noise.shape).numpy()

    def correlations(values):
        # Neighbours: the horizontal and vertical ones. Channels: red with green and green with blue,
        # whose sign depends on the colour matrix (its inverse has negative terms).
        return (
            _correlation(values[:, :-1], values[:, 1:]),
            _correlation(values[:-1], values[1:]),
            abs(_correlation(values[..., 0], values[..., 1])),
            abs(_correlation(values[..., 1], values[..., 2])),
        )

    neighbours, channels = np.split(np.array(correlations(noise)), 2)
    assert neighbours.min() > 0.4 and channels.min() > 0.15  # over 30 random cameras: >= 0.59 and >= 0.25
    assert max(np.abs(correlations(white))) < 0.05


def test_camera_noise_is_zero_mean_where_the_pipeline_itself_is_biased():
    tf.random.set_seed(0)
    flat = tf.fill((256, 256, 3), 0.2)
    camera = camera_noise.random_camera()
    raw = camera_noise.unprocess(flat, **camera)
    noisy_raw = camera_noise.add_raw_noise(raw, 1e-2, 1e-4)
    plus, minus, clean = (camera_noise.process(x, **camera).numpy() for x in (noisy_raw, 2 * raw - noisy_raw, raw))
    bias = (0.5 * (plus + minus) - clean).mean(axis=(0, 1)) * 255  # the noise's even part: gamma and clipping
    assert bias.min() < -1
    noisy = camera_noise.camera_noise(flat, shot_range=(1e-2, 1.0001e-2), jpeg_quality=None, noise_reduction=False)
    assert np.abs((noisy - flat).numpy().mean(axis=(0, 1)) * 255).max() < 1


def test_jpeg_keeps_every_channel_s_mean_as_photo_software_decodes_it():
    image = tf.constant(_smooth_colours())
    decoded = camera_noise.jpeg(image, tf.constant(90)).numpy()
    assert decoded.shape == image.shape and np.abs(decoded - image.numpy()).max() < 0.1
    bias = (decoded - image.numpy()).mean(axis=(0, 1)) * 255
    assert np.abs(bias).max() < 0.2, f"per-channel bias {bias} levels"  # the fast IDCT's: about -1.2 in red and blue
    grey = camera_noise.jpeg(image[..., :1], tf.constant(90))
    assert grey.shape == (64, 64, 1)


def _smooth_colours(size=64):
    y, x = np.mgrid[0:size, 0:size] / size
    return np.stack([0.2 + 0.6 * x, 0.5 + 0.3 * np.sin(6 * y), 0.8 - 0.5 * x * y], axis=-1).astype(np.float32)


def test_gaussian_smoothing_keeps_flat_images_and_fits_small_ones():
    flat = tf.fill((5, 7, 2), 0.3)
    np.testing.assert_allclose(camera_noise.gaussian_smooth(flat, 3.0).numpy(), 0.3, atol=1e-6)  # radius clamped to 4
    impulse = np.zeros((21, 21, 1), np.float32)
    impulse[10, 10] = 1
    blurred = camera_noise.gaussian_smooth(tf.constant(impulse), 1.0).numpy()[..., 0]
    assert blurred.sum() == pytest.approx(1, abs=1e-5) and blurred[10, 11] / blurred[10, 10] == pytest.approx(np.exp(-0.5))
    np.testing.assert_allclose(camera_noise.gaussian_smooth(tf.constant(impulse), 0.0).numpy(), impulse, atol=1e-6)


def test_noise_reduction_smooths_the_noise_and_mutes_its_colour_as_a_camera_does():
    noise = tf.random.normal((96, 96, 3), stddev=0.02, seed=1)
    np.testing.assert_allclose(camera_noise.reduce_noise(noise, 0.0, 0.0, 1.0).numpy(), noise.numpy(), atol=1e-6)
    reduced = camera_noise.reduce_noise(noise, 0.8, 3.0, 0.3).numpy()
    ycbcr = reduced @ np.array(camera_noise.RGB_TO_YCBCR).T
    # White RGB noise has 35% of its power in luma; PolyU's camera residuals about 75%.
    assert ycbcr[..., 0].var() / ycbcr.var(axis=(0, 1)).sum() > 0.8
    assert _correlation(reduced[:, :-1], reduced[:, 1:]) > 0.5  # white: 0
    assert _correlation(reduced[..., 0], reduced[..., 1]) > 0.6 and _correlation(reduced[..., 1], reduced[..., 2]) > 0.6
    assert np.std(reduced) < 0.5 * np.std(noise.numpy())


def test_camera_noise_adds_the_pipelines_noise_but_not_its_demosaicing_blur():
    image = tf.constant(_blocks())
    camera = camera_noise.random_camera()
    roundtrip = camera_noise.process(camera_noise.unprocess(image, **camera), **camera).numpy()
    almost_clean = camera_noise.camera_noise(image, shot_range=(1e-6, 1.001e-6), jpeg_quality=None).numpy()
    assert np.abs(roundtrip - _blocks()).max() > 0.05  # bilinear demosaicing smears the block edges
    assert np.abs(almost_clean - _blocks()).max() < 0.02
    noisy = camera_noise.camera_noise(image, shot_range=(1e-2, 1.001e-2), jpeg_quality=None).numpy()
    assert np.std(noisy - _blocks()) > 0.02


def test_camera_degradation_from_a_config_runs_in_tf_data_on_any_size():
    config = config_lib.validate({"data": {"degradations": [{"type": "camera", "jpeg_quality": [85, 95]}]}})
    degrade = synthetic.build_degradation(config.data.degradations)
    images = tf.data.Dataset.from_tensor_slices(tf.constant(_blocks(32, 4)[None].repeat(2, 0)))
    for degraded in images.map(degrade):
        assert degraded.shape == (32, 32, 3) and degraded.dtype == tf.float32
        assert 0 <= degraded.numpy().min() and degraded.numpy().max() <= 1
        assert np.abs(degraded.numpy() - _blocks(32, 4)).mean() > 1e-3
        np.testing.assert_allclose(degraded.numpy() * 255, np.round(degraded.numpy() * 255), atol=1e-3)  # 8-bit JPEG
    odd = degrade(tf.constant(_blocks(32, 4)[:31, :29]))
    assert odd.shape == (31, 29, 3)


def test_camera_degradation_can_mix_in_unclipped_gaussian_noise():
    image = tf.fill((32, 32, 3), 0.98)
    always_gaussian = synthetic.build_degradation([{"type": "camera", "gaussian_probability": 1, "gaussian_sigma": 30}])
    noisy = always_gaussian(image).numpy()
    assert noisy.max() > 1 and np.std(noisy - 0.98) == pytest.approx(30 / 255, rel=0.1)
    never = synthetic.build_degradation([{"type": "camera", "jpeg_quality": None, "noise_reduction": None}])(image).numpy()
    assert never.max() <= 1


def block_phase(image):
    """The phase (mod 8) of the columns where the JPEG of a smooth ramp jumps most: where its blocks meet."""
    jumps = np.abs(np.diff(image.mean(axis=(0, 2))))
    return int(np.argmax([jumps[phase::8].mean() for phase in range(8)]))


def test_a_random_jpeg_grid_puts_the_blocks_anywhere_in_the_image():
    """Blocks start at the top-left corner ("fixed"), or 0-15 pixels off it ("random"), as in cropped photos."""
    tf.random.set_seed(3)
    columns = np.linspace(0.2, 0.8, 96, dtype=np.float32) ** 2  # smooth: each block's DCT rounds it to steps
    image = tf.constant(np.broadcast_to(columns[None, :, None], (64, 96, 3)).copy())
    settings = {"shot_range": (1e-6, 1.001e-6), "jpeg_quality": (20, 20), "noise_reduction": False}
    fixed = {block_phase(camera_noise.camera_noise(image, jpeg_grid="fixed", **settings).numpy()) for _ in range(4)}
    random = [block_phase(camera_noise.camera_noise(image, **settings).numpy()) for _ in range(12)]  # the default
    assert len(fixed) == 1 and len(set(random)) >= 4, random
    degraded = camera_noise.camera_noise(image[:5, :7], jpeg_grid="random", **settings)  # offsets fit a tiny image
    assert degraded.shape == (5, 7, 3)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"jpeg_quality": [98, 80]}, r"camera jpeg_quality must be a \[low, high\] range, got \[98, 80\]"),
        ({"jpeg_quality": 90}, r"camera jpeg_quality must be a \[low, high\] range, got 90"),
        ({"shot_noise": [0, 0.01]}, r"camera shot_noise must lie in \[1e-06, 1\]"),
        ({"gaussian_probability": 2}, r"camera gaussian_probability must lie in \[0, 1\]"),
        ({"gaussian_probability": [0, 1]}, r"camera gaussian_probability must be a number, got \[0, 1\]"),
        ({"probability": [0.5, 1]}, r"CameraNoise probability must be a number, got \[0.5, 1\]"),
        ({"jpeg_quality": [80.5, 98]}, r"camera jpeg_quality must be integers, got \[80.5, 98\]"),
        ({"shot_noise": ["low", 0.01]}, r"camera shot_noise must lie in \[1e-06, 1\], got \['low', 0.01\]"),
        (
            {"gaussian_probabilty": 0.5},
            r"\(camera\): unknown setting 'gaussian_probabilty'; known: shot_noise, jpeg_quality, jpeg_grid, noise_reduction, "
            r"gaussian_probability, gaussian_sigma, probability\.$",
        ),
        ({"jpeg_grid": "shifted"}, r"camera jpeg_grid must be one of fixed, random, got 'shifted'"),
        ({"noise_reduction": {"strength": [0, 1]}}, r"camera noise_reduction must map some of luma_sigma, chroma_sigma"),
        ({"noise_reduction": {"chroma_gain": [0, 2]}}, r"camera noise_reduction chroma_gain must lie in \[0, 1\]"),
        ({"noise_reduction": {"luma_sigma": 1}}, r"camera noise_reduction luma_sigma must be a \[low, high\] range"),
    ],
)
def test_bad_camera_settings_are_one_line_config_errors(spec, message):
    with pytest.raises(ValueError, match=r"^config key 'data.degradations' degradations\[0\].*" + message) as error:
        config_lib.validate({"data": {"degradations": [{"type": "camera", **spec}]}})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("kind", list(synthetic.DEGRADATIONS))
def test_every_degradation_names_an_unknown_setting_and_the_known_ones(kind):
    message = rf"^config key 'data.degradations' degradations\[0\] \({kind}\): unknown setting 'strenght'; known: "
    with pytest.raises(ValueError, match=message + r"[a-z_, ]*probability\.$"):
        config_lib.validate({"data": {"degradations": [{"type": kind, "strenght": 1}]}})


@pytest.mark.parametrize(
    "quality, message",
    [(90.5, r"must be an integer, got 90.5"), ([30, 95.0], r"must be integers, got \[30, 95.0\]")],
)
def test_jpeg_quality_must_be_an_integer(quality, message):
    with pytest.raises(ValueError, match=r"degradations\[0\]: jpeg quality " + message):
        config_lib.validate({"data": {"degradations": [{"type": "jpeg", "quality": quality}]}})
