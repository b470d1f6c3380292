"""hinet-tf: HINet (Half Instance Normalization Network) for Keras 3, on every Keras backend.

`import hinet_tf` registers the package's Keras classes (see `hinet_tf.registration`) so
that `keras.saving.load_model` reloads its models. The public names load Keras (and with
it the backend) on first use, so that `hinet --help` stays instant.
"""

import importlib

from hinet_tf import registration
from hinet_tf.version import __version__

_PUBLIC = {
    "HINetBackbone": "hinet_tf.models",
    "HINetImageRestorer": "hinet_tf.models",
    "layers": "hinet_tf.layers",
    "losses": "hinet_tf.losses",
    "metrics": "hinet_tf.metrics",
    "models": "hinet_tf.models",
}

__all__ = ["__version__", *_PUBLIC]

registration.register_when_keras_loads()


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hinet_tf' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    return getattr(module, name) if name[0].isupper() else module
