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


def restored_rows(restore_tile, image, tile, overlap):
    """Yields `(top, rows)`: `restore_tile` run over overlapping tiles of `image` and blended, band by band.

    `image` is (H, W, C) of any dtype; `restore_tile` maps a window of it, at most `tile` x
    `tile`, to float32 of the same height and width. The bands are float32, top to bottom,
    each yielded once no later tile reads its rows: the caller may write them into `image`
    itself. A band is a view of the one row of tiles kept beside `image`, the caller's until
    the next is yielded.
    """
    height, width = image.shape[:2]
    rows, columns = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    tile_height, tile_width = min(tile, height), min(tile, width)
    row_counts = _coverage(rows, tile_height, height)
    column_counts = _coverage(columns, tile_width, width)
    band = None
    for top, next_top in zip(rows, [*rows[1:], height]):
        for left in columns:
            restored = restore_tile(image[top : top + tile_height, left : left + tile_width])
            if band is None:
                band = np.zeros((tile_height, width, restored.shape[-1]), np.float32)
            band[:, left : left + tile_width] += restored
        done = next_top - top  # rows no later tile covers
        band[:done] /= (row_counts[top:next_top, None] * column_counts[None, :])[..., None]
        yield top, band[:done]
        band[: tile_height - done] = band[done:].copy()
        band[tile_height - done :] = 0


def restore_tiled(restore_tile, image, tile, overlap):
    """The blended (H, W, C) float32 result of `restored_rows` as one array."""
    result = None
    for top, rows in restored_rows(restore_tile, image, tile, overlap):
        if result is None:
            result = np.empty((image.shape[0], *rows.shape[1:]), np.float32)
        result[top : top + len(rows)] = rows
    return result


def _coverage(starts, length, size):
    """How many tiles cover each position along one axis."""
    counts = np.zeros(size, np.float32)
    for start in starts:
        counts[start : start + length] += 1
    return counts
