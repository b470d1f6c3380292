"""The rule for tiles: a tile fits the model's size multiple, and neighbouring tiles start at least that far apart."""

import numbers

# Every shipped preset and official HINet (depth 5) pads its inputs to multiples of 16.
USUAL_MULTIPLE = 16
# `hinet restore`'s tiles: 384 restored 12 and 24 MP photos 3-21% faster than 256 on both CPU kinds
# measured (docs/performance.md), with fewer seams, for about 200 MiB more at width 16.
DEFAULT_TILE = 384
DEFAULT_OVERLAP = 32


def check_tile(tile, multiple=1, overlap=0):
    """Raises a one-line ValueError unless `tile` is a positive multiple of `multiple` and `0 <= overlap <= tile - multiple`.

    The tile is checked first: with a tile that no model can take, the overlap is moot.
    """
    if not isinstance(tile, numbers.Integral) or tile <= 0 or tile % multiple:
        raise ValueError(f"The tile size must be a positive multiple of {multiple}, got {tile!r}.")
    if not isinstance(overlap, numbers.Integral) or not 0 <= overlap <= tile - multiple:
        if multiple == 1:
            raise ValueError(f"The overlap ({overlap}) must be smaller than the tile ({tile}).")
        raise ValueError(
            f"The overlap ({overlap}) must be at most {tile - multiple}, the tile ({tile}) minus the size multiple ({multiple})."
        )


def check_tile_before_loading(tile, overlap, multiple=None):
    """What `check_tile` can say before the model is loaded: all of it if the models' `multiple` is known.

    Otherwise, only the overlap of a tile of the usual multiple: any other tile is checked once
    the model is loaded, against its own multiple first, so that `--tile 15` is told that it
    is no multiple of 16, not that it is below the overlap.
    """
    if multiple is not None:
        check_tile(tile, multiple, overlap)
    elif isinstance(tile, numbers.Integral) and tile % USUAL_MULTIPLE == 0:
        check_tile(tile, overlap=overlap)
