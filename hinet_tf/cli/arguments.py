"""Checks shared by the subcommands, made before any model is loaded: argument types, output folders."""

import argparse

from hinet_tf.cli.errors import reported
from hinet_tf.utils.atomic import check_writable


def at_least(minimum):
    """An argparse type: an integer of at least `minimum`."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def check_output_folder(folder):
    """Raises CLIError unless files can be written into `folder`; commands call it before loading a model."""
    with reported(ValueError):
        check_writable(folder)

