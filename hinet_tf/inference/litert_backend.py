"""Runs the restorer's tile function on LiteRT (XNNPACK on the CPU), converted once per tile shape and cached.

It is the path to phones and the reference for the `.tflite` export, and one of the
backends `Restorer(backend="auto")` times on the CPU it runs on.
The restorer feeds tiles of one shape per image (a full tile, or the
whole image when a side is shorter), so each shape it feeds is converted to its own
fixed-shape model: XNNPACK plans a fixed shape once, and a dynamic-shape model cannot run
on `CompiledModel`.

The models are cached (`conversion_cache`) as `$HINET_CACHE/litert/<fingerprint>_<shape>.tflite`,
with XNNPACK's packed weights beside each in `.xnnpack_cache`: that file is mapped instead of
packing the weights into a second copy in memory on every load. One model is loaded at a time.
"""

import contextlib
import importlib.util
import os

import numpy as np

from hinet_tf.export.litert import convert_function
from hinet_tf.inference.conversion_cache import cache_dir
from hinet_tf.inference.conversion_cache import cached_conversion
from hinet_tf.inference.conversion_cache import drop_unless_recorded
from hinet_tf.inference.conversion_cache import fingerprint
from hinet_tf.inference.conversion_cache import record_entry
from hinet_tf.inference.conversion_cache import record_path
from hinet_tf.utils.quiet import native_stderr_silenced


def is_available():
    """Whether the LiteRT runtime (`ai-edge-litert`, the `litert` extra) is installed."""
    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except ValueError:  # a module entry without a spec
        return False


class LiteRTTileRunner:
    """Calls the tile function (NHWC float32 tiles to `{"restored": tiles}`) through LiteRT.

    The model for a tile shape is converted (or found in the cache) and loaded when a
    tile of that shape first comes, replacing the model loaded before.

    Args:
        tile_function: maps an input shape (batch, height, width, channels) to a
            `tf.function` with that fixed input signature, `images`.
        models: the Keras models whose variables the functions read.
        options: anything else the functions depend on, for the cache key.
        threads: LiteRT threads; all cores by default.
        log: called with a message when a conversion starts.
    """

    def __init__(self, tile_function, models, options, threads=None, log=None):
        if not is_available():
            raise ImportError('The litert backend needs ai-edge-litert, not installed here: pip install "hinet-tf[litert]"')
        self._tile_function = tile_function
        self._models = models
        self._key = fingerprint(models, **options)
        self._threads = threads or os.cpu_count()
        self._log = log
        self._shape = None
        self._run = None
        self._building = None  # the weight cache XNNPACK writes on the first run, under this process's name
        self.path = None

    def path_for(self, shape):
        """The cached `.tflite` file of the model for tiles of `shape`."""
        return cache_dir("litert") / f"{self._key}_{'x'.join(map(str, shape))}.tflite"

    def __call__(self, tiles):
        tiles = np.ascontiguousarray(tiles, np.float32)
        if tiles.shape == self._shape:
            return self._run(tiles)
        self._load(tiles.shape)
        with native_stderr_silenced():  # LiteRT creates its environment, logging each accelerator, on the first run
            restored = self._run(tiles)
        if self._building is not None and self._building.is_file():  # XNNPACK has written it: complete now
            building, self._building = self._building, None
            weights = self.path.with_suffix(".xnnpack_cache")
            with contextlib.suppress(OSError):  # unrecorded, it is only rebuilt on the next load
                os.replace(building, weights)  # whole: another process may map it
                record_entry(weights)
        return restored

    def _load(self, shape):
        with native_stderr_silenced():  # and LiteRT notes every accelerator it destroys
            self._run = None  # frees the previous model before the next one is loaded
        path = self.path_for(shape)
        weights = path.with_suffix(".xnnpack_cache")
        message = f"Converting the model for LiteRT once for {'x'.join(map(str, shape))} (cached in {path.parent})."
        cached_conversion(
            path,
            lambda path: convert_function(self._tile_function(shape), self._models, path),
            "LiteRT",
            message,
            self._log,
            derived=[weights, record_path(weights)],
        )
        drop_unless_recorded(weights)  # XNNPACK maps it as it is: a damaged one would crash the process
        self._building = None
        if not weights.is_file():  # built under this process's own name, so no process maps a half-written one
            self._building = weights.with_name(_building_name(weights))
            self._building.unlink(missing_ok=True)
        with native_stderr_silenced():  # LiteRT prints "INFO: Created ... XNNPACK delegate" when it applies it
            self._run = _compiled_model(path, self._building or weights, self._threads) or _interpreter(
                path, self._threads
            )
        self._shape, self.path = shape, path


def _building_name(weights):
    """The hidden name under which this process has XNNPACK build the weight cache `weights`."""
    return f".{weights.name}.{os.getpid()}"


def _compiled_model(path, weights, threads):
    """A function running `path` on `CompiledModel`, its packed weights in the file `weights`; None without the API."""
    try:
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.options import Options
    except ImportError:
        return None
    options = Options()
    options.cpu_options.num_threads = threads
    options.cpu_options.xnnpack_weight_cache_path = str(weights)
    model = CompiledModel.from_file(str(path), options=options)
    inputs, outputs = model.create_input_buffers(0), model.create_output_buffers(0)

    def run(tiles):
        inputs[0].write(tiles)
        model.run_by_index(0, inputs, outputs)
        return outputs[0].read(tiles.size, np.float32).reshape(tiles.shape)

    return run


def _interpreter(path, threads):
    """A function running `path` on the classic `Interpreter` (older ai-edge-litert)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner("serving_default")
    return lambda tiles: runner(images=tiles)["restored"]
