"""Preset directories in keras-hub's layout: `config.json`, `model.weights.h5` and `metadata.json`.

`save_backbone` writes one, `load_backbone` reads a directory or a built-in name of a table
of presets (HINet's: `hinet_presets.backbone_presets`). Built-in presets with weights are
directories looked up in the source checkout's `saved_models/`, then in the installed data files.
"""

import datetime
import json
import sys
from pathlib import Path

import keras

from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.version import __version__

CONFIG_FILE = "config.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
PRESET_FILES = (CONFIG_FILE, MODEL_WEIGHTS_FILE, METADATA_FILE)
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


def save_backbone(backbone, preset_dir):
    """Writes `backbone` as a preset directory; each file appears complete or not at all."""
    preset_dir = Path(preset_dir)
    preset_dir.mkdir(parents=True, exist_ok=True)
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
    with atomic_write(preset_dir / MODEL_WEIGHTS_FILE) as temporary:
        backbone.save_weights(temporary)
    atomic_write_text(preset_dir / CONFIG_FILE, json.dumps(config, indent=4) + "\n")
    atomic_write_text(preset_dir / METADATA_FILE, json.dumps(metadata, indent=4) + "\n")


def load_backbone(cls, preset, presets, load_weights=True, **kwargs):
    """Builds the backbone of `preset` (a name in `presets` or a directory); `kwargs` override its config.

    Raises:
        ValueError: an unknown name, a directory without `config.json`, a preset of
            another class, or weights asked of an architecture-only preset.
    """
    if str(preset) in presets and "config" in presets[str(preset)]:
        if load_weights:
            raise ValueError(_no_weights_message(str(preset), presets[str(preset)]))
        return cls(**{**presets[str(preset)]["config"], **kwargs})
    preset_dir = _preset_dir(preset, presets)
    config = json.loads((preset_dir / CONFIG_FILE).read_text())
    found = keras.saving.get_registered_object(config.get("registered_name", ""))
    if found is None or not issubclass(found, cls):
        raise ValueError(
            f"Preset {preset} holds a {config.get('class_name')}, not a {cls.__name__}; "
            f"call {config.get('class_name')}.from_preset instead."
        )
    config["config"] = {**config["config"], **kwargs}
    backbone = keras.saving.deserialize_keras_object(config)
    if load_weights:
        weights = preset_dir / MODEL_WEIGHTS_FILE
        if not weights.is_file():
            raise ValueError(f"Preset {preset} has no {MODEL_WEIGHTS_FILE}; pass load_weights=False for random weights.")
        backbone.load_weights(weights)
    return backbone


def _preset_dir(preset, presets):
    if str(preset) in presets:
        return shipped_preset_dir(str(preset))
    path = Path(preset)
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
