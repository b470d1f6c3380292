"""Benchmark HINet on this machine: `python scripts/benchmark.py --help` (same as `hinet benchmark`)."""

import sys

from hinet_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
