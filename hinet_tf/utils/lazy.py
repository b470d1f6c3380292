"""Package names that import their module on first use, so that light commands never load TensorFlow."""

import importlib


def lazy_getattr(package, public, renamed=None):
    """A module `__getattr__` for `package` that imports `public[name]` when `name` is first used.

    `renamed` maps a public name to the module's attribute when the two differ.
    """
    renamed = renamed or {}

    def __getattr__(name):
        if name not in public:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(public[name]), renamed.get(name, name))

    return __getattr__
