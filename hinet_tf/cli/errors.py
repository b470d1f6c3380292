"""The CLI's messages: errors reported without a traceback, warnings as one line."""

import contextlib
import sys
import warnings

from hinet_tf.utils.messages import one_line


class CLIError(Exception):
    """A user-facing failure: printed as `hinet: error: ...` with a non-zero exit code."""


@contextlib.contextmanager
def reported(*errors, prefix=""):
    """Turns the `errors` raised inside the block into CLIError(f"{prefix}{error}"), without their traceback."""
    try:
        yield
    except errors as error:
        raise CLIError(f"{prefix}{error}") from None


def warn(message):
    """Prints `message` as one line, `hinet: warning: ...`, on standard error."""
    print(f"hinet: warning: {one_line(str(message).strip())}", file=sys.stderr)


@contextlib.contextmanager
def warnings_as_messages():
    """Shows the Python warnings raised inside the block as `warn` lines, without Python's file and line."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *details, **more: warn(message)
        yield
