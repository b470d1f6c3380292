"""The code blocks of the README and the guides, for the tests that run them or check that CI runs them."""

import dataclasses
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MODEL_CARD = ROOT / "saved_models" / "MODEL_CARD.md"

# A fenced block, with the optional `<!-- test: key=value -->` line just above it.
_BLOCK = re.compile(r"^(?:<!-- test: (?P<marker>.*?) -->\n)?```(?P<language>\w*)\n(?P<text>.*?)^```", re.S | re.M)


def documents():
    """The README, every guide in docs/ and the model card."""
    return [README, *sorted((ROOT / "docs").glob("*.md")), MODEL_CARD]


@dataclasses.dataclass(frozen=True)
class CodeBlock:
    path: Path
    line: int
    language: str
    text: str
    marker: dict

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def commands(self):
        """A bash block's commands: each line (with its `\\` continuations) split at `&&`, comments dropped."""
        joined = re.sub(r"\\\n", " ", self.text)
        lines = [shlex.split(line, comments=True) for line in joined.splitlines()]
        return [_split_at_and(words) for words in lines if words]


def _split_at_and(words):
    commands = [[]]
    for word in words:
        if word == "&&":
            commands.append([])
        else:
            commands[-1].append(word)
    return commands


def code_blocks(path):
    """The fenced blocks of one Markdown file, in order; `marker` is `{key: value}` of its test comment."""
    text = path.read_text()
    blocks = []
    for match in _BLOCK.finditer(text):
        marker = dict(item.split("=", 1) for item in [match["marker"]] if item)
        line = text.count("\n", 0, match.start("language")) + 1
        blocks.append(CodeBlock(path, line, match["language"], match["text"], marker))
    return blocks


def command_lines():
    """Each line of the README's ```bash blocks that is a command, split at `&&`: `[[command, ...]]`, in order."""
    blocks = [block.text for block in code_blocks(README) if block.language == "bash"]
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [[part.strip() for part in line.split("&&")] for line in lines if line and not line.startswith("#")]


def quick_start():
    """The README's first command line: install, then restore the shipped sample."""
    return command_lines()[0]


def install_and_test():
    """The README's `pip install -e ".[dev]" && pytest ...` line: `[install, test]`."""
    (line,) = [line for line in command_lines() if line[0] == 'pip install -e ".[dev]"']
    return line
