"""The rule for tiles: a tile size fits the model's size multiple, and neighbouring tiles overlap by less than a tile."""


def check_tile(tile, multiple=1, overlap=0):
    """Raises a one-line ValueError unless `tile` is a positive multiple of `multiple` and `0 <= overlap < tile`.

    The tile is checked first: with a tile that no model can take, the overlap is moot.
    """
    if tile <= 0 or tile % multiple:
        raise ValueError(f"The tile size must be a positive multiple of {multiple}, got {tile}.")
    if not 0 <= overlap < tile:
        raise ValueError(f"The overlap must lie in [0, tile), got {overlap} with tile {tile}.")
