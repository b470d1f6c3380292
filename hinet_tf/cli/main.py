"""Entry point of the `hinet` console command: one subcommand per module."""

import argparse
import sys

from hinet_tf.cli import benchmark
from hinet_tf.cli import convert
from hinet_tf.cli import evaluate
from hinet_tf.cli import export
from hinet_tf.cli import info
from hinet_tf.cli import prepare
from hinet_tf.cli import restore
from hinet_tf.cli import train
from hinet_tf.cli.errors import CLIError
from hinet_tf.version import __version__

# Each module defines `add_parser(subparsers)`, which registers a parser whose `func(args)` runs it.
COMMANDS = (restore, evaluate, train, prepare, convert, export, benchmark, info)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="hinet",
        description="HINet image restoration (denoising, deblurring, deraining) with Keras 3 / TensorFlow.",
    )
    parser.add_argument("--version", action="version", version=f"hinet-tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except CLIError as error:
        print(f"hinet: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hinet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
