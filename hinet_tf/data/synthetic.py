"""On-the-fly synthetic degradations of clean images, composable from a config.

Each degradation maps one float32 (H, W, 3) image in [0, 1] to a degraded one in [0, 1].
A parameter is either a number or a `[low, high]` range drawn uniformly for every image.
Every degradation takes `probability` (default 1): the chance it is applied to an image.
`camera` is real camera noise, whose steps live in `hinet_tf.data.camera_noise`.

`build_degradation([{"type": "gaussian_noise", "sigma": [0, 50]}, {"type": "jpeg", ...}])`
returns one function applying the list in order.
"""

import inspect
import math

import tensorflow as tf

from hinet_tf.data import camera_noise


def _draw(value, dtype=tf.float32):
    """A number, or a uniform draw from a `[low, high]` range."""
    if isinstance(value, (list, tuple)):
        low, high = value
        if dtype.is_integer:
            return tf.random.uniform([], int(low), int(high) + 1, dtype=dtype)
        return tf.random.uniform([], float(low), float(high), dtype=dtype)
    return tf.constant(value, dtype)


def _check_range(name, value, low, high, numbers=True, ranges=True, integer=False):
    """Raises a ValueError unless `value` is a number (`numbers`) or a `[low, high]` range (`ranges`) within bounds.

    With `integer`, the numbers must be integers.
    """
    is_range = isinstance(value, (list, tuple))
    values = value if is_range else [value]
    kinds = " or ".join(kind for kind, allowed in (("a number", numbers), ("a [low, high] range", ranges)) if allowed)
    if (is_range and (len(value) != 2 or not ranges)) or not (is_range or numbers):
        raise ValueError(f"{name} must be {kinds}, got {value!r}.")
    for number in values:
        if not isinstance(number, (int, float)) or isinstance(number, bool) or not low <= number <= high:
            raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}.")
        if integer and not isinstance(number, int):
            raise ValueError(f"{name} must be {'integers' if is_range else 'an integer'}, got {value!r}.")
    if is_range and value[0] > value[1]:
        raise ValueError(f"{name} must be {kinds}, got {value!r}.")


def _filter(image, kernel):
    """Convolves each channel of `image` (H, W, C) with `kernel` (k, k), reflecting at the borders."""
    radius = kernel.shape[0] // 2
    channels = image.shape[-1]
    padded = tf.pad(image[None], [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")[0]


def line_kernel(length, angle_degrees, size):
    """A `size` x `size` anti-aliased line segment of `length` pixels at `angle_degrees`, peak 1."""
    coords = tf.range(size, dtype=tf.float32) - (size - 1) / 2
    y, x = tf.meshgrid(coords, coords, indexing="ij")
    angle = angle_degrees * math.pi / 180
    along = x * tf.cos(angle) - y * tf.sin(angle)
    across = x * tf.sin(angle) + y * tf.cos(angle)
    weight = tf.clip_by_value(1 - tf.abs(across), 0, 1) * tf.clip_by_value(length / 2 + 0.5 - tf.abs(along), 0, 1)
    return weight


class Degradation:
    """Base class: applies `apply` to an image with chance `probability`."""

    def __init__(self, probability=1.0):
        _check_range(f"{type(self).__name__} probability", probability, 0, 1, ranges=False)
        self.probability = probability

    def __call__(self, image):
        if self.probability >= 1:
            return self.apply(image)
        return tf.cond(tf.random.uniform([]) < self.probability, lambda: self.apply(image), lambda: image)

    def apply(self, image):
        raise NotImplementedError


class GaussianNoise(Degradation):
    """Additive white Gaussian noise; `sigma` on the 0-255 scale (a number or a range)."""

    def __init__(self, sigma=25.0, clip=True, **kwargs):
        super().__init__(**kwargs)
        _check_range("gaussian_noise sigma", sigma, 0, 255)
        self.sigma, self.clip = sigma, clip

    def apply(self, image):
        noisy = image + tf.random.normal(tf.shape(image)) * _draw(self.sigma) / 255.0
        return tf.clip_by_value(noisy, 0.0, 1.0) if self.clip else noisy


class GaussianBlur(Degradation):
    """Isotropic Gaussian blur with standard deviation `sigma` pixels, kernel `size` x `size`."""

    def __init__(self, sigma=(0.5, 3.0), size=21, **kwargs):
        super().__init__(**kwargs)
        _check_range("gaussian_blur sigma", sigma, 0.1, 50)
        _check_odd_size("gaussian_blur", size)
        self.sigma, self.size = sigma, size

    def apply(self, image):
        coords = tf.range(self.size, dtype=tf.float32) - (self.size - 1) / 2
        profile = tf.exp(-0.5 * tf.square(coords / _draw(self.sigma)))
        kernel = profile[:, None] * profile[None, :]
        return _filter(image, kernel / tf.reduce_sum(kernel))


class MotionBlur(Degradation):
    """Linear motion blur of `length` pixels in a random direction `angle` (degrees)."""

    def __init__(self, length=(5, 21), angle=(0, 180), size=21, **kwargs):
        super().__init__(**kwargs)
        _check_odd_size("motion_blur", size)
        _check_range("motion_blur length", length, 1, size)
        _check_range("motion_blur angle", angle, -360, 360)
        self.length, self.angle, self.size = length, angle, size

    def apply(self, image):
        kernel = line_kernel(_draw(self.length), _draw(self.angle), self.size)
        return _filter(image, kernel / tf.reduce_sum(kernel))


class JPEG(Degradation):
    """JPEG compression at `quality` (1-100, a number or a range)."""

    def __init__(self, quality=(30, 95), **kwargs):
        super().__init__(**kwargs)
        _check_range("jpeg quality", quality, 1, 100, integer=True)
        self.quality = quality

    def apply(self, image):
        return camera_noise.jpeg(image, _draw(self.quality, tf.int32))


class RainStreaks(Degradation):
    """Synthetic rain: random drops smeared into streaks, screen-blended onto the image.

    Args:
        density: fraction of pixels starting a streak.
        length: streak length in pixels (at most `size`).
        angle: streak angle in degrees from vertical.
        intensity: streak brightness in [0, 1].
        size: odd side of the streak kernel.
    """

    def __init__(
        self, density=(0.002, 0.01), length=(10, 30), angle=(-20, 20), intensity=(0.5, 0.9), size=31, **kwargs
    ):
        super().__init__(**kwargs)
        _check_odd_size("rain", size)
        _check_range("rain density", density, 0, 1)
        _check_range("rain length", length, 1, size)
        _check_range("rain angle", angle, -90, 90)
        _check_range("rain intensity", intensity, 0, 1)
        self.density, self.length, self.angle, self.intensity, self.size = density, length, angle, intensity, size

    def apply(self, image):
        shape = tf.shape(image)
        drops = tf.cast(tf.random.uniform([shape[0], shape[1], 1]) < _draw(self.density), tf.float32)
        drops *= tf.random.uniform([shape[0], shape[1], 1], 0.5, 1.0)
        kernel = line_kernel(_draw(self.length), 90.0 + _draw(self.angle), self.size)
        streaks = tf.clip_by_value(_filter(drops, kernel) * _draw(self.intensity), 0.0, 1.0)
        return 1.0 - (1.0 - image) * (1.0 - streaks)


class CameraNoise(Degradation):
    """Real camera noise (`hinet_tf.data.camera_noise`): unprocess, raw shot and read noise, process, JPEG.

    Args:
        shot_noise: `[low, high]` of the log-uniform shot noise level (the published range by default).
        jpeg_quality: `[low, high]` of the camera's JPEG quality, or None for no JPEG.
        jpeg_grid: "fixed" or "random": where the JPEG's blocks lie (`camera_noise.camera_noise`).
        noise_reduction: `[low, high]` ranges of the camera's noise reduction by name (`luma_sigma`,
            `chroma_sigma` in pixels, `chroma_gain`; those left out keep their defaults), or None for none.
        gaussian_probability: the chance that an image gets today's white Gaussian noise instead.
        gaussian_sigma: that noise's sigma (0-255 scale, a number or a range), not clipped.
    """

    def __init__(
        self,
        shot_noise=camera_noise.SHOT_NOISE_RANGE,
        jpeg_quality=camera_noise.JPEG_QUALITY_RANGE,
        jpeg_grid="random",
        noise_reduction=camera_noise.NOISE_REDUCTION,
        gaussian_probability=0.0,
        gaussian_sigma=(0, 50),
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_range("camera shot_noise", shot_noise, 1e-6, 1, numbers=False)
        if jpeg_quality is not None:
            _check_range("camera jpeg_quality", jpeg_quality, 1, 100, numbers=False, integer=True)
        if jpeg_grid not in camera_noise.JPEG_GRIDS:
            raise ValueError(f"camera jpeg_grid must be one of {', '.join(camera_noise.JPEG_GRIDS)}, got {jpeg_grid!r}.")
        if noise_reduction is not None:
            if not isinstance(noise_reduction, dict) or set(noise_reduction) - set(camera_noise.NOISE_REDUCTION):
                names = ", ".join(camera_noise.NOISE_REDUCTION)
                raise ValueError(f"camera noise_reduction must map some of {names} to ranges, got {noise_reduction!r}.")
            noise_reduction = {**camera_noise.NOISE_REDUCTION, **noise_reduction}
            for name, limit in (("luma_sigma", 10), ("chroma_sigma", 10), ("chroma_gain", 1)):
                _check_range(f"camera noise_reduction {name}", noise_reduction[name], 0, limit, numbers=False)
        _check_range("camera gaussian_probability", gaussian_probability, 0, 1, ranges=False)
        _check_range("camera gaussian_sigma", gaussian_sigma, 0, 255)
        self.shot_noise = tuple(shot_noise)
        self.jpeg_quality = None if jpeg_quality is None else tuple(jpeg_quality)
        self.jpeg_grid = jpeg_grid
        self.noise_reduction = False if noise_reduction is None else noise_reduction
        self.gaussian_probability = gaussian_probability
        self.gaussian = GaussianNoise(gaussian_sigma, clip=False)

    def apply(self, image):
        def camera():
            return camera_noise.camera_noise(
                image, self.shot_noise, self.jpeg_quality, self.noise_reduction, self.jpeg_grid
            )

        if self.gaussian_probability <= 0:
            return camera()
        gaussian = tf.random.uniform([]) < self.gaussian_probability
        return tf.cond(gaussian, lambda: self.gaussian.apply(image), camera)


def _check_odd_size(name, size):
    if not isinstance(size, int) or size < 3 or size % 2 == 0:
        raise ValueError(f"{name} size must be an odd integer >= 3, got {size!r}.")


DEGRADATIONS = {
    "gaussian_noise": GaussianNoise,
    "gaussian_blur": GaussianBlur,
    "motion_blur": MotionBlur,
    "jpeg": JPEG,
    "rain": RainStreaks,
    "camera": CameraNoise,
}


class Compose:
    """Applies degradations in order."""

    def __init__(self, degradations):
        self.degradations = list(degradations)

    def __call__(self, image):
        for degradation in self.degradations:
            image = degradation(image)
        return image


def _settings(degradation):
    """The keys a spec of `degradation` (a class) may set: its `__init__` arguments and its bases'."""
    names = []
    for cls in degradation.__mro__:
        if issubclass(cls, Degradation) and "__init__" in vars(cls):
            for name, parameter in inspect.signature(cls.__init__).parameters.items():
                if name != "self" and parameter.kind is not parameter.VAR_KEYWORD and name not in names:
                    names.append(name)
    return names


def build_degradation(specs):
    """Builds the composed degradation from a list of `{"type": name, **params}` dicts.

    Raises:
        ValueError: an unknown type or parameter, or a parameter out of range, named.
    """
    degradations = []
    for index, spec in enumerate(specs):
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind not in DEGRADATIONS:
            raise ValueError(f"degradations[{index}]: unknown type {kind!r}; choose one of: {', '.join(DEGRADATIONS)}.")
        known = _settings(DEGRADATIONS[kind])
        unknown = [name for name in spec if name not in known]
        if unknown:
            raise ValueError(
                f"degradations[{index}] ({kind}): unknown setting {unknown[0]!r}; known: {', '.join(known)}."
            )
        try:
            degradations.append(DEGRADATIONS[kind](**spec))
        except ValueError as error:
            raise ValueError(f"degradations[{index}]: {error}") from error
    return Compose(degradations)
