"""Registers hinet-tf's Keras classes once Keras is imported, without importing Keras itself.

`keras.saving.load_model` finds a saved model's classes (models, layers, losses, metrics,
the optimizer, the learning-rate schedule) by their registered names. Every Keras
library registers them on `import pkg`; importing Keras here would load TensorFlow and
slow `hinet --help` down, so `import hinet_tf` registers at once when Keras is loaded
already, and otherwise right after Keras' own import finishes.
"""

import importlib
import importlib.abc
import sys

# The modules whose import registers every serialisable class of hinet-tf.
REGISTERING_MODULES = (
    "hinet_tf.layers",
    "hinet_tf.losses",
    "hinet_tf.metrics",
    "hinet_tf.optimizers",
    "hinet_tf.models",
    "hinet_tf.training.schedules",
)


def register():
    """Imports the modules that register hinet-tf's classes with Keras."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)


def register_when_keras_loads():
    """Registers now if Keras is loaded, else right after its import (once)."""
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds `keras` with the other finders and runs `register` after its module has executed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfterExecuting(spec.loader)
        return spec


class _RegisterAfterExecuting(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        register()
