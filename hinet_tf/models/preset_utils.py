"""Preset directories in keras-hub's layout: `config.json`, `model.weights.h5` and `metadata.json`.

`save_backbone` writes one, `load_backbone` reads a directory or a built-in name of a table
of presets (HINet's: `hinet_presets.backbone_presets`). Built-in presets with weights are
directories looked up in the source checkout's `saved_models/`, then in the installed data files.
Keras is imported where a backbone is written or built, so that finding a preset does not load it.
"""

import datetime
import json
import os
import sys
import warnings
from pathlib import Path

from hinet_tf.utils.atomic import FolderLayout
from hinet_tf.utils.atomic import atomic_directory
from hinet_tf.utils.atomic import recover_directory
from hinet_tf.utils.messages import first_line
from hinet_tf.version import __version__

CONFIG_FILE = "config.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
PRESET_FILES = (CONFIG_FILE, MODEL_WEIGHTS_FILE, METADATA_FILE)
# A preset folder holds these files and nothing else: `overwrite` replaces only such a folder.
PRESET = FolderLayout("a preset", CONFIG_FILE, PRESET_FILES)
TASKS = ("HINetImageRestorer",)


def shipped_preset_candidates(name):
    """Where the shipped preset `name` is looked for: the source checkout, then the installed data files."""
    return (
        Path(__file__).resolve().parents[2] / "saved_models" / name,
        Path(sys.prefix) / "share" / "hinet-tf" / "saved_models" / name,
    )


def shipped_preset_dir(name):
    """The directory of the shipped preset `name`; `FileNotFoundError` if it is not installed."""
    for path in shipped_preset_candidates(name):
        if (path / CONFIG_FILE).is_file():
            return path
    looked = ", ".join(str(path) for path in shipped_preset_candidates(name))
    raise FileNotFoundError(f"The shipped preset {name!r} is not installed (looked at {looked}).")


def save_backbone(backbone, preset_dir, overwrite=True):
    """Writes `backbone` as a preset directory, which appears (or replaces the old one) whole or not at all.

    Raises:
        FileExistsError: `preset_dir` exists and is not a preset (`PRESET`: other files
            would be lost), or is a preset and `overwrite` is false.
    """
    import keras

    config = keras.saving.serialize_keras_object(backbone)
    for key in ("compile_config", "build_config"):
        config.pop(key, None)
    metadata = {
        "keras_version": keras.version(),
        "hinet_tf_version": __version__,
        "parameter_count": backbone.count_params(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tasks": list(TASKS),
    }
    with atomic_directory(preset_dir, PRESET, overwrite) as folder:
        backbone.save_weights(folder / MODEL_WEIGHTS_FILE)
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=4) + "\n")
        (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=4) + "\n")


def load_backbone(cls, preset, presets, load_weights=True, **kwargs):
    """Builds the backbone of `preset` (a name in `presets` or a directory); `kwargs` override its config.

    Raises:
        ValueError: an unknown name, a directory without `config.json`, a `config.json`
            that is no valid JSON or config, a preset of another class, weights asked of an
            architecture-only preset, or weights that are damaged or do not fit the config;
            the message is one line and names the file.
    """
    import keras

    if not isinstance(preset, (str, os.PathLike)):
        raise ValueError(f"A preset is a name or a directory, got {preset!r}; the built-in names: {', '.join(presets)}.")
    if str(preset) in presets and "config" in presets[str(preset)]:
        if load_weights:
            raise ValueError(_no_weights_message(str(preset), presets[str(preset)]))
        return cls(**{**presets[str(preset)]["config"], **kwargs})
    preset_dir = _preset_dir(preset, presets)
    config_path = preset_dir / CONFIG_FILE
    try:
        config = json.loads(config_path.read_bytes())
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{config_path} is not valid JSON ({first_line(error)})") from None
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{config_path} is not the config of a Keras model (no 'config' object)")
    found = keras.saving.get_registered_object(str(config.get("registered_name", "")))
    if found is None or not issubclass(found, cls):
        raise ValueError(
            f"Preset {preset} holds a {config.get('class_name')}, not a {cls.__name__}; "
            f"call {config.get('class_name')}.from_preset instead."
        )
    architecture = {key: value for key, value in kwargs.items() if key not in ("dtype", "name", "trainable")}
    overrides = [f"{key}={value!r}" for key, value in architecture.items() if config["config"].get(key) != value]
    config["config"] = {**config["config"], **kwargs}
    try:
        backbone = keras.saving.deserialize_keras_object(config)
    except Exception as error:  # Keras raises many types for a bad config
        raise ValueError(
            f"{config_path} does not describe a valid {cls.__name__} ({first_line(error)})"
        ) from None
    if load_weights:
        weights = preset_dir / MODEL_WEIGHTS_FILE
        if not weights.is_file():
            raise ValueError(
                f"{weights} is missing: the preset has no weights (in Python, load_weights=False gives random ones)."
            )
        read_weights(backbone, weights, f"its {CONFIG_FILE}" + (f" with {', '.join(overrides)}" if overrides else ""))
    return backbone


def read_weights(model, path, described_by="the model"):
    """Loads the `.weights.h5` file `path` into `model`, with errors of one line that name the file.

    `described_by` is what the model was built from, for the message when the weights do
    not fit it. Keras' warnings of a load that fails are dropped: the error says it all.

    Raises:
        ValueError: the file is no readable weights file (damaged, truncated, another
            format), or holds the weights of another architecture.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
        except OSError as error:  # h5py: no HDF5 signature, a truncated file
            raise ValueError(f"{path} is not a readable weights file ({first_line(error)})") from None
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path} does not fit {described_by}: it holds the weights of another architecture"
            ) from None
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def _preset_dir(preset, presets):
    if str(preset) in presets:
        return shipped_preset_dir(str(preset))
    path = Path(preset)
    recover_directory(path)  # a swap of `save_backbone` that a kill interrupted
    if (path / CONFIG_FILE).is_file():
        return path
    if path.exists():
        raise ValueError(f"{path} is not a preset directory (no {CONFIG_FILE}).")
    raise ValueError(f"Unknown preset {str(preset)!r}; choose a preset directory or one of {', '.join(presets)}.")


def _no_weights_message(name, preset):
    checkpoint = preset.get("checkpoint")
    convert = (
        f" Convert the official checkpoint into a preset with `hinet convert {checkpoint} --preset-dir DIR`, "
        "then call from_preset(DIR)."
        if checkpoint
        else " Train one (`hinet train`), or convert an official checkpoint with `hinet convert X.pth --preset-dir DIR`."
    )
    return f"Preset {name!r} is an architecture only: no weights are in reach. Pass load_weights=False for random weights.{convert}"
