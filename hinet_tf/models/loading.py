"""Loading a model from what a user names: a preset name, a preset folder or a `.keras` file.

`load_model` is the one way `hinet restore`, `export`, `evaluate` and `convert` and the
training's `init_weights` turn a name into a model; each of its errors is one line that
names the file and its problem. With no name it loads the default preset.
"""

import warnings
from pathlib import Path

import keras
import numpy as np

from hinet_tf.models.hinet.hinet_image_restorer import HINetImageRestorer
from hinet_tf.models.hinet.hinet_image_restorer import image_restorer
from hinet_tf.models.hinet.hinet_presets import backbone_presets
from hinet_tf.models.hinet.hinet_presets import is_architecture_preset
from hinet_tf.models.model_source import DEFAULT_PRESET
from hinet_tf.models.model_source import check_model_source
from hinet_tf.models.preset_utils import CONFIG_FILE
from hinet_tf.models.preset_utils import shipped_preset_dir
from hinet_tf.utils.messages import first_line


PROBE_SIDE = 16  # pixels: the blank image a loaded model must return at its own size


def default_model_path():
    """The directory of the default preset, the camera-photo denoiser; `FileNotFoundError` if it is absent."""
    try:
        return shipped_preset_dir(DEFAULT_PRESET)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error} Pass --model with a .keras file, a preset directory or a preset name.") from None


def load_model(spec=None):
    """Loads an image restorer from a preset name, a preset directory or a `.keras` file; None is the default.

    Every loaded model is an image restorer: images of any size in, the final restored image out.
    An architecture-only preset ("hinet_1x", ...) gets random weights and warns that its
    outputs are untrained. A `.keras` file holding a `HINetBackbone` is wrapped in a
    `HINetImageRestorer`; one of the removed `HINet` class is refused with the command that converts it.

    Raises:
        FileNotFoundError: no such file or preset.
        ValueError: a folder that is no preset, a damaged preset (its config, its weights,
            or the two not matching), not a valid `.keras` file (one that would run code,
            like a `Lambda` layer, included), or a model that does not map images to
            images (`check_image_model`); the message is one line and names the file.
    """
    if spec is None:
        spec = default_model_path()
    if str(spec) in backbone_presets:
        if not is_architecture_preset(spec):
            return HINetImageRestorer.from_preset(str(spec))
        warnings.warn(
            f"Preset {spec!r} has random (untrained) weights: its outputs are not restorations. "
            "Pass a trained .keras file or preset directory for real use.",
            stacklevel=2,
        )
        return HINetImageRestorer.from_preset(str(spec), load_weights=False)
    check_model_source(spec)
    path = Path(spec)
    if path.is_dir():
        if (path / CONFIG_FILE).is_file():
            return HINetImageRestorer.from_preset(path)
        raise ValueError(f"Model {path} is a directory without {CONFIG_FILE}; pass a .keras file or a preset.")
    try:
        loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged archive
        raise ValueError(f"Model {path} is not a valid .keras file ({first_line(error)})") from None
    try:
        model = image_restorer(loaded)
    except ValueError as error:
        raise ValueError(f"Model {path}: {error}") from None
    check_image_model(model, path)
    return model


def check_image_model(model, name):
    """Raises a one-line ValueError naming `name` unless `model` maps images to images.

    Images are NHWC batches of any height and width with 1 or 3 channels; the model must
    return one such batch with the input's channels and size, checked on a small blank image
    (a strided model declares the same shapes as one that keeps the size).
    """
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise ValueError(f"Model {name} takes {len(inputs)} inputs; an image restoration model takes one.")
    shape = tuple(inputs[0].shape)
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise ValueError(f"Model {name} takes inputs of shape {shape}, not images (batch, height, width, 1 or 3).")
    if shape[1:3] != (None, None):
        raise ValueError(f"Model {name} takes only {shape[1]} x {shape[2]} images; it must take any size.")
    side = max(PROBE_SIDE, getattr(model, "size_multiple", 1))
    probe = np.zeros((1, side, side, shape[-1]), "float32")
    try:
        outputs = keras.tree.flatten(model(probe, training=False))
    except Exception as error:  # noqa: BLE001 (a foreign model may raise anything)
        raise ValueError(f"Model {name} fails on a blank {side}x{side} image ({first_line(error)})") from None
    returned = [(tuple(output.shape), shape) for output in model.outputs]
    returned += [(tuple(output.shape), probe.shape) for output in outputs]
    for output_shape, input_shape in returned:
        if output_shape != input_shape:
            raise ValueError(
                f"Model {name} returns {output_shape} for images {input_shape}; "
                "an image restoration model returns images like its input."
            )
