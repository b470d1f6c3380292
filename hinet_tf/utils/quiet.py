"""Silencing what native libraries print to standard error, which Python's own settings cannot reach."""

import atexit
import contextlib
import importlib.abc
import os
import sys

from hinet_tf.utils.import_hooks import find_spec_with_loader


@contextlib.contextmanager
def native_stderr_silenced():
    """Points file descriptor 2 at /dev/null for the block (Python exceptions still propagate).

    For TensorFlow's start-up lines, printed while its libraries load and before its
    log level applies, and LiteRT's note on every interpreter it creates.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _point_stderr_at_devnull():
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


def silence_native_stderr_at_exit():
    """Points file descriptor 2 at /dev/null once the interpreter exits (registered once).

    LiteRT's runtime logs every accelerator it destroys while the process shuts down,
    after the command's own output is complete.
    """
    atexit.unregister(_point_stderr_at_devnull)
    atexit.register(_point_stderr_at_devnull)


@contextlib.contextmanager
def native_stderr_silenced_while_importing(name):
    """Points file descriptor 2 at /dev/null while top-level module `name` is first imported in the block.

    For TensorFlow, whose libraries print while they load: a command silences that import
    wherever it comes, so it can check its arguments and files before paying for it.
    """
    if name in sys.modules:
        yield
        return
    finder = _SilencedImport(name)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)


class _SilencedImport(importlib.abc.MetaPathFinder):
    """Finds module `name` with the other finders and runs its import with standard error silenced."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        return find_spec_with_loader(self, fullname, path, target, _SilencedLoader)


class _SilencedLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # the module keeps its own loader
        with native_stderr_silenced():
            self.loader.exec_module(module)

    def __getattr__(self, name):  # get_code, get_resource_reader, ...
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)
