"""Entry point of the `hinet` console command: one subcommand per module."""

import argparse
import contextlib
import logging
import os
import signal
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
from hinet_tf.cli.errors import warnings_as_messages
from hinet_tf.utils.atomic import may_interrupt
from hinet_tf.utils.atomic import request_stop
from hinet_tf.utils.backend import BackendError
from hinet_tf.utils.messages import one_line
from hinet_tf.utils.quiet import native_stderr_silenced_while_importing
from hinet_tf.utils.quiet import silence_native_stderr_at_exit
from hinet_tf.version import __version__

# Each module defines `add_parser(subparsers)`, which registers a parser whose `func(args)` runs it.
COMMANDS = (restore, evaluate, train, prepare, convert, export, benchmark, info)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, pointing to `--help` instead of printing the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = Parser(
        prog="hinet",
        description="HINet image restoration (denoising, deblurring, deraining) with Keras 3 / TensorFlow.",
    )
    parser.add_argument("--version", action="version", version=f"hinet-tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    for subparser in subparsers.choices.values():
        subparser.add_argument("--verbose", action="store_true", help="also show TensorFlow's own log messages")
    return parser


def quiet_tensorflow_logs():
    """Keeps TensorFlow's C++ and absl log lines out of a command's output, for when it loads.

    `TF_CPP_MIN_LOG_LEVEL=3` silences what TensorFlow logs once loaded (the cuInit error
    without a GPU, CPU feature notes; 2 lets them through); the lines its libraries print
    while loading ignore it, so `main` closes standard error to them during the import,
    wherever a command makes it: after its argument, file and folder checks.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def interrupts_stop_writes():
    """Turns Ctrl-C and SIGTERM into KeyboardInterrupt and stops every later write (`atomic.request_stop`).

    A terminated command removes its temporary files, and writes nothing more even where the
    interrupt is swallowed (raised inside a garbage-collection callback or a `__del__`, as while
    TensorFlow loads or frees a function); Python's report of such a swallowed one is not printed.
    """

    def interrupt(signum, frame):
        request_stop()
        if may_interrupt():  # else it comes at the end of the folder swap under way
            raise KeyboardInterrupt

    def unraisable(report):
        if not isinstance(report.exc_value, KeyboardInterrupt):
            previous_hook(report)

    try:
        previous = {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        try:
            for number, handler in previous.items():
                signal.signal(number, handler)
        finally:
            request_stop(False)  # the next command in this process writes again


def main(argv=None):
    args = build_parser().parse_args(argv)
    quiet = contextlib.nullcontext()
    if not args.verbose:
        quiet_tensorflow_logs()
        silence_native_stderr_at_exit()
        quiet = native_stderr_silenced_while_importing("tensorflow")
    try:
        with interrupts_stop_writes(), quiet, warnings_as_messages():
            return args.func(args) or 0
    except (CLIError, BackendError) as error:
        print(f"hinet: error: {one_line(error)}", file=sys.stderr)
        return 2
    except OSError as error:  # of the system (a full disk, no permission): it names its file
        print(f"hinet: error: {one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hinet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
