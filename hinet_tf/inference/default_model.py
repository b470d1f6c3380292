"""Finds and loads the models of `hinet restore`: the shipped preset, a preset, a preset directory or a `.keras` file.

Every loaded model is an image restorer (`hinet_tf.models.image_restorer`): images of any
size in, the final restored image out.
"""

import warnings
import zipfile
from pathlib import Path

from hinet_tf.models.preset_utils import CONFIG_FILE
from hinet_tf.models.preset_utils import shipped_preset_dir

DEFAULT_PRESET = "hinet_photo_denoise"


def default_model_path():
    """The directory of the shipped photo-denoising preset; `FileNotFoundError` if it is absent."""
    try:
        return shipped_preset_dir(DEFAULT_PRESET)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error} Pass --model with a .keras file, a preset directory or a preset name.") from None


def load_model(spec=None):
    """Loads an image restorer from a preset name, a preset directory or a `.keras` file; None is the default.

    An architecture-only preset ("hinet_1x", ...) gets random weights and warns that its
    outputs are untrained. A `.keras` file holding a `HINetBackbone` (or a deprecated
    `HINet`) is wrapped in a `HINetImageRestorer`.

    Raises:
        FileNotFoundError: no such file or preset.
        ValueError: a folder that is no preset, not a valid `.keras` file, or a model that
            does not map images to images (`check_image_model`); the message names the file.
    """
    import keras

    from hinet_tf.models import PRESETS
    from hinet_tf.models import HINetImageRestorer
    from hinet_tf.models import image_restorer

    if spec is None:
        return HINetImageRestorer.from_preset(default_model_path())
    if str(spec) in PRESETS:
        if PRESETS[str(spec)].get("weights"):
            return HINetImageRestorer.from_preset(str(spec))
        warnings.warn(
            f"Preset {spec!r} has random (untrained) weights: its outputs are not restorations. "
            "Pass a trained .keras file or preset directory for real use.",
            stacklevel=2,
        )
        return HINetImageRestorer.from_preset(str(spec), load_weights=False)
    path = Path(spec)
    if path.is_dir():
        if (path / CONFIG_FILE).is_file():
            return HINetImageRestorer.from_preset(path)
        raise ValueError(f"Model {path} is a directory without {CONFIG_FILE}; pass a .keras file or a preset.")
    if not path.is_file():
        raise FileNotFoundError(f"Model {path} does not exist; pass a .keras file or a preset ({', '.join(PRESETS)}).")
    if path.suffix != ".keras":
        raise ValueError(f"Model {path} is not a .keras file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Model {path} is not a valid .keras file (not a zip archive: damaged or of another kind).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # files of the deprecated HINet load as tasks
            loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged archive
        raise ValueError(f"Model {path} is not a valid .keras file ({_first_line(error)})") from None
    try:
        model = image_restorer(loaded)
    except ValueError as error:
        raise ValueError(f"Model {path}: {error}") from None
    check_image_model(model, path)
    return model


def load_models(specs):
    """`(models, warnings)`: `load_model` of each spec, and the messages of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        models = [load_model(spec) for spec in specs]
    return models, [str(warning.message) for warning in caught if issubclass(warning.category, UserWarning)]


def check_image_model(model, name):
    """Raises a one-line ValueError naming `name` unless `model` maps images to images.

    Images are NHWC batches of any height and width with 1 or 3 channels; the model must
    return one such batch with the input's channels.
    """
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise ValueError(f"Model {name} takes {len(inputs)} inputs; an image restoration model takes one.")
    shape = tuple(inputs[0].shape)
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise ValueError(f"Model {name} takes inputs of shape {shape}, not images (batch, height, width, 1 or 3).")
    if shape[1:3] != (None, None):
        raise ValueError(f"Model {name} takes only {shape[1]} x {shape[2]} images; it must take any size.")
    for output in model.outputs:
        if tuple(output.shape) != shape:
            raise ValueError(
                f"Model {name} returns {tuple(output.shape)} for images {shape}; "
                "an image restoration model returns images like its input."
            )


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
