"""Silencing what a module prints to file descriptor 2 while it is first imported."""

import importlib
import importlib.machinery
import os
import sys

from hinet_tf.utils.quiet import native_stderr_silenced_while_importing


def test_only_the_named_module_s_first_import_is_silenced(tmp_path, monkeypatch, capfd):
    name = "noisy_library"  # written here, as a library whose import prints to the native stderr
    (tmp_path / f"{name}.py").write_text("import os\nos.write(2, b'loading\\n')\nVALUE = 1\n")
    monkeypatch.syspath_prepend(tmp_path)
    finders = list(sys.meta_path)

    with native_stderr_silenced_while_importing(name):
        os.write(2, b"before\n")
        module = importlib.import_module(name)
        os.write(2, b"after\n")

    assert capfd.readouterr().err == "before\nafter\n"
    assert module.VALUE == 1
    assert isinstance(module.__loader__, importlib.machinery.SourceFileLoader)  # it keeps its own loader
    assert sys.meta_path == finders
    del sys.modules[name]
    importlib.import_module(name)  # again, after the block: heard
    assert capfd.readouterr().err == "loading\n"
    del sys.modules[name]
