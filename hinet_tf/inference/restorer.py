"""Restores images of any size with one or more models: padding, tiling, test-time augmentation."""

import math
import os

import numpy as np
import tensorflow as tf

from hinet_tf.inference import backend_choice
from hinet_tf.inference import litert_backend
from hinet_tf.inference import onnx_backend
from hinet_tf.inference import tiling
from hinet_tf.inference.conversion_cache import fingerprint
from hinet_tf.inference.errors import NonFiniteOutputError
from hinet_tf.models import float32_restorer
from hinet_tf.models import image_restorer
from hinet_tf.utils.atomic import check_not_stopped
from hinet_tf.utils import dihedral
from hinet_tf.utils.backend import require_tensorflow
from hinet_tf.utils.tiles import DEFAULT_OVERLAP
from hinet_tf.utils.tiles import DEFAULT_TILE
from hinet_tf.utils.tiles import check_tile

BACKENDS = ("keras", "litert", "onnx", "auto")
GRIDS = ("aligned", "official")


class Restorer:
    """Restores (H, W, C) float images in [0, 1] of any height and width.

    Each image is cut into overlapping tiles (so memory depends on `tile`, not on the
    image) that start at multiples of the models' size multiple, blended towards each tile's
    interior (`grid="aligned"`, see `inference.tiling`), or at the positions of the official
    evaluation grid, averaged (`grid="official"`). A tile's part on the image is
    reflect-padded to the models' size multiple where needed and cropped back. Every tile goes
    through one traced `tf.function` with a dynamic spatial shape, which averages, as in
    the paper, the outputs of all `models` and, with `tta`, of the 8 flips and rotations
    (each inverted first; the four of each shape go through a model as one batch).

    A grayscale image given to RGB models is restored as three equal channels and
    averaged back to one.

    The tile function runs on TensorFlow (`backend="keras"`), on onnxruntime's CPU
    provider (`"onnx"`, converted once with a dynamic shape and cached) or on LiteRT with
    XNNPACK (`"litert"`, converted once per tile shape it is fed and cached: the full tile,
    and the whole padded image when a side is shorter than a tile). `"auto"` takes the
    fastest on this CPU (`inference.backend_choice`; the `backend_choice` attribute holds the
    choice and its times); with a GPU visible, or neither the `onnx` nor the `litert` extra
    installed, it takes TensorFlow unmeasured.

    Args:
        models: an image restorer or a list of them (an ensemble), each mapping NHWC to
            NHWC; a `HINetBackbone` is wrapped in a `HINetImageRestorer`.
        tile: tile size in pixels, a multiple of the models' size multiple; tiles are
            smaller only when the image is.
        overlap: minimum overlap of neighbouring tiles, in pixels.
        grid: "aligned" or "official", as above.
        tta: average over the 8 dihedral transforms.
        backend: "keras", "litert", "onnx" or "auto".
        log: called with progress messages (the one-off conversions and backend measurement).
        threads: threads of the LiteRT or onnxruntime backend; all cores by default.
    """

    def __init__(
        self, models, tile=DEFAULT_TILE, overlap=DEFAULT_OVERLAP, tta=False, backend="keras", log=None, threads=None,
        grid="aligned",
    ):  # fmt: skip
        require_tensorflow("Restorer (tiled restoration)")
        models = list(models) if isinstance(models, (list, tuple)) else [models]
        if not models:
            raise ValueError("Restorer needs at least one model.")
        self._on_gpu = bool(tf.config.list_physical_devices("GPU"))
        # Mixed precision pays on a GPU only; on a CPU and in the converted runtimes a model computes in float32.
        as_restorer = image_restorer if self._on_gpu and backend in ("keras", "auto") else float32_restorer
        self.models = [as_restorer(model) for model in models]
        self.size_multiple = math.lcm(*(getattr(model, "size_multiple", 1) for model in self.models))
        channels = {model.inputs[0].shape[-1] for model in self.models}
        if len(channels) != 1:
            raise ValueError(f"The models take different numbers of channels: {sorted(channels)}.")
        self.channels = channels.pop()
        check_tile(tile, self.size_multiple, overlap)
        if grid not in GRIDS:
            raise ValueError(f"Unknown grid {grid!r}; choose one of {', '.join(GRIDS)}.")
        self.tile = tile
        self.overlap = overlap
        self.grid = grid
        self.tta = tta
        spec = tf.TensorSpec((None, None, None, self.channels), tf.float32, name="images")
        self.restore_tile = tf.function(self._restore_batch, input_signature=[spec])
        self.backend_choice = None
        if backend == "auto":
            self.backend, self._run_batch = self._choose_backend(spec, log, threads)
        else:
            self.backend, self._run_batch = self._select_backend(backend, spec, log, threads)

    def __call__(self, image):
        """Restores an (H, W, C) or (H, W) image: floats in [0, 1], or 8- or 16-bit samples.

        Returns float32 in [0, 1] (unclipped) of the same shape.

        Raises:
            ValueError: not one image of those kinds, or it holds NaN or infinite values.
            NonFiniteOutputError: the result holds NaN or infinite values.
        """
        image = _checked_image(image, integers_only=False)
        squeeze = image.ndim == 2
        if squeeze:
            image = image[..., None]
        restored = tiling.restore_tiled(self._tile_function(image), image, self.tile, self.overlap, *self._tiling)
        return restored[..., 0] if squeeze else restored

    def restore_in_place(self, samples):
        """Restores 8- or 16-bit samples (H, W, C) or (H, W), e.g. a decoded photo, in place.

        Beside the image, memory holds one row of tiles, whatever the image's size. The
        results are rounded to the samples' levels as `hinet restore` writes them; after an
        error, the rows restored so far stay restored.
        """
        samples = _checked_image(samples, integers_only=True)
        samples = samples[..., None] if samples.ndim == 2 else samples  # a view: written through to the caller's array
        peak = np.iinfo(samples.dtype).max
        bands = tiling.restored_rows(self._tile_function(samples), samples, self.tile, self.overlap, *self._tiling)
        for top, rows in bands:
            check_not_stopped()  # a Ctrl-C that a finalizer swallowed ends a large photo here, not at its end
            rows = np.clip(rows, 0.0, 1.0, out=rows)  # in the band's own memory: no temporaries of its size
            rows *= peak
            samples[top : top + len(rows)] = np.round(rows, out=rows)

    @property
    def _tiling(self):
        """`(multiple, blend)` of `inference.tiling` for this restorer's grid."""
        return (self.size_multiple, "interior") if self.grid == "aligned" else (1, "average")

    def _tile_function(self, image):
        """Maps a window of `image` (H, W, C; integers are scaled to [0, 1]) to its restored float32 tile."""
        channels = image.shape[-1]
        grey = channels == 1 and self.channels == 3
        if channels != self.channels and not grey:
            raise ValueError(f"The models take {self.channels}-channel images, got {channels} channels.")
        peak = np.float32(np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1)
        # A window shorter than a tile (a side of the image shorter than one, or the last tile
        # of the aligned grid) is padded at its end to the models' size multiple, as the whole
        # image would be (numpy's reflect-padding, which the models' own in-graph padding equals,
        # also repeats the reflection for sides of fewer than 9 pixels).

        def restore(window):
            padding = [(0, -size % self.size_multiple) for size in window.shape[:2]]
            tile = window.astype(np.float32) / peak
            tile = np.pad(np.repeat(tile, 3, axis=-1) if grey else tile, (*padding, (0, 0)), mode="reflect")
            restored = np.asarray(self._run_batch(tile[None])[0])[: window.shape[0], : window.shape[1]]
            if not np.isfinite(restored).all():
                raise NonFiniteOutputError(
                    "the model's output is not finite (NaN or infinity): its weights are broken, "
                    "e.g. by a training run that diverged"
                )
            return restored.mean(axis=-1, keepdims=True) if grey else restored

        return restore

    def _select_backend(self, backend, spec, log, threads):
        """Returns the backend's name and its function from a batch of tiles to restored tiles."""
        if backend not in BACKENDS:
            raise ValueError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        if backend == "onnx":
            return "onnx", onnx_backend.ONNXTileRunner(
                self._serving(spec.shape), self.models, {"tta": self.tta}, threads=threads, log=log
            )
        if backend == "litert":
            return "litert", litert_backend.LiteRTTileRunner(
                self._serving, self.models, {"tta": self.tta}, threads=threads, log=log
            )
        return "keras", self._run_on_tensorflow

    def _choose_backend(self, spec, log, threads):
        """The fastest backend on this CPU for a full tile (`backend_choice`), or TensorFlow with a GPU or no other."""
        runners = {"keras": lambda: self._run_on_tensorflow}
        if not self._on_gpu:
            for name, module in (("onnx", onnx_backend), ("litert", litert_backend)):
                if module.is_available():
                    runners[name] = lambda name=name: self._select_backend(name, spec, log, threads)[1]
        if len(runners) == 1:
            return "keras", self._run_on_tensorflow
        shape = (1, self.tile, self.tile, self.channels)
        # A new ONNX graph may run at another speed: it is measured again.
        options = {"tta": self.tta, "onnx_graph": onnx_backend.GRAPH_VERSION}
        keys = [fingerprint([model]) for model in self.models]  # the weights are hashed once
        path = backend_choice.choice_path(keys, shape, threads or os.cpu_count(), **options)
        tile = np.random.default_rng(0).random(shape, np.float32)
        models = ", ".join(f"{model.name} ({model.count_params():,} parameters)" for model in self.models)
        self.backend_choice, run = backend_choice.choose(
            path, runners, tile, log=log, describe_models=models, model_keys=keys
        )
        return self.backend_choice.backend, run

    def _serving(self, shape):
        """The tile function as a `tf.function` of input signature `shape`, returning `{"restored": tiles}`."""
        spec = tf.TensorSpec(shape, tf.float32, name="images")
        return tf.function(lambda images: {"restored": self._restore_batch(images)}, input_signature=[spec])

    def _run_on_tensorflow(self, tiles):
        return self.restore_tile(tf.convert_to_tensor(tiles)).numpy()

    def _restore_batch(self, images):
        groups = dihedral.SHAPE_GROUPS if self.tta else ((0,),)
        total = tf.zeros_like(images)
        for model in self.models:
            for group in groups:
                # The transforms of a group share one shape: one batched model call each.
                batch = tf.concat([dihedral.transform(images, index) for index in group], axis=0)
                outputs = tf.split(tf.cast(model(batch, training=False), tf.float32), len(group), axis=0)
                for index, output in zip(group, outputs):
                    total += dihedral.inverse_transform(output, index)
        count = len(self.models) * sum(len(group) for group in groups)
        return total / float(count)


def _checked_image(image, integers_only):
    """`image` as an array if it is one image (H, W[, C]) of 8- or 16-bit samples or of finite floats; else ValueError."""
    image = np.asarray(image)
    kinds = "8- or 16-bit samples" if integers_only else "floats in [0, 1] or 8- or 16-bit samples"
    if image.ndim not in (2, 3):
        raise ValueError(f"Restorer takes one image (height, width[, channels]) at a time, got shape {image.shape}.")
    if image.dtype in (np.uint8, np.uint16):
        return image
    if integers_only or image.dtype.kind != "f":
        raise ValueError(f"Restorer takes {kinds}, got {image.dtype}.")
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise ValueError("The image holds NaN or infinite values.")
    return image
