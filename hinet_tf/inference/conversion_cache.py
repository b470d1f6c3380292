"""Where converted tile functions are kept, named by what they depend on.

Converting a model for another runtime (LiteRT, onnxruntime) takes seconds to minutes, so
each backend keeps its result in `$HINET_CACHE/<runtime>/` (default `~/.cache/hinet-tf/`),
named by a fingerprint of the models' configurations and weights, the backend's options
and the library versions: a changed model is converted again, an unchanged one never.
"""

import hashlib
import json
import os
from pathlib import Path

import keras
import tensorflow as tf

from hinet_tf.version import __version__


class ConversionError(RuntimeError):
    """A converter failed on a tile function (the cause is chained)."""


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
