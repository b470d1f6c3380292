"""Official PyTorch HINet checkpoints to Keras backbones, `.keras` files and presets, and back."""

from pathlib import Path

from hinet_tf.convert.checkpoint_io import describe
from hinet_tf.convert.checkpoint_io import read_state_dict
from hinet_tf.convert.checkpoint_io import write_state_dict
from hinet_tf.convert.errors import CheckpointError
from hinet_tf.convert.state_dict import OFFICIAL_LAYOUT
from hinet_tf.convert.state_dict import infer_config
from hinet_tf.convert.state_dict import load_state_dict
from hinet_tf.convert.state_dict import to_pytorch_state_dict
from hinet_tf.models import HINetBackbone
from hinet_tf.models import preset_utils
from hinet_tf.models.hinet import hinet_presets
from hinet_tf.models.loading import load_model
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.atomic import check_replaceable
from hinet_tf.utils.atomic import check_writable

# Arguments that only shape the Keras model: a checkpoint neither stores nor constrains them.
BUILD_OPTIONS = ("relu_slope", "dtype", "name")


def _check_expected(config, expected_config, label):
    known = (*config, *OFFICIAL_LAYOUT, *BUILD_OPTIONS)
    unknown = sorted(set(expected_config) - set(known))
    if unknown:
        raise TypeError(f"from_pytorch() got unknown HINet arguments {unknown}; known ones: {', '.join(known)}")
    stored = {**config, **OFFICIAL_LAYOUT}
    mismatches = []
    for name, value in expected_config.items():
        if name in BUILD_OPTIONS:
            continue
        if name == "hin_levels":
            value = tuple(range(config["depth"])) if value is None else tuple(sorted({int(v) for v in value}))
        if value != stored[name]:
            mismatches.append(f"{name}={value!r} was asked for, the checkpoint has {stored[name]!r}")
    if mismatches:
        raise CheckpointError(f"{label} does not match the requested configuration: " + "; ".join(mismatches))


def from_pytorch(source, **expected_config):
    """Builds a `HINetBackbone` holding the weights of an official PyTorch checkpoint.

    The configuration (width, depth, HIN levels, input channels) is read off the
    checkpoint's keys and shapes; any HINet argument given is checked against it
    (`relu_slope`, `dtype` and `name` only shape the Keras model).

    Args:
        source: a `.pth` path (the official `{"params": state_dict}` or a bare state
            dict; read with `torch.load(weights_only=True)`), a `.npz` path of the same
            tensors (no PyTorch needed; `params/<key>` names are accepted too), or a
            mapping of names to arrays or tensors. `module.` prefixes are stripped.
        **expected_config: `HINetBackbone` arguments the checkpoint must agree with.

    Raises:
        CheckpointError: the file is unreadable, is not a HINet checkpoint, disagrees
            with `expected_config`, or has missing, unexpected or wrongly shaped tensors
            (all of them are listed).
    """
    label = describe(source)
    state_dict = read_state_dict(source)
    config = infer_config(state_dict, label)
    _check_expected(config, expected_config, label)
    options = {name: expected_config[name] for name in BUILD_OPTIONS if name in expected_config}
    model = HINetBackbone(**config, **options)
    load_state_dict(model, state_dict, label)
    return model


def save_pytorch_checkpoint(model, path, overwrite=False):
    """Writes `model`'s weights in the official key layout to `path`.

    A `.pth` path gets the official `{"params": state_dict}` (needs PyTorch), loadable by
    the official code; a `.npz` path gets one array per key (no PyTorch needed). The file
    appears only once complete.
    """
    write_state_dict(to_pytorch_state_dict(model), path, overwrite=overwrite)


def convert_checkpoint(source, output=None, preset_dir=None, preset=None, overwrite=False):
    """Converts an official checkpoint into a `.keras` file of its backbone and/or a preset directory.

    Args:
        source: what `from_pytorch` reads.
        output: the `.keras` file to write, or None.
        preset_dir: the preset directory to write (`config.json`, `model.weights.h5`,
            `metadata.json`), or None; `HINetImageRestorer.from_preset(preset_dir)` loads it.
        preset: a built-in preset name the checkpoint's configuration must match, or None.
        overwrite: replace an existing `output` file or `preset_dir` preset (a folder
            holding anything else is never replaced: `FileExistsError`, before converting).
            Missing folders above either are created; one that cannot be is a `ValueError`,
            before converting.

    Returns:
        The converted `HINetBackbone`.
    """
    expected = {}
    if preset is not None:
        if preset not in hinet_presets.architecture_presets():
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(hinet_presets.architecture_presets())}")
        expected = hinet_presets.backbone_presets[preset]["config"]
    for path, layout in ((output, None), (preset_dir, preset_utils.PRESET)):
        if path is not None:  # before the conversion; missing folders are created
            check_replaceable(path, overwrite, layout)
            check_writable(Path(path).parent)
    backbone = from_pytorch(source, **expected)
    if output is not None:
        with atomic_write(output, overwrite=overwrite) as temporary:
            backbone.save(temporary)
    if preset_dir is not None:
        preset_utils.save_backbone(backbone, preset_dir, overwrite=overwrite)  # the folder is replaced whole
    return backbone


def load_backbone_file(path):
    """The `HINetBackbone` in a `.keras` file (of a task or a backbone) or a preset directory.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a readable model, or no HINet in it; the message names the file.
    """
    backbone = getattr(load_model(path), "backbone", None)
    if not isinstance(backbone, HINetBackbone):
        raise ValueError(f"{path} holds no HINet model")
    return backbone
