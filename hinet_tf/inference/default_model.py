"""Finds and loads the model `hinet restore` uses: the shipped default, a `.keras` file or a preset."""

import sys
import warnings
import zipfile
from pathlib import Path

DEFAULT_MODEL_FILE = "hinet_photo_denoise.keras"


def default_model_candidates():
    """Where the shipped model is looked for: the source checkout, then the installed data files."""
    return (
        Path(__file__).resolve().parents[2] / "saved_models" / DEFAULT_MODEL_FILE,
        Path(sys.prefix) / "share" / "hinet-tf" / "saved_models" / DEFAULT_MODEL_FILE,
    )


def default_model_path():
    """The path of the shipped photo-denoising model; `FileNotFoundError` if it is absent."""
    for path in default_model_candidates():
        if path.is_file():
            return path
    looked = ", ".join(str(path) for path in default_model_candidates())
    raise FileNotFoundError(
        f"The default model {DEFAULT_MODEL_FILE} is not installed (looked at {looked}); "
        "pass --model with a .keras file or a preset name."
    )


def load_model(spec=None):
    """Loads a model from a `.keras` path or builds a preset; None means the default model.

    A preset has random weights, so it warns that its outputs are untrained.

    Raises:
        FileNotFoundError: no such file or preset.
        ValueError: a folder, not a valid `.keras` file, or a model that does not map
            images to images (`check_image_model`); the message names the file.
    """
    import keras

    from hinet_tf.models import HINet
    from hinet_tf.models.presets import PRESETS

    if spec is None:
        spec = default_model_path()
    elif str(spec) in PRESETS:
        warnings.warn(
            f"Preset {spec!r} has random (untrained) weights: its outputs are not restorations. "
            "Pass a trained .keras file for real use.",
            stacklevel=2,
        )
        return HINet.from_preset(str(spec))
    path = Path(spec)
    if path.is_dir():
        raise ValueError(f"Model {path} is a directory; pass a .keras file or a preset.")
    if not path.is_file():
        raise FileNotFoundError(
            f"Model {path} does not exist; pass a .keras file or a preset ({', '.join(PRESETS)})."
        )
    if path.suffix != ".keras":
        raise ValueError(f"Model {path} is not a .keras file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"Model {path} is not a valid .keras file (not a zip archive: damaged or of another kind).")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged archive
        raise ValueError(f"Model {path} is not a valid .keras file ({_first_line(error)})") from None
    check_image_model(model, path)
    return model


def check_image_model(model, name):
    """Raises a one-line ValueError naming `name` unless `model` maps images to images.

    Images are NHWC batches of any height and width with 1 or 3 channels; every output
    must be such a batch with the input's channels (HINet returns one per stage).
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
