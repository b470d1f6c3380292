"""The `hinet` command line."""
