"""BT.601 luma, the Y channel that the Rain13k loss and metrics compare.

`Y = 16 + 65.481 R + 128.553 G + 24.966 B` for R, G, B in [0, 1] and Y on the 0-255 scale
(MATLAB's `rgb2ycbcr`, as the official evaluation). The arithmetic is plain operators, so
one function serves NumPy arrays (the metrics) and tensors of any Keras backend (the loss).
"""

BT601_Y_WEIGHTS = (65.481, 128.553, 24.966)
BT601_Y_OFFSET = 16.0


def rgb_to_y(images, peak=1.0):
    """BT.601 luma of RGB `images` (channels last) on the [0, `peak`] scale, on the same scale.

    Keeps a channel axis of one; `peak=1` gives Y in [16/255, 235/255], `peak=255` in [16, 235].
    """
    red, green, blue = images[..., 0:1], images[..., 1:2], images[..., 2:3]
    weighted = red * BT601_Y_WEIGHTS[0] + green * BT601_Y_WEIGHTS[1] + blue * BT601_Y_WEIGHTS[2]
    return (weighted / peak + BT601_Y_OFFSET) / 255.0 * peak
