"""The official PyTorch state-dict layout of HINet, mapped onto the Keras model's variables.

Keys are the official ones (`down_path_1.0.conv_1.weight`, `sam12.conv2.bias`, ...).
Every 4D tensor is a kernel: a PyTorch Conv2d weight `(out, in, kh, kw)` is a Keras
Conv2D kernel `(kh, kw, in, out)`, and a ConvTranspose2d weight `(in, out, kh, kw)` is
a Keras Conv2DTranspose kernel `(kh, kw, out, in)`: the same axis permutation for both.
The instance norm's `weight`/`bias` are the InstanceNormalization's (a GroupNormalization's) `gamma`/`beta`.
"""

import numpy as np
from keras import ops

from hinet_tf.convert.errors import CheckpointError

KERAS_FROM_TORCH = (2, 3, 1, 0)
TORCH_FROM_KERAS = (3, 2, 0, 1)

# The only configuration the official code can express besides width, depth, HIN levels and channels.
OFFICIAL_LAYOUT = {"norm": "half_instance", "num_stages": 2, "skip_connections": True, "num_extra_blocks": 0}
CHECKPOINT_KEYS = ("conv_01.weight", "down_path_1.0.conv_1.weight")


def check_official_layout(model):
    """Raises a `ValueError` unless `model` has the layout of the official HINet."""
    differing = {
        name: getattr(model, name, None)
        for name, value in OFFICIAL_LAYOUT.items()
        if getattr(model, name, None) != value
    }
    if differing:
        found = ", ".join(f"{name}={value!r}" for name, value in differing.items())
        needed = ", ".join(f"{name}={value!r}" for name, value in OFFICIAL_LAYOUT.items())
        raise ValueError(f"Only HINet models with {needed} map to the official checkpoints; this one has {found}.")


def variable_map(model):
    """Returns `{official key: Keras variable}` for a HINet backbone (or a task's), in the official order."""
    model = getattr(model, "backbone", model)
    check_official_layout(model)
    variables = {}

    def conv(key, layer):
        variables[f"{key}.weight"] = layer.kernel
        if layer.use_bias:
            variables[f"{key}.bias"] = layer.bias

    def block(key, layer):
        conv(f"{key}.identity", layer.identity)
        conv(f"{key}.conv_1", layer.conv_1)
        conv(f"{key}.conv_2", layer.conv_2)
        if layer.csff is not None:
            conv(f"{key}.csff_enc", layer.csff.csff_enc)
            conv(f"{key}.csff_dec", layer.csff.csff_dec)
        if layer.norm is not None:
            variables[f"{key}.norm.weight"] = layer.norm.instance_norm.gamma
            variables[f"{key}.norm.bias"] = layer.norm.instance_norm.beta
        if layer.downsample is not None:
            conv(f"{key}.downsample", layer.downsample)

    stages = (1, 2)
    for stage in stages:
        for level in range(model.depth):
            block(f"down_path_{stage}.{level}", model.get_layer(f"down_path_{stage}_{level}"))
    conv("conv_01", model.get_layer("conv_01"))
    conv("conv_02", model.get_layer("conv_02"))
    for stage in stages:
        for index in range(model.depth - 1):
            up_block = model.get_layer(f"up_path_{stage}_{index}")
            conv(f"up_path_{stage}.{index}.up", up_block.up)
            block(f"up_path_{stage}.{index}.conv_block", up_block.conv_block)
    for stage in stages:
        for index in range(model.depth - 1):
            conv(f"skip_conv_{stage}.{index}", model.get_layer(f"skip_conv_{stage}_{index}"))
    sam = model.get_layer("sam12")
    for name in ("conv1", "conv2", "conv3"):
        conv(f"sam12.{name}", getattr(sam, name))
    conv("cat12", model.get_layer("cat12"))
    conv("last", model.get_layer("last"))
    return variables


def _torch_shape(variable):
    shape = tuple(variable.shape)
    return tuple(shape[axis] for axis in TORCH_FROM_KERAS) if len(shape) == 4 else shape


def infer_config(state_dict, label="the state dict"):
    """Reads `width`, `depth`, `hin_levels` and `in_channels` off an official state dict.

    HIN levels are the encoder levels of stage 1 that have `norm` tensors (the GoPro and
    REDS checkpoints have none in levels 0-2). The strict key and shape check comes later.
    """
    absent = [key for key in CHECKPOINT_KEYS if key not in state_dict]
    if absent:
        sample = ", ".join(sorted(state_dict)[:5]) or "none"
        raise CheckpointError(
            f"{label} is not a HINet checkpoint: it has no {' or '.join(absent)} (its first keys: {sample})"
        )
    first_conv = state_dict["conv_01.weight"]
    if first_conv.ndim != 4:
        raise CheckpointError(f"{label}: conv_01.weight has shape {first_conv.shape}, expected (width, channels, 3, 3)")
    depth = 0
    while f"down_path_1.{depth}.conv_1.weight" in state_dict:
        depth += 1
    if depth < 2:
        raise CheckpointError(f"{label}: found {depth} encoder level(s) (down_path_1.*), HINet has at least 2")
    return {
        "width": int(first_conv.shape[0]),
        "depth": depth,
        "hin_levels": tuple(level for level in range(depth) if f"down_path_1.{level}.norm.weight" in state_dict),
        "in_channels": int(first_conv.shape[1]),
    }


LISTED = 5  # tensors named per kind of problem; a checkpoint of another model has hundreds


def check_state_dict(model, state_dict, label="the state dict"):
    """Raises a one-line `CheckpointError` counting the missing, unexpected and wrongly shaped tensors, naming some."""
    expected = {key: _torch_shape(variable) for key, variable in variable_map(model).items()}
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    misshaped = [
        f"{key}: {tuple(state_dict[key].shape)}, expected {shape}"
        for key, shape in expected.items()
        if key in state_dict and tuple(state_dict[key].shape) != shape
    ]
    not_float = [
        f"{key}: {state_dict[key].dtype}, expected floating point"
        for key in expected
        if key in state_dict and state_dict[key].dtype.kind != "f"
    ]
    problems = [
        (f"{len(items)} {title}", items)
        for title, items in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("with a wrong shape", misshaped),
            ("with a wrong type", not_float),
        )
        if items
    ]
    if problems:
        listed = " | ".join(
            f"{title}: {'; '.join(items[:LISTED])}{'; ...' if len(items) > LISTED else ''}" for title, items in problems
        )
        raise CheckpointError(f"{label} does not fit {_describe(model)}: {listed}")


def _describe(model):
    return (
        f"HINet(width={model.width}, depth={model.depth}, hin_levels={model.hin_levels}, "
        f"in_channels={model.in_channels})"
    )


def load_state_dict(model, state_dict, label="the state dict"):
    """Assigns an official state dict to `model` after `check_state_dict` passes; strict."""
    check_state_dict(model, state_dict, label)
    for key, variable in variable_map(model).items():
        array = np.asarray(state_dict[key], dtype="float32")
        variable.assign(array.transpose(KERAS_FROM_TORCH) if array.ndim == 4 else array)


def to_pytorch_state_dict(model):
    """Returns the model's weights as `{official key: float32 numpy array}` in PyTorch layout.

    `torch.nn.Module.load_state_dict` of the official HINet (with `torch.from_numpy` on
    each value) accepts it. Raises a `ValueError` for layouts the official code lacks.
    """
    state_dict = {}
    for key, variable in variable_map(model).items():
        array = np.asarray(ops.convert_to_numpy(variable), dtype="float32")
        state_dict[key] = np.ascontiguousarray(array.transpose(TORCH_FROM_KERAS) if array.ndim == 4 else array)
    return state_dict
