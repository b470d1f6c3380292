"""Runs the restorer's tile function on onnxruntime (CPU), converted once and cached.

The function is converted by `hinet_tf.export.onnx` with a dynamic batch, height and
width, and kept in `$HINET_CACHE/onnx/` (default `~/.cache/hinet-tf/onnx/`; see
`conversion_cache`, which checks an entry before it is used). Each tile shape gets its own
session with those dimensions fixed: onnxruntime then drops the graph's shape arithmetic
and fuses the offsets into the convolutions. Needs the `onnx` extra.
"""

import os

import numpy as np

from hinet_tf.export.onnx import CONVERTER_PACKAGES
from hinet_tf.export.onnx import DIMENSION_NAMES
from hinet_tf.export.onnx import GRAPH_VERSION
from hinet_tf.export.onnx import OPSET
from hinet_tf.export.onnx import convert_function
from hinet_tf.export.onnx import missing_packages
from hinet_tf.export.onnx import require as require_packages
from hinet_tf.inference.conversion_cache import cache_dir
from hinet_tf.inference.conversion_cache import cached_conversion
from hinet_tf.inference.conversion_cache import fingerprint
from hinet_tf.inference.errors import ConversionError

PACKAGES = (*CONVERTER_PACKAGES, "onnxruntime")


def is_available():
    """Whether onnxruntime and the converter (the `onnx` extra) are installed."""
    return not missing_packages(PACKAGES)


def require():
    """Raises a one-line ImportError unless onnxruntime and the converter are installed."""
    require_packages(PACKAGES, purpose="The onnx backend")


class ONNXTileRunner:
    """Calls `tile_function` (NHWC float32 tiles to `{"restored": tiles}`) through onnxruntime.

    Args:
        tile_function: a `tf.function` with one input signature, `images`, of dynamic batch and size.
        models: the Keras models whose variables `tile_function` reads.
        options: anything else the function depends on, for the cache key.
        threads: onnxruntime's intra-op threads; all cores by default.
        log: called with a message when a conversion starts.
    """

    def __init__(self, tile_function, models, options, threads=None, log=None):
        require()
        import tf2onnx

        key = fingerprint(models, **options, opset=OPSET, graph=GRAPH_VERSION, tf2onnx=tf2onnx.__version__)
        path = cache_dir("onnx") / f"{key}.onnx"
        message = f"Converting the model for onnxruntime once (cached in {path.parent})."
        cached_conversion(path, lambda path: convert_function(tile_function, path), "ONNX", message, log)
        self.path = path
        self._threads = threads or os.cpu_count()
        self._shape = None
        self._session = None

    def __call__(self, tiles):
        tiles = np.ascontiguousarray(tiles, np.float32)
        if tiles.shape != self._shape:
            self._session = None  # frees the previous session before the next one is planned
            self._session, self._shape = self._open(tiles.shape), tiles.shape
        return self._session.run(["restored"], {"images": tiles})[0]

    def _open(self, shape):
        import onnxruntime

        settings = onnxruntime.SessionOptions()
        settings.intra_op_num_threads = self._threads
        for name, size in zip(DIMENSION_NAMES, shape):
            settings.add_free_dimension_override_by_name(name, size)
        try:
            return onnxruntime.InferenceSession(str(self.path), settings, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 (onnxruntime raises its own kinds)
            raise ConversionError(f"onnxruntime cannot load {self.path}: {error}") from error
