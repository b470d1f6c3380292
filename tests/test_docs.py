"""Every code block of the README, the guides and the model card runs, or its commands and code are checked.

A block runs unless the comment above it says why not: `<!-- test: skip-reason=... -->` (it
needs a data set, a server, a GPU or an official checkpoint) or `<!-- test: covered-by=FILE -->`
(another test runs it). Those blocks are still checked here: their `hinet` commands parse, with
the recipes and overrides they name; their scripts and flags exist; their Python compiles.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.readme import README
from helpers.readme import ROOT
from helpers.readme import code_blocks
from helpers.readme import documents

RUNNER = Path(__file__).parent / "helpers" / "docs_runner.py"
BLOCKS = [block for path in documents() for block in code_blocks(path)]
# Programs that only appear in blocks that do not run here: nothing of theirs to check.
EXTERNAL = {"pytest", "docker", "curl", "tensorboard", "saved_model_cli"}


def runs(block):
    return "skip-reason" not in block.marker and "covered-by" not in block.marker


def test_the_readme_is_short_and_says_its_first_command_once():
    lines = README.read_text().splitlines()
    assert len(lines) <= 250
    bash = [block for block in code_blocks(README) if block.language == "bash"]
    first = bash[0].text.strip()
    assert sum(block.text.strip() == first for block in bash) == 1


def test_the_readme_s_layout_table_names_paths_that_exist_and_every_subpackage():
    table = README.read_text().split("## Project layout", 1)[1]
    named = re.findall(r"^\| (.*?) \|", table, re.M)
    paths = [path.rstrip("/") for row in named for path in re.findall(r"`([^`]+)`", row)]
    assert all((ROOT / path).exists() for path in paths), [path for path in paths if not (ROOT / path).exists()]
    packages = {f"hinet_tf/{init.parent.name}" for init in (ROOT / "hinet_tf").glob("*/__init__.py")}
    assert packages <= set(paths), packages - set(paths)


def test_the_training_guide_gives_list_pairs_the_layouts_it_takes():
    from hinet_tf.data import layouts

    said = re.search(r"`hinet_tf\.data\.layouts\.list_pairs\(.*?\n\n", (ROOT / "docs" / "training.md").read_text(), re.S)
    assert all(f"`{layout}`" in said.group() for layout in layouts.LAYOUTS), said.group()


def test_the_documentation_tells_no_development_history_by_issue_number():
    for path in documents():
        found = re.findall(r"\bissues?[- ]\d+", path.read_text(), re.I)
        assert not found, f"{path.relative_to(ROOT)}: {found}"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.name)
def test_every_block_runs_or_says_why_not(block):
    assert set(block.marker) <= {"skip-reason", "covered-by", "expect-exit"}, block.marker
    if block.language not in ("bash", "python"):
        assert block.marker.get("skip-reason"), f"a {block.language or 'plain'} block cannot run: say why"
    if "covered-by" in block.marker:
        covering = ROOT / block.marker["covered-by"]
        if covering.suffix == ".md":  # a guide that runs the same commands
            ran = [command for other in code_blocks(covering) if runs(other) for command in other.commands()]
            assert all(command in ran for command in block.commands()), f"{covering.name} does not run them all"
        else:
            assert "helpers.readme import" in covering.read_text(), "the covering test must read the README's command"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "python"], ids=lambda block: block.name)
def test_python_blocks_compile(block):
    compile(block.text, block.name, "exec")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "bash"], ids=lambda block: block.name)
def test_bash_commands_exist_with_their_flags(block):
    for line in block.commands():
        for command in line:
            check_command(command, runs(block))


def check_command(command, runs):
    program, *arguments = command
    if program == "hinet":
        from hinet_tf.cli.main import build_parser

        args = build_parser().parse_args(arguments)  # exits (fails the test) on an unknown command or flag
        if args.command == "train":
            from hinet_tf.training.config import load_config

            load_config(ROOT / args.config, args.overrides or ())
        return
    assert not runs, f"only hinet commands run in the docs, not {program!r}: mark the block"
    if program == "python" and arguments[0] == "-c":
        compile(arguments[1], "python -c", "exec")
    elif program == "python":
        script = (ROOT / arguments[0]).read_text()
        flags = [word.split("=")[0] for word in arguments[1:] if word.startswith("--")]
        assert all(f'"{flag}"' in script for flag in flags), f"{arguments[0]} has no flag among {flags}"
    elif program == "pip":
        assert arguments[:2] == ["install", "-e"], command
        extras = re.fullmatch(r"\.(?:\[(.*)\])?", arguments[2])[1] or ""
        setup = (ROOT / "setup.py").read_text()
        assert all(f'"{extra}":' in setup for extra in extras.split(",") if extra), f"unknown extra in {extras}"
    else:
        assert program in EXTERNAL, f"unknown program {program!r}"


def test_local_links_lead_to_files():
    for path in documents():
        prose = re.sub(r"^```.*?^```|`[^`\n]*`", "", path.read_text(), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose):
            if not target.startswith(("http://", "https://")):
                assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} links to a missing {target}"


def runnable_blocks(path):
    return [
        {
            "name": block.name,
            "language": block.language,
            "text": block.text,
            "commands": block.commands() if block.language == "bash" else [],
            "exit": int(block.marker.get("expect-exit", 0)),
        }
        for block in code_blocks(path)
        if runs(block)
    ]


@pytest.mark.slow
def test_the_blocks_of_each_document_run_in_order(tmp_path):
    # One process for every document (TensorFlow is imported once), each in a folder of its own.
    plan = {path.stem: runnable_blocks(path) for path in documents()}
    plan = {folder: blocks for folder, blocks in plan.items() if blocks}
    for folder in plan:
        for name in ("saved_models", "configs"):  # what the blocks read, as in a checkout
            (tmp_path / folder / name).parent.mkdir(exist_ok=True)
            (tmp_path / folder / name).symlink_to(ROOT / name)
    (tmp_path / "blocks.json").write_text(json.dumps(plan))
    environment = dict(os.environ, HINET_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(RUNNER), "blocks.json"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    print(result.stdout)  # the seconds of each block, shown by `pytest -rP`
    check_the_android_example_uses_the_exported_signature(ROOT / "docs" / "deployment.md", tmp_path / "deployment")


def check_the_android_example_uses_the_exported_signature(path, folder):
    from ai_edge_litert.interpreter import Interpreter

    (kotlin,) = [block.text for block in code_blocks(path) if block.language == "kotlin"]
    inputs, outputs = re.search(r'runSignature\(mapOf\("(\w+)".*mapOf\("(\w+)"', kotlin).groups()
    signature = Interpreter(model_path=str(folder / "hinet.tflite")).get_signature_list()["serving_default"]
    assert signature == {"inputs": [inputs], "outputs": [outputs]}
