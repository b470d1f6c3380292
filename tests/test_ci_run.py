"""`.ci/run` runs the README's install and test commands, in a new virtual environment."""

import re
from pathlib import Path

from helpers.readme import install_and_test

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def _commands():
    """The lines of `.ci/run` that run something (comments and blank lines left out)."""
    lines = (line.strip() for line in CI_RUN.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _index(lines, command):
    """Where `command` runs in `lines`: a line that is the command, alone or before `||` / `&&`."""
    found = [index for index, line in enumerate(lines) if re.fullmatch(re.escape(command) + r"( (\|\||&&) .*)?", line)]
    assert found, f".ci/run does not run the README's command {command!r}"
    return found[0]


def test_ci_runs_the_readme_s_install_and_test_commands_in_a_new_virtual_environment():
    install, test = install_and_test()
    assert test.startswith("pytest")
    lines = _commands()
    create = next(index for index, line in enumerate(lines) if line.startswith("python3 -m venv "))
    activated = re.compile(r'(source|\.) "?\S+/bin/activate"?')
    activate = next(index for index, line in enumerate(lines) if activated.fullmatch(line))
    assert create < activate < _index(lines, install) < _index(lines, test)
    assert not any("--no-cache-dir" in line for line in lines)  # pip's cache keeps the install fast


def test_ci_fails_when_no_test_is_collected():
    assert re.search(r'if \[ "\$status" -eq 5 \]; then\n(.*\n)*?\s*exit 1\n', CI_RUN.read_text())
