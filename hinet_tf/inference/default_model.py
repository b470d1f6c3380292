"""Finds and loads the model `hinet restore` uses: the shipped default, a `.keras` file or a preset."""

import sys
import warnings
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
    if not path.is_file():
        raise FileNotFoundError(
            f"Model {path} does not exist; pass a .keras file or a preset ({', '.join(PRESETS)})."
        )
    if path.suffix != ".keras":
        raise ValueError(f"Model {path} is not a .keras file.")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged archive
        raise ValueError(f"Cannot load model {path}: {error}") from error
