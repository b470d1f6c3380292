"""The README's shell commands, for the tests that run them or check that CI runs them."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def command_lines():
    """Each line of the README's ```bash blocks that is a command, split at `&&`: `[[command, ...]]`, in order."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(), re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [[part.strip() for part in line.split("&&")] for line in lines if line and not line.startswith("#")]


def quick_start():
    """The README's first command line: install, then restore the shipped sample."""
    return command_lines()[0]


def install_and_test():
    """The README's `pip install -e ".[dev]" && pytest ...` line: `[install, test]`."""
    (line,) = [line for line in command_lines() if line[0] == 'pip install -e ".[dev]"']
    return line
