"""Overlapping tiles over an image, blended back by averaging, so memory follows the tile size.

The grid is the official HINet evaluation grid: along an axis of length `size`, tiles of
length `tile` start `ceil((size - tile) / (count - 1))` apart, the last one flush with the
end, and overlapping pixels get the equal-weight average. `overlap=0` gives exactly the
official grid (a 720 x 1280 frame in 256-pixel tiles gives 3 x 5 = 15 tiles); a larger
`overlap` adds tiles until neighbours share at least that many pixels.
"""

import math

import numpy as np

from hinet_tf.utils.tiles import check_tile


def tile_starts(size, tile, overlap):
    """Start offsets of the tiles of length `min(tile, size)` covering `[0, size)`."""
    check_tile(tile, overlap=overlap)
    if size <= tile:
        return [0]
    count = math.ceil((size - tile) / (tile - overlap)) + 1
    step = math.ceil((size - tile) / (count - 1))
    return [min(index * step, size - tile) for index in range(count)]


def restore_tiled(restore_tile, image, tile, overlap):
    """Runs `restore_tile` (an (h, w, C) array to an array of the same shape) over tiles of `image`.

    `image` is (H, W, C); each tile is at most `tile` x `tile`. Returns the blended (H, W, C)
    float32 result; the only full-size buffers are the image and the result.
    """
    height, width = image.shape[:2]
    rows, columns = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    tile_height, tile_width = min(tile, height), min(tile, width)
    if len(rows) == 1 and len(columns) == 1:
        return np.asarray(restore_tile(image), dtype=np.float32)
    result = np.zeros(image.shape, np.float32)
    row_counts = _coverage(rows, tile_height, height)
    column_counts = _coverage(columns, tile_width, width)
    for top in rows:
        for left in columns:
            window = (slice(top, top + tile_height), slice(left, left + tile_width))
            result[window] += restore_tile(image[window])
    result /= (row_counts[:, None] * column_counts[None, :])[..., None]
    return result


def _coverage(starts, length, size):
    """How many tiles cover each position along one axis."""
    counts = np.zeros(size, np.float32)
    for start in starts:
        counts[start : start + length] += 1
    return counts
