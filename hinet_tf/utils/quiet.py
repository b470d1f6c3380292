"""Silencing what native libraries print to standard error, which Python's own settings cannot reach."""

import contextlib
import os
import sys


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
