"""Training recipes as YAML: defaults, validation and `section.key=value` overrides.

A recipe has five sections (see `configs/*.yaml`); every key not given takes the
default in `SCHEMA`. An unknown key or a bad value is a `ValueError` naming the key.
"""

import copy
import difflib
import warnings
from pathlib import Path

import yaml

DATA_LAYOUTS = ("pairs", "gopro", "sidd", "reds", "rain13k", "photos", "tfrecord")
LOSSES = ("psnr", "psnr_y", "l1")
NORMS = ("half_instance", "instance", "batch", "sync_batch", "layer", "group", "ibn", "none")
CHECKS = ("full", "header", "none")


def _number(low=None, high=None, integer=False, low_open=False):
    def check(value):
        if isinstance(value, str):
            try:
                value = float(value)  # YAML reads "2e-4" (no dot) as a string
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, got {value!r}")
        if integer:
            if value != int(value):
                raise ValueError(f"must be an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if low is not None and (value <= low if low_open else value < low):
            raise ValueError(f"must be {'>' if low_open else '>='} {low}, got {value!r}")
        if high is not None and value > high:
            raise ValueError(f"must be <= {high}, got {value!r}")
        return value

    return check


def _choice(options, optional=False):
    def check(value):
        if value is None and optional:
            return None
        if value not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}; got {value!r}")
        return value

    return check


def _boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _optional_text(value):
    if value is not None and not isinstance(value, str):
        raise ValueError(f"must be a string or null, got {value!r}")
    return value


def _optional(check):
    return lambda value: None if value is None else check(value)


def _levels(value):
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(level, int) and level >= 0 for level in value):
        raise ValueError(f"must be a list of encoder levels (integers >= 0) or null for all, got {value!r}")
    return value


def _degradations(value):
    if not isinstance(value, list) or not all(isinstance(spec, dict) and "type" in spec for spec in value):
        raise ValueError(f"must be a list of {{type: ..., ...}} mappings, got {value!r}")
    from hinet_tf.data.synthetic import build_degradation

    build_degradation(value)  # raises naming the bad entry
    return value


SCHEMA = {
    "model": {
        "width": (64, _number(1, integer=True)),
        "depth": (5, _number(2, 8, integer=True)),
        "hin_levels": (None, _levels),
        "relu_slope": (0.2, _number(0, 1)),
        "norm": ("half_instance", _choice(NORMS)),
        "num_stages": (2, _number(1, 2, integer=True)),
        "skip_connections": (True, _boolean),
        "num_extra_blocks": (0, _number(0, integer=True)),
    },
    "loss": {
        "name": ("psnr", _choice(LOSSES)),
        "weight": (0.5, _number(0, low_open=True)),
    },
    "optimizer": {
        "learning_rate": (2e-4, _number(0, low_open=True)),
        "min_learning_rate": (1e-7, _number(0)),
        "beta_1": (0.9, _number(0, 1)),
        "beta_2": (0.99, _number(0, 1)),
        "epsilon": (1e-8, _number(0, low_open=True)),
        "warmup_steps": (0, _number(0, integer=True)),
        "clip_norm": (0.01, _optional(_number(0, low_open=True))),
    },
    "train": {
        "steps": (400000, _number(1, integer=True)),
        "steps_per_epoch": (1000, _number(1, integer=True)),
        "batch_size": (64, _number(1, integer=True)),
        "crop_size": (256, _number(16, integer=True)),
        "mixed_precision": (False, _boolean),
        "seed": (0, _number(0, integer=True)),
        "steps_per_execution": (1, _number(1, integer=True)),
        "log_images": (4, _number(0, integer=True)),
        "init_weights": (None, _optional_text),
    },
    "data": {
        "root": (None, _optional_text),
        "layout": ("pairs", _choice(DATA_LAYOUTS)),
        "train_split": ("train", _optional_text),
        "val_split": (None, _optional_text),
        "val_subset": (None, _optional_text),
        "val_root": (None, _optional_text),
        "val_images": (32, _number(1, integer=True)),
        "val_crop": (None, _optional(_number(16, integer=True))),
        "val_tile": (256, _optional(_number(16, integer=True))),
        "val_y_channel": (False, _boolean),
        "val_quantize": (True, _boolean),
        "augment": (True, _boolean),
        "patches_per_image": (1, _number(1, integer=True)),
        "degradations": ([], _degradations),
        "check": ("full", _choice(CHECKS)),
    },
}


# Keys of earlier versions: still read, so that older configs and run folders keep working.
RETIRED_KEYS = {"data.val_batch_size": "validation restores one whole image at a time"}


def defaults():
    """The default config: every section and key of `SCHEMA`."""
    return {section: {key: copy.deepcopy(spec[0]) for key, spec in keys.items()} for section, keys in SCHEMA.items()}


def _unknown(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown config key {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def validate(config):
    """Returns the complete, checked config: defaults filled in, numbers coerced.

    Raises:
        ValueError: naming an unknown key or a bad value.
    """
    if not isinstance(config, dict):
        raise ValueError(f"a config must be a mapping of sections, got {type(config).__name__}")
    resolved = defaults()
    for section, values in config.items():
        if section not in SCHEMA:
            raise ValueError(_unknown(str(section), list(SCHEMA)))
        if not isinstance(values, dict):
            raise ValueError(f"config section {section!r} must be a mapping, got {values!r}")
        for key, value in values.items():
            if f"{section}.{key}" in RETIRED_KEYS:
                warnings.warn(f"config key '{section}.{key}' is no longer used ({RETIRED_KEYS[f'{section}.{key}']})")
                continue
            if key not in SCHEMA[section]:
                raise ValueError(_unknown(f"{section}.{key}", [f"{section}.{name}" for name in SCHEMA[section]]))
            try:
                resolved[section][key] = SCHEMA[section][key][1](value)
            except ValueError as error:
                raise ValueError(f"config key '{section}.{key}' {error}") from error
    _check_consistent(resolved)
    return resolved


def _check_consistent(config):
    data, train = config["data"], config["train"]
    if data["layout"] == "photos" and not data["degradations"]:
        raise ValueError("config key 'data.degradations' must not be empty for layout 'photos' (clean-only images)")
    if data["val_split"] == "sidd_blocks" and data["layout"] not in ("sidd", "tfrecord"):
        raise ValueError("config key 'data.val_split' sidd_blocks needs data.layout sidd")
    if config["optimizer"]["min_learning_rate"] > config["optimizer"]["learning_rate"]:
        raise ValueError("config key 'optimizer.min_learning_rate' must not exceed optimizer.learning_rate")
    if train["steps"] % train["steps_per_epoch"]:
        raise ValueError(
            f"config key 'train.steps' ({train['steps']}) must be a multiple of train.steps_per_epoch "
            f"({train['steps_per_epoch']}): training runs whole epochs"
        )


def parse_override(text):
    """`"train.batch_size=8"` -> `("train", "batch_size", 8)`; the value is read as YAML."""
    name, separator, value = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not separator or not dot or not key:
        raise ValueError(f"an override must look like section.key=value, got {text!r}")
    try:
        return section, key, yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as error:
        raise ValueError(f"cannot read the value of override {text!r}: {error}") from error


def load_config(path, overrides=()):
    """Reads a YAML recipe, applies `section.key=value` overrides and validates the result.

    Raises:
        ValueError: the file cannot be read, or names an unknown key or a bad value.
    """
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise ValueError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"config {path} is not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise ValueError(f"config {path} must be a mapping of sections, got {type(config).__name__}")
    for override in overrides:
        section, key, value = parse_override(override)
        config.setdefault(section, {})
        if not isinstance(config[section], dict):
            raise ValueError(f"config section {section!r} in {path} must be a mapping")
        config[section][key] = value
    try:
        return validate(config)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def dump_config(config):
    """The config as YAML text, in schema order."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
