"""Calibration of the integer LiteRT models: representative tiles of the user's photos, and the cost against float.

The photos are split, seeded: about a fifth (at least one, when there are two or more) is
held out, and the representative tiles come from the rest. The cost of a quantised model
is measured on tiles of the held-out photos, as its PSNR against the float model's output
(both clipped to [0, 1], not rounded; higher is closer). It runs the `.tflite` file on
ai-edge-litert's interpreter (`pip install "hinet-tf[litert]"`).
"""

import dataclasses
import importlib.util

import numpy as np

from hinet_tf.metrics import psnr
from hinet_tf.utils.quiet import native_stderr_silenced

DEFAULT_TILES = 64
MEASURED_TILES = 16


@dataclasses.dataclass(frozen=True)
class CalibrationSet:
    """Representative `tiles` (N, tile, tile, C) from `calibration_names`, and `held_out` tiles to measure on."""

    tiles: np.ndarray
    held_out: np.ndarray
    calibration_names: tuple
    held_out_names: tuple

    def describe_held_out(self):
        """Where the measurement tiles come from, for a one-line report."""
        count = len(self.held_out)
        if not self.held_out_names:
            return f"{count} other tiles of the one calibration image (no image to hold out)"
        names = ", ".join(self.held_out_names[:3]) + (", ..." if len(self.held_out_names) > 3 else "")
        return f"{count} tiles of {len(self.held_out_names)} held-out image(s) ({names})"


def calibration_set(names, read, tile, count=DEFAULT_TILES, measured=MEASURED_TILES, seed=0):
    """Draws seeded random tiles from the images `names`, which `read(name)` returns as float32 (H, W, C) in [0, 1].

    The photos are taken in turn, each tile at a random place, and only those that give
    a tile are read; a photo smaller than the tile is mirrored at its edges. Held-out
    photos give the `measured` tiles only.
    """
    if not names:
        raise ValueError("No calibration images.")
    if count < 1:
        raise ValueError(f"The number of calibration tiles must be at least 1, got {count}.")
    rng = np.random.default_rng(seed)
    names = sorted(names)
    order = [names[index] for index in rng.permutation(len(names))]
    held = len(order) // 5 or (1 if len(order) > 1 else 0)
    held_out_names, calibration_names = order[:held][:measured], order[held:][:count]
    calibration_images = [read(name) for name in calibration_names]
    held_out_images = [read(name) for name in held_out_names] or calibration_images
    tiles = _random_tiles(calibration_images, tile, count, rng)
    held_out = _random_tiles(held_out_images, tile, measured, rng)
    return CalibrationSet(tiles, held_out, tuple(calibration_names), tuple(held_out_names))


def require_interpreter():
    """Raises a one-line ImportError unless ai-edge-litert, which measures the cost, is installed."""
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ImportError('Measuring an integer model needs ai-edge-litert: pip install "hinet-tf[litert]".')


def psnr_against_float(model, path, tiles, batch_size=8):
    """PSNR (dB) of the `.tflite` model at `path` against the float Keras `model` on `tiles`."""
    from ai_edge_litert.interpreter import Interpreter

    from hinet_tf.models import image_restorer

    with native_stderr_silenced():  # LiteRT's note on the delegate it creates
        runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
        quantised = np.concatenate([runner(images=tile[None])["restored"] for tile in tiles])
    model = image_restorer(model)
    batches = [tiles[start : start + batch_size] for start in range(0, len(tiles), batch_size)]
    reference = np.concatenate([np.asarray(model(batch, training=False)) for batch in batches])
    # One pooled mean squared error over every tile: the tiles stacked into one tall image.
    return psnr(stacked(quantised), stacked(reference), quantize=False)


def _random_tiles(images, tile, count, rng):
    tiles = []
    for index in range(count):
        image = images[index % len(images)]
        height, width = image.shape[:2]
        image = np.pad(image, ((0, max(tile - height, 0)), (0, max(tile - width, 0)), (0, 0)), mode="symmetric")
        top = rng.integers(image.shape[0] - tile + 1)
        left = rng.integers(image.shape[1] - tile + 1)
        tiles.append(image[top : top + tile, left : left + tile])
    return np.stack(tiles).astype(np.float32)


def stacked(tiles):
    """Tiles (N, H, W, C) as one tall image (N * H, W, C): one PSNR of their pooled error."""
    return tiles.reshape(-1, *tiles.shape[2:])
