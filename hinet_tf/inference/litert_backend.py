"""Runs the restorer's tile function on LiteRT (XNNPACK on the CPU), converted once and cached.

On the CPU, XNNPACK runs compact models faster than TensorFlow (see `hinet benchmark` and
`Restorer`), so `Restorer(backend="auto")` uses this path for them when no GPU is visible.
The conversion takes seconds to minutes (by model size), so its result is
kept in `$HINET_CACHE/litert/` (default `~/.cache/hinet-tf/litert/`; see `conversion_cache`).
"""

import importlib.util
import os

from hinet_tf.export.litert import convert_function
from hinet_tf.inference.conversion_cache import cache_dir
from hinet_tf.inference.conversion_cache import fingerprint
from hinet_tf.utils.quiet import native_stderr_silenced


def is_available():
    """Whether the LiteRT interpreter (`ai-edge-litert`, the `litert` extra) is installed."""
    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except ValueError:  # a module entry without a spec
        return False


class LiteRTTileRunner:
    """Calls `tile_function` (NHWC float32 tiles to `{"restored": tiles}`) through LiteRT.

    Args:
        tile_function: a `tf.function` with one input signature of dynamic batch and size.
        models: the Keras models whose variables `tile_function` reads.
        options: anything else the function depends on, for the cache key.
        threads: LiteRT threads; all cores by default.
        log: called with a message when a conversion starts.
    """

    def __init__(self, tile_function, models, options, threads=None, log=None):
        from ai_edge_litert.interpreter import Interpreter

        path = cache_dir("litert") / f"{fingerprint(models, **options)}.tflite"
        if not path.is_file():
            if log is not None:
                log(f"Converting the model for LiteRT once (cached in {path.parent}).")
            convert_function(tile_function, models, path)
        interpreter = Interpreter(model_path=str(path), num_threads=threads or os.cpu_count())
        with native_stderr_silenced():  # LiteRT prints "INFO: Created ... XNNPACK delegate" when it applies it
            interpreter.allocate_tensors()
        self._runner = interpreter.get_signature_runner("serving_default")
        self.path = path

    def __call__(self, tiles):
        return self._runner(images=tiles)["restored"]

