"""Overlapping tiles over an image, blended back, so memory follows the tile size.

By default the grid is the official HINet evaluation grid: along an axis of length `size`,
tiles of length `tile` start `ceil((size - tile) / (count - 1))` apart, the last one flush
with the end. `overlap=0` gives exactly the official grid (a 720 x 1280 frame in 256-pixel
tiles gives 3 x 5 = 15 tiles); a larger `overlap` adds tiles until neighbours share at least
that many pixels. With `multiple` (a network's size multiple) every tile starts at a multiple
of it, so each tile meets the image at the phase the whole image does; the last one may
reach past the end by less than `multiple`. Why: a network trained on camera JPEGs learns
where their 8 x 8 and 16 x 16 blocks lie, and the shipped camera model, given crops of
PolyU-val 8 pixels off that phase, gains nothing over the noisy crop (2.5 dB less).

Overlapping pixels get a weighted average (`blend`). "average", the official evaluation's,
weighs every tile alike. "interior" weighs each pixel of a tile by
`((1 + d) / (1 + tile // 2)) ** 4`, `d` its distance to the nearest edge of the tile that
lies inside the image, at most half a tile: near such an edge the network lacks the context beyond it, and its
output there differs from the whole image's (by 1.2 levels of 8 bits on average at the edge,
0.2 at 32 pixels, for the shipped camera model), so the neighbour that holds the pixel
further inside counts more. The weights are separable, one factor per axis.
"""

import math

import numpy as np

from hinet_tf.utils.tiles import check_tile


def tile_starts(size, tile, overlap, multiple=1):
    """Start offsets of the tiles of length `tile` covering `[0, size)` (one at 0 when `size <= tile`).

    With `multiple` > 1 each start is a multiple of it (`tile` must be too).
    """
    check_tile(tile, multiple, overlap)
    if size <= tile:
        return [0]
    if multiple == 1:
        count = math.ceil((size - tile) / (tile - overlap)) + 1
        step = math.ceil((size - tile) / (count - 1))
        return [min(index * step, size - tile) for index in range(count)]
    span = -(-size // multiple) * multiple - tile  # the last start, on the multiple
    largest_step = (tile - overlap) // multiple * multiple  # at least `multiple` (`check_tile`)
    count = -(-span // largest_step) + 1
    # Rounded down, consecutive starts stay at most `largest_step` apart.
    return [index * span // (count - 1) // multiple * multiple for index in range(count)]


BLENDS = ("interior", "average")


def restored_rows(restore_tile, image, tile, overlap, multiple=1, blend="average"):
    """Yields `(top, rows)`: `restore_tile` run over overlapping tiles of `image` and blended, band by band.

    `image` is (H, W, C) of any dtype; `restore_tile` maps a window of it, at most `tile` x
    `tile` (the part of a tile on the image), to float32 of the same height and width. `multiple`
    and `blend` as in the module's description. The bands are float32, top to bottom,
    each yielded once no later tile reads its rows: the caller may write them into `image`
    itself. A band is a view of the one row of tiles kept beside `image`, the caller's until
    the next is yielded.
    """
    if blend not in BLENDS:
        raise ValueError(f"Unknown blend {blend!r}; choose one of {', '.join(BLENDS)}.")
    height, width = image.shape[:2]
    rows, columns = tile_starts(height, tile, overlap, multiple), tile_starts(width, tile, overlap, multiple)
    row_weights, row_sums = _weights(rows, tile, height, blend)
    column_weights, column_sums = _weights(columns, tile, width, blend)
    band_height = min(tile, height)
    band = None
    for top, next_top, row_weight in zip(rows, [*rows[1:], height], row_weights):
        for left, column_weight in zip(columns, column_weights):
            restored = restore_tile(image[top : top + tile, left : left + tile])
            if band is None:
                band = np.zeros((band_height, width, restored.shape[-1]), np.float32)
            weight = np.outer(row_weight, column_weight)[..., None]
            band[: len(row_weight), left : left + len(column_weight)] += restored * weight
        done = next_top - top  # rows no later tile covers
        band[:done] /= (row_sums[top:next_top, None] * column_sums[None, :])[..., None]
        yield top, band[:done]
        band[: band_height - done] = band[done:].copy()
        band[band_height - done :] = 0


def restore_tiled(restore_tile, image, tile, overlap, multiple=1, blend="average"):
    """The blended (H, W, C) float32 result of `restored_rows` as one array."""
    result = None
    for top, rows in restored_rows(restore_tile, image, tile, overlap, multiple, blend):
        if result is None:
            result = np.empty((image.shape[0], *rows.shape[1:]), np.float32)
        result[top : top + len(rows)] = rows
    return result


def _weights(starts, tile, size, blend):
    """The weights of each tile's pixels on the image along one axis of `size`, and their sum at each position."""
    half = min(tile, size) // 2
    weights = []
    for start in starts:
        length = min(tile, size - start)
        if blend == "average":
            weights.append(np.ones(length, np.float32))
            continue
        position = np.arange(length)
        before = position if start > 0 else np.full(length, half)  # an edge on the image's border cuts nothing
        after = length - 1 - position if start + tile < size else np.full(length, half)
        distance = np.minimum(np.minimum(before, after), half)
        weights.append((((1 + distance) / (1 + half)) ** 4).astype(np.float32))
    sums = np.zeros(size, np.float32)
    for start, weight in zip(starts, weights):
        sums[start : start + len(weight)] += weight
    return weights, sums
