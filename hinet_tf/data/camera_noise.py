"""Real camera noise for clean sRGB photos: unprocess to raw, add sensor noise, process again.

The camera pipeline run backwards (`unprocess`) and forwards (`process`) after Brooks et al.,
"Unprocessing images for learned raw denoising" (CVPR 2019), with their published parameters.
`camera_noise` chains it all: a random camera, sensor noise, the camera's own noise reduction and
JPEG. Every function is TensorFlow ops on one float32 (H, W, 3) image in [0, 1] (even H and W for
the mosaic), so it runs inside `tf.data`; random draws use TensorFlow's global seed, as the other
degradations (`hinet_tf.data.synthetic`).

Without noise, `process(unprocess(x))` returns `x` up to bilinear demosaicing, except where the
linear grey exceeds 0.9 (sRGB above about 0.95): there the gains were not fully inverted, so those
highlights come back brighter, up to white, as a camera's clipped highlights.
"""

import math

import tensorflow as tf

# XYZ -> camera matrices (rows) of four cameras, as published by Brooks et al.
XYZ_TO_CAMERA = (
    ((1.0234, -0.2969, -0.2266), (-0.5625, 1.6328, -0.0469), (-0.0703, 0.2188, 0.6406)),
    ((0.4913, -0.0541, -0.0202), (-0.613, 1.3513, 0.2906), (-0.1564, 0.2151, 0.7183)),
    ((0.838, -0.263, -0.0639), (-0.2887, 1.0725, 0.2496), (-0.0627, 0.1427, 0.5438)),
    ((0.6596, -0.2079, -0.0562), (-0.4782, 1.3016, 0.1933), (-0.097, 0.1581, 0.5181)),
)
# Linear sRGB -> XYZ, D65 white.
SRGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
SHOT_NOISE_RANGE = (1e-4, 1.2e-2)
# log(read) = READ_SLOPE * log(shot) + READ_INTERCEPT + N(0, READ_SPREAD), natural logarithms.
READ_SLOPE, READ_INTERCEPT, READ_SPREAD = 2.18, 1.20, 0.26
JPEG_QUALITY_RANGE = (80, 98)
JPEG_GRIDS = ("fixed", "random")
# The camera's noise reduction, each drawn uniformly: luma and chroma Gaussian sigmas (pixels), chroma gain.
NOISE_REDUCTION = {"luma_sigma": (0.0, 1.0), "chroma_sigma": (0.0, 3.0), "chroma_gain": (0.25, 1.0)}
# Full-range BT.601 RGB -> Y'CbCr (rows).
RGB_TO_YCBCR = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
HIGHLIGHT_GREY = 0.9  # the linear grey above which inverse gains fade to 1
_GAMMA = 2.2
_EPSILON = 1e-8


def smoothstep(image):
    """The global tone curve `3x^2 - 2x^3`."""
    return 3.0 * tf.square(image) - 2.0 * image**3


def inverse_smoothstep(image):
    """The inverse of `smoothstep` on [0, 1]: `0.5 - sin(asin(1 - 2x) / 3)`."""
    image = tf.clip_by_value(image, 0.0, 1.0)
    return 0.5 - tf.sin(tf.asin(1.0 - 2.0 * image) / 3.0)


def gamma_expansion(image):
    """sRGB-like gamma to linear light: `max(x, 1e-8) ** 2.2`."""
    return tf.maximum(image, _EPSILON) ** _GAMMA


def gamma_compression(image):
    """Linear light to gamma: `max(x, 1e-8) ** (1 / 2.2)`."""
    return tf.maximum(image, _EPSILON) ** (1.0 / _GAMMA)


def apply_color_matrix(image, matrix):
    """Each pixel's colour vector times the 3x3 `matrix`: `matrix @ rgb`."""
    return tf.tensordot(image, matrix, axes=[[-1], [-1]])


def random_rgb_to_camera():
    """A random RGB->camera matrix: a convex mix of `XYZ_TO_CAMERA` times `SRGB_TO_XYZ`, rows summing to 1."""
    weights = tf.random.uniform([len(XYZ_TO_CAMERA), 1, 1], _EPSILON, 1.0)
    xyz_to_camera = tf.reduce_sum(tf.constant(XYZ_TO_CAMERA) * weights, axis=0) / tf.reduce_sum(weights)
    rgb_to_camera = tf.matmul(xyz_to_camera, tf.constant(SRGB_TO_XYZ))
    return rgb_to_camera / tf.reduce_sum(rgb_to_camera, axis=-1, keepdims=True)


def random_camera():
    """The parameters of `unprocess` and `process` for one image, drawn at random.

    The gains: brightness `1 / N(0.8, 0.1)`, red `U(1.9, 2.4)`, blue `U(1.5, 1.9)`.
    """
    brightness = 1.0 / tf.random.normal([], 0.8, 0.1)
    red, blue = tf.random.uniform([], 1.9, 2.4), tf.random.uniform([], 1.5, 1.9)
    return {"rgb_to_camera": random_rgb_to_camera(), "brightness": brightness, "red": red, "blue": blue}


def _channel_gains(brightness, red, blue):
    return tf.stack([red, 1.0, blue]) * brightness


def safe_invert_gains(image, brightness, red, blue):
    """Divides by the gains, fading the division out (never below it) where the grey exceeds 0.9.

    Dividing a saturated highlight would make it a grey that no sensor clips; instead, white
    stays white.
    """
    inverse = 1.0 / _channel_gains(brightness, red, blue)
    grey = tf.reduce_mean(image, axis=-1, keepdims=True)
    fade = tf.square(tf.maximum(grey - HIGHLIGHT_GREY, 0.0) / (1.0 - HIGHLIGHT_GREY))
    return image * tf.maximum(fade + (1.0 - fade) * inverse, inverse)


def mosaic(image):
    """RGGB Bayer sampling: (H, W, 3) to (H/2, W/2, 4) planes R, Gr, Gb, B (H and W even)."""
    blocks = tf.nn.space_to_depth(image[None], 2)[0]  # channel (2 * row + column) * 3 + colour
    return tf.gather(blocks, [0, 4, 7, 11], axis=-1)


def demosaic(raw):
    """Bilinear demosaicing of RGGB planes (H/2, W/2, 4) to (H, W, 3); sampled values are kept."""
    zeros = tf.zeros_like(raw[..., :1])
    red, green_red, green_blue, blue = tf.split(raw, 4, axis=-1)
    # Each 2x2 block: R at (0, 0), G at (0, 1) and (1, 0), B at (1, 1); zeros where a colour was not sampled.
    blocks = [red, zeros, zeros, zeros, green_red, zeros, zeros, green_blue, zeros, zeros, zeros, blue]
    sparse = tf.nn.depth_to_space(tf.concat(blocks, axis=-1)[None], 2)
    corners = tf.constant([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    cross = tf.constant([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])
    kernel = tf.stack([corners, cross, corners], axis=-1)[:, :, :, None]
    # Reflection keeps the Bayer pattern at the borders (R on even, B on odd rows and columns).
    padded = tf.pad(sparse, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")[0]


def unprocess(image, rgb_to_camera, brightness, red, blue):
    """A clean sRGB image (H, W, 3) to linear raw RGGB planes (H/2, W/2, 4)."""
    linear = gamma_expansion(inverse_smoothstep(image))
    camera = apply_color_matrix(linear, rgb_to_camera)
    return mosaic(safe_invert_gains(camera, brightness, red, blue))


def process(raw, rgb_to_camera, brightness, red, blue):
    """Raw RGGB planes (H/2, W/2, 4) to an sRGB image (H, W, 3) in [0, 1]: `unprocess` run forwards."""
    gains = _channel_gains(brightness, red, blue)
    balanced = tf.clip_by_value(raw * tf.gather(gains, [0, 1, 1, 2]), 0.0, 1.0)  # the sensor saturates
    linear = apply_color_matrix(demosaic(balanced), tf.linalg.inv(rgb_to_camera))
    return smoothstep(tf.clip_by_value(gamma_compression(linear), 0.0, 1.0))


def gaussian_smooth(image, sigma):
    """Each channel of `image` (H, W, C) blurred by a Gaussian of `sigma` pixels (about 0: unchanged)."""
    shape = tf.shape(image)
    radius = tf.minimum(tf.cast(tf.math.ceil(3.0 * sigma), tf.int32), tf.minimum(shape[0], shape[1]) - 1)
    taps = tf.cast(tf.range(-radius, radius + 1), tf.float32)
    kernel = tf.exp(-0.5 * tf.square(taps / tf.maximum(sigma, 1e-3)))
    kernel = tf.tile((kernel / tf.reduce_sum(kernel))[:, None, None], [1, image.shape[-1], 1])
    padded = tf.pad(image[None], [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    rows = tf.nn.depthwise_conv2d(padded, kernel[:, None], [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(rows, kernel[None], [1, 1, 1, 1], "VALID")[0]


def reduce_noise(noise, luma_sigma, chroma_sigma, chroma_gain):
    """A camera's noise reduction on `noise` (H, W, 3): luma and chroma smoothed apart, chroma scaled by `chroma_gain`.

    A camera JPEG has been through it: without it the noise is finer and more colourful than a
    real camera's (PolyU's residuals: neighbours correlate 0.6, channels 0.5 to 0.76, and about
    75% of the noise power is in luma).
    """
    ycbcr = apply_color_matrix(noise, tf.constant(RGB_TO_YCBCR))
    luma = gaussian_smooth(ycbcr[..., :1], luma_sigma)
    chroma = chroma_gain * gaussian_smooth(ycbcr[..., 1:], chroma_sigma)
    return apply_color_matrix(tf.concat([luma, chroma], axis=-1), tf.linalg.inv(tf.constant(RGB_TO_YCBCR)))


def random_noise_reduction(ranges=None):
    """`reduce_noise`'s settings drawn uniformly from `ranges` (`NOISE_REDUCTION` by default)."""
    ranges = NOISE_REDUCTION if ranges is None else ranges
    return {name: tf.random.uniform([], *map(float, ranges[name])) for name in NOISE_REDUCTION}


def random_noise_levels(shape=(), shot_range=SHOT_NOISE_RANGE):
    """`(shot, read)` levels: shot log-uniform in `shot_range`, log read linear in log shot plus N(0, 0.26)."""
    log_shot = tf.random.uniform(shape, math.log(shot_range[0]), math.log(shot_range[1]))
    log_read = READ_SLOPE * log_shot + READ_INTERCEPT + tf.random.normal(shape, stddev=READ_SPREAD)
    return tf.exp(log_shot), tf.exp(log_read)


def add_raw_noise(raw, shot, read):
    """Heteroscedastic sensor noise: each raw value `x` gets `N(0, sqrt(x * shot + read))`."""
    variance = tf.maximum(raw, 0.0) * shot + read
    return raw + tf.random.normal(tf.shape(raw)) * tf.sqrt(variance)


def jpeg(image, quality):
    """The image encoded as a JPEG at `quality` (an integer tensor), 8-bit as a camera writes it, and decoded.

    Decoded with the accurate integer IDCT, as Pillow and libjpeg read photos:
    `tf.image.adjust_jpeg_quality` decodes with the fast one, which darkens red and blue by
    about 1.2 and 1.4 levels on average, and a model trained on it tinted real photos so.
    """
    samples = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8)
    encoded = tf.raw_ops.EncodeJpegVariableQuality(images=samples, quality=quality)
    decoded = tf.io.decode_jpeg(encoded, channels=image.shape[-1] or 0, dct_method="INTEGER_ACCURATE")
    return tf.reshape(tf.cast(decoded, tf.float32) / 255.0, tf.shape(image))


def camera_noise(
    image, shot_range=SHOT_NOISE_RANGE, jpeg_quality=JPEG_QUALITY_RANGE, noise_reduction=None, jpeg_grid="random"
):
    """A clean sRGB image (H, W, 3) as a random camera would have photographed it, noise and JPEG included.

    Args:
        image: float32 (H, W, 3) in [0, 1], any H and W (odd sides are reflect-padded inside).
        shot_range: `(low, high)` of the log-uniform shot noise level.
        jpeg_quality: `(low, high)` integer range drawn uniformly, or None for no JPEG.
        noise_reduction: `reduce_noise`'s ranges, a dict like `NOISE_REDUCTION` (the default), or
            False for none.
        jpeg_grid: where the JPEG's 16 x 16 blocks lie: "random", 0-15 pixels off the image's
            top-left corner in each direction, as in a photo cropped after the camera, or
            "fixed", from the corner (a model trained so learns the blocks' place, and
            removes little noise from crops off it).
    """
    if jpeg_grid not in JPEG_GRIDS:
        raise ValueError(f"jpeg_grid must be one of {', '.join(JPEG_GRIDS)}, got {jpeg_grid!r}.")
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    even = tf.pad(image, [[0, height % 2], [0, width % 2], [0, 0]], mode="REFLECT")
    camera = random_camera()
    raw = unprocess(even, **camera)
    noisy_raw = add_raw_noise(raw, *random_noise_levels(shot_range=shot_range))
    mirrored_raw = 2.0 * raw - noisy_raw  # the same noise, negated
    # Only the noise the pipeline adds: the clean target is the photo itself, and bilinear
    # demosaicing's own blur and zips, which a camera's demosaicing lacks, would otherwise teach a
    # model to sharpen real photos (a pilot trained on them lost 1.5 dB on real camera crops).
    # Half the difference of the noise and its mirror keeps the noise's odd part, zero-mean: the
    # even part's mean, the bias of the clipping and of the concave gamma, is in a real photo's
    # mean image too, so a model must not learn to remove it (one that did tinted PolyU's red
    # and blue by about 1.5 / 255).
    noise = 0.5 * (process(noisy_raw, **camera) - process(mirrored_raw, **camera))
    if noise_reduction is not False:
        noise = reduce_noise(noise, **random_noise_reduction(noise_reduction))
    noisy = tf.clip_by_value(image + noise[:height, :width], 0.0, 1.0)
    if jpeg_quality is not None:
        quality = tf.random.uniform([], int(jpeg_quality[0]), int(jpeg_quality[1]) + 1, dtype=tf.int32)
        if jpeg_grid == "random":
            offset = tf.random.uniform([2], 0, tf.minimum(16, tf.minimum(height, width)), dtype=tf.int32)
            shifted = tf.pad(noisy, [[offset[0], 0], [offset[1], 0], [0, 0]], mode="SYMMETRIC")
            noisy = jpeg(shifted, quality)[offset[0] :, offset[1] :]
        else:
            noisy = jpeg(noisy, quality)
    return tf.ensure_shape(noisy, image.shape)
