"""hinet-tf: HINet (Half Instance Normalization Network) for Keras 3 and TensorFlow.

The public names load TensorFlow on first use, so that `hinet --help` stays instant.
"""

import importlib

from hinet_tf.version import __version__

_PUBLIC = {
    "HINet": "hinet_tf.models",
    "layers": "hinet_tf.layers",
    "losses": "hinet_tf.losses",
    "metrics": "hinet_tf.metrics",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hinet_tf' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    return getattr(module, name) if name == "HINet" else module
