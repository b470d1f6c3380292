"""Registers hinet-tf's Keras classes once Keras is imported, without importing Keras itself.

`keras.saving.load_model` finds a saved model's classes (models, layers, losses, metrics,
the optimizer, the learning-rate schedule) by their registered names. Every Keras
library registers them on `import pkg`; importing Keras here would load TensorFlow and
slow `hinet --help` down, so `import hinet_tf` registers at once when Keras is loaded
already, and otherwise as soon as Keras is loaded and no hinet-tf module is half-imported
(a module of ours that imports Keras first must finish before the others can import it).
"""

import importlib
import importlib.abc
import sys
import warnings

from hinet_tf.utils.import_hooks import find_spec_with_loader

# The modules whose import registers every serialisable class of hinet-tf.
REGISTERING_MODULES = (
    "hinet_tf.layers",
    "hinet_tf.losses",
    "hinet_tf.metrics",
    "hinet_tf.optimizers",
    "hinet_tf.models.hinet.hinet_backbone",
    "hinet_tf.models.hinet.hinet_image_restorer",
    "hinet_tf.convert.legacy",
    "hinet_tf.training.schedules",
)


def register():
    """Imports the modules that register hinet-tf's classes with Keras."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)


def register_when_keras_loads():
    """Registers now if Keras is loaded, else once it is and our imports are complete."""
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(finder, _RegisterAfterImports) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImports())


def _half_imported(excluding):
    """Whether a hinet-tf module other than `excluding` is still executing its import."""
    return any(
        getattr(getattr(module, "__spec__", None), "_initializing", False)
        for name, module in list(sys.modules.items())
        if name.startswith("hinet_tf.") and name != excluding
    )


class _RegisterAfterImports(importlib.abc.MetaPathFinder):
    """Watches the imports of `keras` and of hinet-tf's modules; registers after the last one needed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras" and not fullname.startswith("hinet_tf."):
            return None
        return find_spec_with_loader(self, fullname, path, target, lambda loader: _ThenRegister(loader, self))

    def module_imported(self, name):
        if "keras" in sys.modules and not _half_imported(excluding=name) and self in sys.meta_path:
            sys.meta_path.remove(self)
            try:
                register()
            except Exception as error:  # noqa: BLE001 (a failure here must not break the user's `import keras`)
                warnings.warn(f"hinet_tf could not register its Keras classes: {error}", stacklevel=2)


class _ThenRegister(importlib.abc.Loader):
    def __init__(self, loader, watcher):
        self.loader, self.watcher = loader, watcher

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self.loader  # the module keeps its own loader
        self.watcher.module_imported(module.__name__)

    def __getattr__(self, name):  # get_code, get_source, ...: what `python -m hinet_tf.<module>` (runpy) asks
        if name == "loader":  # not set yet (e.g. a copy made without __init__)
            raise AttributeError(name)
        return getattr(self.loader, name)
