"""Where converted tile functions are kept, named by what they depend on, and checked before use.

Converting a model for another runtime (LiteRT, onnxruntime) takes seconds to minutes, so
each backend keeps its result in `$HINET_CACHE/<runtime>/` (default `~/.cache/hinet-tf/`),
named by a fingerprint of the models' configurations and weights, the backend's options
and the library versions: a changed model is converted again, an unchanged one never.

A runtime given a damaged file fails with a traceback (onnxruntime) or crashes the
process (LiteRT), so an entry is used only if it matches the size and SHA-256 recorded
when it was converted, in `<name>.json` beside it. That record is written, atomically,
after the model file: an entry without one (a conversion killed in between, a file cut
short or changed since) is deleted and converted again, with one warning. A file the
runtime derives from the model (XNNPACK's packed weights) is recorded once complete, and
deleted, to be rebuilt, when it does not match.
"""

import contextlib
import hashlib
import json
import os
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from hinet_tf.inference.errors import ConversionError
from hinet_tf.utils.atomic import atomic_write_text
from hinet_tf.version import __version__


def cache_dir(runtime):
    """The folder of `runtime`'s converted models ("litert", "onnx")."""
    return Path(os.environ.get("HINET_CACHE", Path.home() / ".cache" / "hinet-tf")) / runtime


def fingerprint(models, **options):
    """A hex digest of what a converted tile function depends on."""
    digest = hashlib.sha256()
    versions = {"hinet_tf": __version__, "tensorflow": tf.__version__, "keras": keras.__version__, **options}
    digest.update(json.dumps(versions, sort_keys=True).encode())
    for model in models:
        digest.update(json.dumps(keras.saving.serialize_keras_object(model), sort_keys=True, default=str).encode())
        for weight in model.weights:
            digest.update(weight.path.encode())
            digest.update(keras.ops.convert_to_numpy(weight).tobytes())
    return digest.hexdigest()[:32]


def cached_conversion(path, convert, converter, message, log=None, derived=()):
    """Returns `path` holding a checked conversion: the cached entry, or a new one from `convert(path)`.

    Args:
        path: the entry's model file.
        convert: writes the model file at `path` (atomically).
        converter: the converter's name for errors ("ONNX", "LiteRT").
        message: what `log` is called with when a conversion starts.
        log: called with `message`, or None.
        derived: files the runtime makes from the model (a weight cache), deleted with a bad entry.

    Raises:
        ConversionError: the conversion failed, or its record cannot be written.
    """
    path = Path(path)
    record = record_path(path)
    if path.exists() or record.exists():
        problem = entry_problem(path)
        if problem is None:
            return path
        warnings.warn(f"the cached conversion {path} {problem}; converting it again", stacklevel=2)
        for file in (path, record, *derived):
            with contextlib.suppress(OSError):  # one that stays makes the conversion fail, by name
                Path(file).unlink(missing_ok=True)
    if log is not None:
        log(message)
    try:
        convert(path)
    except Exception as error:  # noqa: BLE001 (converters raise many kinds)
        raise ConversionError(f"{converter} conversion failed: {error}") from error
    try:
        record_entry(path)
    except OSError as error:
        raise ConversionError(f"cannot write the cache entry {record}: {error.strerror}") from error
    return path


def record_entry(path):
    """Writes the size and SHA-256 of the file `path` to its record, atomically."""
    atomic_write_text(record_path(path), json.dumps({"size": path.stat().st_size, "sha256": _sha256(path)}))


def drop_unless_recorded(path):
    """Deletes `path` and its record unless it matches the record: for a file a runtime rebuilds when absent."""
    if path.exists() and entry_problem(path) is not None:
        for file in (path, record_path(path)):
            with contextlib.suppress(OSError):
                file.unlink(missing_ok=True)


def record_path(path):
    """The file holding the size and SHA-256 of the cache entry `path`."""
    return path.with_name(f"{path.name}.json")


def entry_problem(path):
    """What is wrong with the cache entry `path`, in words ("is missing", ...), or None."""
    try:
        record = json.loads(record_path(path).read_text())
        size, sha256 = int(record["size"]), str(record["sha256"])
    except FileNotFoundError:
        return "has no record of its size and checksum"
    except (OSError, ValueError, KeyError, TypeError):
        return "has a damaged record of its size and checksum"
    try:
        if path.stat().st_size != size:
            return f"is {path.stat().st_size:,} bytes, not the {size:,} recorded"
        if _sha256(path) != sha256:
            return "does not match its recorded checksum"
    except FileNotFoundError:
        return "is missing"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    return None


def _sha256(path):
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
