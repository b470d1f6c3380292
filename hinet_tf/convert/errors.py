"""The error raised for an unreadable or mismatching checkpoint."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose tensors do not fit the HINet layout."""
