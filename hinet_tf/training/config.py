"""Training recipes as YAML, read into typed, frozen sections: `config.train.batch_size`.

A recipe has five sections (see `configs/*.yaml`), each a frozen dataclass below whose
fields are the keys, with their defaults and checks. Every key not given takes its default.
An unknown key or a bad value is a `ValueError` naming the key. The names a key may take
(norms, losses, layouts, file checks, degradations) come from the modules that implement them.
"""

import dataclasses
import difflib
import math
import re
import warnings
from pathlib import Path

import yaml

from hinet_tf.data.check import CHECKS
from hinet_tf.data.layouts import TRAINING_LAYOUTS
from hinet_tf.data.synthetic import build_degradation
from hinet_tf.layers.normalization import NORMALIZATIONS
from hinet_tf.losses import LOSSES
from hinet_tf.models.hinet.hinet_backbone import check_arguments
from hinet_tf.utils.messages import first_line


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, but `3e-5` and `1e3` (no dot, YAML 1.1 strings) are floats, as in YAML 1.2."""


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting the strings `_Loader` would read as floats (a `data.root` of "1e5")."""


for _yaml_class in (_Loader, _Dumper):
    _yaml_class.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."),
    )


def read_yaml(text):
    """Config YAML: PyYAML's safe loading, with `3e-5` a float."""
    return yaml.load(text, Loader=_Loader)


def _number(low=None, high=None, integer=False, low_open=False, high_open=False):
    if integer and high is None:
        high = 2**31 - 1  # the counts and sizes TensorFlow's int32 shapes and steps take

    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        if integer and value != int(value):
            raise ValueError(f"must be an integer, got {value!r}")
        if low is not None and (value <= low if low_open else value < low):
            raise ValueError(f"must be {'>' if low_open else '>='} {low}, got {value!r}")
        if high is not None and (value >= high if high_open else value > high):
            raise ValueError(f"must be {'<' if high_open else '<='} {high}, got {value!r}")
        return int(value) if integer else float(value)

    return check


def _choice(options):
    def check(value):
        if value not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}; got {value!r}")
        return value

    return check


def _boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _boolean_or_auto(value):
    if not isinstance(value, bool) and value != "auto":
        raise ValueError(f"must be true, false or auto, got {value!r}")
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
    if not isinstance(value, list) or not all(isinstance(level, int) for level in value):
        raise ValueError(f"must be a list of encoder levels (integers) or null for all, got {value!r}")
    return value


def _degradations(value):
    if not isinstance(value, list) or not all(isinstance(spec, dict) and "type" in spec for spec in value):
        raise ValueError(f"must be a list of {{type: ..., ...}} mappings, got {value!r}")
    build_degradation(value)  # raises naming the bad entry
    return value


def _scales(value):
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of scale factors, got {value!r}")
    return [_number(0.25, 4.0)(factor) for factor in value]


def _key(default, check):
    """A config key: its default and the check that validates (and coerces) a value."""
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata={"check": check})
    return dataclasses.field(default=default, metadata={"check": check})


class _Section:
    def to_dict(self):
        """The section as plain YAML values."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelConfig(_Section):
    """`model`: the HINet arguments; `HINetBackbone`'s own checks say which combinations it takes."""

    width: int = _key(64, _number(1, integer=True))
    depth: int = _key(5, _number(integer=True))
    hin_levels: list | None = _key(None, _levels)
    relu_slope: float = _key(0.2, _number(0, 1))
    norm: str = _key("half_instance", _choice(NORMALIZATIONS))
    num_stages: int = _key(2, _number(integer=True))
    skip_connections: bool = _key(True, _boolean)
    num_extra_blocks: int = _key(0, _number(0, integer=True))


@dataclasses.dataclass(frozen=True)
class LossConfig(_Section):
    """`loss`: the loss of each stage output and its weight."""

    name: str = _key("psnr", _choice(LOSSES))
    weight: float = _key(0.5, _number(0, low_open=True))


@dataclasses.dataclass(frozen=True)
class OptimizerConfig(_Section):
    """`optimizer`: PyTorch's Adam, the cosine schedule and gradient clipping."""

    learning_rate: float = _key(2e-4, _number(0, low_open=True))
    min_learning_rate: float = _key(1e-7, _number(0))
    beta_1: float = _key(0.9, _number(0, 1, high_open=True))  # Adam divides by 1 - beta ** step
    beta_2: float = _key(0.99, _number(0, 1, high_open=True))
    epsilon: float = _key(1e-8, _number(0, low_open=True))
    warmup_steps: int = _key(0, _number(0, integer=True))
    clip_norm: float | None = _key(0.01, _optional(_number(0, low_open=True)))


@dataclasses.dataclass(frozen=True)
class TrainConfig(_Section):
    """`train`: steps, batches and the run's settings."""

    steps: int = _key(400000, _number(1, integer=True))
    steps_per_epoch: int = _key(1000, _number(1, integer=True))
    batch_size: int = _key(64, _number(1, integer=True))
    crop_size: int = _key(256, _number(16, integer=True))
    mixed_precision: bool = _key(False, _boolean)
    seed: int = _key(0, _number(0, 2**32 - 1, integer=True))  # NumPy's seed range
    steps_per_execution: int = _key(1, _number(1, integer=True))
    # XLA-compile the train step (`keras.Model.compile(jit_compile=...)`); "auto" times both (`xla_choice`).
    jit_compile: bool | str = _key(False, _boolean_or_auto)
    log_images: int = _key(4, _number(0, integer=True))
    init_weights: str | None = _key(None, _optional_text)


@dataclasses.dataclass(frozen=True)
class DataConfig(_Section):
    """`data`: where the images are, how they are read, degraded and validated."""

    root: str | None = _key(None, _optional_text)
    layout: str = _key("pairs", _choice(TRAINING_LAYOUTS))
    train_split: str | None = _key("train", _optional_text)
    val_split: str | None = _key(None, _optional_text)
    val_subset: str | None = _key(None, _optional_text)
    val_root: str | None = _key(None, _optional_text)
    val_images: int = _key(32, _number(1, integer=True))
    val_crop: int | None = _key(None, _optional(_number(16, integer=True)))
    val_tile: int | None = _key(256, _optional(_number(16, integer=True)))
    augment: bool = _key(True, _boolean)
    patches_per_image: int = _key(1, _number(1, integer=True))
    # Layout "photos": each training photo is used at every one of these scales (bicubic).
    scales: list = _key([1.0], _scales)
    degradations: list = _key([], _degradations)
    check: str = _key("full", _choice(CHECKS))


SECTIONS = {
    "model": ModelConfig,
    "loss": LossConfig,
    "optimizer": OptimizerConfig,
    "train": TrainConfig,
    "data": DataConfig,
}


@dataclasses.dataclass(frozen=True)
class Config:
    """A validated recipe (from `validate` or `load_config`), one frozen dataclass per section."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)

    def to_dict(self):
        """`{section: {key: value}}` in the order of the sections and keys: what `config.yaml` holds."""
        return {section: getattr(self, section).to_dict() for section in SECTIONS}

    def replace(self, **changes):
        """A validated copy with some keys changed: `config.replace(data={"root": "/data/GoPro"})`.

        Raises:
            ValueError: as `validate`.
        """
        values = self.to_dict()
        for section, keys in changes.items():
            values.setdefault(section, {}).update(keys)
        return validate(values)


# Keys of earlier versions: still read, so that older configs and run folders keep working.
RETIRED_KEYS = {
    "data.val_batch_size": "validation restores one whole image at a time",
    "data.val_y_channel": "validation is scored as data.layout is, by hinet_tf.data.layouts.scoring",
    "data.val_quantize": "validation is scored as data.layout is, by hinet_tf.data.layouts.scoring",
}


def _unknown(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown config key {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def validate(config):
    """Returns the complete, checked `Config` of a mapping of sections: defaults filled in, numbers coerced.

    Raises:
        ValueError: naming an unknown key or a bad value.
    """
    if not isinstance(config, dict):
        raise ValueError(f"a config must be a mapping of sections, got {type(config).__name__}")
    resolved = {section: {} for section in SECTIONS}
    for section, values in config.items():
        if section not in SECTIONS:
            raise ValueError(_unknown(str(section), list(SECTIONS)))
        if not isinstance(values, dict):
            raise ValueError(f"config section {section!r} must be a mapping, got {values!r}")
        for key, value in values.items():
            if f"{section}.{key}" in RETIRED_KEYS:
                warnings.warn(f"config key '{section}.{key}' is no longer used ({RETIRED_KEYS[f'{section}.{key}']})")
                continue
            resolved[section][key] = _checked_value(section, key, value)
    config = Config(**{section: SECTIONS[section](**values) for section, values in resolved.items()})
    _check_consistent(config)
    return config


def _checked_value(section, key, value):
    """`value` as the key `section.key` (of a known section) takes it; ValueError naming an unknown key or a bad value."""
    checks = {field.name: field.metadata["check"] for field in dataclasses.fields(SECTIONS[section])}
    if key not in checks:
        raise ValueError(_unknown(f"{section}.{key}", [f"{section}.{name}" for name in checks]))
    try:
        return checks[key](value)
    except ValueError as error:
        raise ValueError(f"config key '{section}.{key}' {error}") from error


def _check_consistent(config):
    data, train, optimizer, model = config.data, config.train, config.optimizer, config.model
    try:
        check_arguments(model.width, model.depth, model.hin_levels, model.norm, model.num_stages)
    except ValueError as error:
        raise ValueError(f"config section 'model': {error}") from None
    if data.layout == "photos" and not data.degradations:
        raise ValueError("config key 'data.degradations' must not be empty for layout 'photos' (clean-only images)")
    if data.scales != [1.0] and data.layout != "photos":
        raise ValueError(f"config key 'data.scales' applies to layout 'photos' only, not {data.layout!r}")
    if data.val_split == "sidd_blocks" and data.layout not in ("sidd", "tfrecord"):
        raise ValueError("config key 'data.val_split' sidd_blocks needs data.layout sidd")
    if optimizer.min_learning_rate > optimizer.learning_rate:
        raise ValueError("config key 'optimizer.min_learning_rate' must not exceed optimizer.learning_rate")
    if train.steps % train.steps_per_epoch:
        raise ValueError(
            f"config key 'train.steps' ({train.steps}) must be a multiple of train.steps_per_epoch "
            f"({train.steps_per_epoch}): training runs whole epochs"
        )


def parse_override(text):
    """`"train.batch_size=8"` -> `("train", "batch_size", 8)`; the value is read as YAML."""
    name, separator, value = text.partition("=")
    section, dot, key = name.strip().partition(".")
    if not separator or not dot or not key:
        raise ValueError(f"an override must look like section.key=value, got {text!r}")
    try:
        return section, key, read_yaml(value) if value.strip() else None
    except yaml.YAMLError as error:
        raise ValueError(f"cannot read the value of override {text!r}: {_yaml_problem(error)}") from error


def _yaml_problem(error):
    """PyYAML's error in one line: the problem and where (its message quotes the text over several lines)."""
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return f"{getattr(error, 'problem', None) or first_line(error)}{where}"


def load_config(path, overrides=()):
    """Reads a YAML recipe, applies `section.key=value` overrides (`--set`) and returns the validated `Config`.

    Raises:
        ValueError: the file cannot be read, or names an unknown key or a bad value (the
            message names the file); or an override does (the message names the override).
    """
    path = Path(path)
    try:
        config = read_yaml(path.read_text()) or {}
    except OSError as error:
        raise ValueError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"config {path} is not valid YAML: {_yaml_problem(error)}") from error
    if not isinstance(config, dict):
        raise ValueError(f"config {path} must be a mapping of sections, got {type(config).__name__}")
    sources = [(str(path), config)]  # each source and the config as it leaves it
    for override in overrides:
        section, key, value = parse_override(override)
        if not isinstance(config.get(section, {}), dict):
            raise ValueError(f"config section {section!r} in {path} must be a mapping")
        config = {**config, section: {**config.get(section, {}), key: value}}
        sources.append((f"--set {override}", config))
    try:
        return validate(config)
    except ValueError as error:
        raise ValueError(f"{_blamed(sources, str(error))}: {error}") from error


def _blamed(sources, message):
    """The source (the file or an override) from which on every config fails with `message`."""
    blamed = sources[-1][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # validate warned of retired keys already
        for source, config in reversed(sources[:-1]):
            if _problem(config) != message:
                break
            blamed = source
    return blamed


def _problem(config):
    """`validate`'s error message for `config`, or None if it is valid."""
    try:
        validate(config)
    except ValueError as error:
        return str(error)
    return None


def dump_config(config):
    """The `Config` as YAML text, in the order of its sections and keys."""
    return yaml.dump(config.to_dict(), Dumper=_Dumper, sort_keys=False, default_flow_style=None)
