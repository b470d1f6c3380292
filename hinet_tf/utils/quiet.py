"""Silencing what native libraries print to standard error, which Python's own settings cannot reach."""

import atexit
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
