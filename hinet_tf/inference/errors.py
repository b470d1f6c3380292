"""The errors of restoring that would fail every image, importable without TensorFlow."""


class NonFiniteOutputError(ValueError):
    """The models returned NaN or infinite values: broken weights, not a bad image."""


class ConversionError(RuntimeError):
    """A converter failed on a tile function (the cause is chained)."""
