"""The error type the CLI reports without a traceback."""


class CLIError(Exception):
    """A user-facing failure: printed as `hinet: error: ...` with a non-zero exit code."""
