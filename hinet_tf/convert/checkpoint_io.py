"""Reading and writing state dicts: official `.pth` files, `.npz` archives and in-memory mappings.

PyTorch is optional: it is imported only to read or write `.pth` files, and only
ever loads with `weights_only=True` (no arbitrary unpickling).
"""

import collections.abc
import os
import pathlib
import zipfile
import zlib

import numpy as np

from hinet_tf.convert.errors import CheckpointError
from hinet_tf.utils.atomic import atomic_write
from hinet_tf.utils.messages import first_line

TORCH_MISSING = (
    ".pth files need PyTorch: install it with `pip install \"hinet-tf[torch]\"`, "
    "or use a .npz archive of the same tensors instead"
)
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".npz")
NPZ_PARAMS_PREFIX = "params/"  # the fixtures store `params/<key>` next to reference inputs and outputs.
DATA_PARALLEL_PREFIX = "module."


def _import_torch():
    try:
        import torch
    except ImportError as error:
        raise CheckpointError(TORCH_MISSING) from error
    return torch


def describe(source):
    """How error messages name a checkpoint source."""
    return str(source) if isinstance(source, (str, os.PathLike)) else "the state dict"


def _to_numpy(value, key, label):
    if hasattr(value, "detach"):  # a torch.Tensor
        value = value.detach().cpu()
        value = (value.float() if value.is_floating_point() else value).numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise CheckpointError(f"{label} is not a state dict of tensors: {key!r} holds a {type(value).__name__}")
    return array


def _state_dict_from_mapping(mapping, label):
    """Unwraps the official `{"params": state_dict}` and strips DataParallel's `module.` prefixes."""
    params = mapping.get("params")
    if isinstance(params, collections.abc.Mapping):
        mapping = params
    state_dict = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise CheckpointError(f"{label} is not a state dict: it has a key {key!r} that is not a string")
        name = key.removeprefix(DATA_PARALLEL_PREFIX)
        if name in state_dict:
            raise CheckpointError(
                f"{label} holds {name!r} twice (with and without the {DATA_PARALLEL_PREFIX!r} prefix)"
            )
        state_dict[name] = _to_numpy(value, key, label)
    return state_dict


def _read_npz(path):
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a .npz archive (not a zip file: truncated, or another format)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is a damaged .npz archive: {error}") from error
    if any(name.startswith(NPZ_PARAMS_PREFIX) for name in arrays):
        arrays = {
            name.removeprefix(NPZ_PARAMS_PREFIX): array
            for name, array in arrays.items()
            if name.startswith(NPZ_PARAMS_PREFIX)
        }
    return _state_dict_from_mapping(arrays, str(path))


def _read_pth(path):
    torch = _import_torch()
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch reports corrupt files as RuntimeError, UnpicklingError, EOFError, ...
        # torch's advice to load with weights_only=False, running the file's code, is not passed on.
        objects = "Weights only load failed" in str(error)
        details = ": safe (weights-only) loading refused it" if objects else f": {type(error).__name__} {first_line(error)}"
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint (truncated, corrupt, or not a plain state dict){details}"
        ) from error
    if not isinstance(checkpoint, collections.abc.Mapping):
        raise CheckpointError(f"{path} holds a {type(checkpoint).__name__}, not a state dict")
    return _state_dict_from_mapping(checkpoint, str(path))


def check_checkpoint_file(path, suffixes=CHECKPOINT_SUFFIXES, kind="checkpoint"):
    """Returns `path` as a `Path`; a CheckpointError unless it is a file ending in one of `suffixes`."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if path.suffix.lower() not in suffixes:
        *others, last = suffixes
        names = f"{', '.join(others)} or {last}" if others else last
        raise CheckpointError(f"{path} is no {kind}: expected a {names} file")
    return path


def read_state_dict(source):
    """Returns `{official key: numpy array}` (PyTorch layout) from a `.pth`/`.npz` path or a mapping.

    Raises:
        CheckpointError: the file is missing, has another suffix than `CHECKPOINT_SUFFIXES`,
            is truncated, not a state dict, or a `.pth` without PyTorch installed.
    """
    if isinstance(source, collections.abc.Mapping):
        return _state_dict_from_mapping(source, describe(source))
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path or a mapping of names to arrays, got {type(source).__name__}")
    path = check_checkpoint_file(source)
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    return _read_pth(path)


def write_state_dict(state_dict, path, overwrite=False):
    """Writes `{key: array}` to a `.npz` archive, or to a `.pth` file as the official `{"params": ...}`."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with atomic_write(path, overwrite) as temporary, open(temporary, "wb") as file:
            np.savez(file, **state_dict)
    elif suffix in CHECKPOINT_SUFFIXES:  # .pth or .pt
        torch = _import_torch()
        params = {key: torch.from_numpy(np.ascontiguousarray(array)) for key, array in state_dict.items()}
        with atomic_write(path, overwrite) as temporary:
            torch.save({"params": params}, temporary)
    else:
        raise ValueError(f"{path}: unknown checkpoint type {path.suffix!r}; use .pth or .npz")
