"""Everything the tests, the scripts and the package import installs with the README's `pip install -e ".[dev]"`.

A module a test imports from a package installed by hand passes on that machine and fails
on a fresh one. The imports are read from the source (`ast`, inside functions too, and the
names given to `pytest.importorskip`); each must be the standard library, the project, a
test helper, or a module of a distribution that the requirements files install, directly
or as a dependency.
"""

import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("hinet_tf", "scripts", "tests")
# `.[dev]`: setup.py's install_requires and its dev extra.
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")


def read_requirements(path):
    """The requirements of a pip requirements file, following `-r` includes."""
    found = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r"):
            found += read_requirements(path.parent / line[2:].strip())
        elif line and not line.startswith("#"):
            found.append(Requirement(line))
    return found


def installed_closure(requirements):
    """`{distribution: requirement file line}` of every distribution the requirements install, dependencies included.

    Raises AssertionError naming a requirement that is not installed here.
    """
    reached, followed = {}, set()
    pending = [(requirement, str(requirement)) for requirement in requirements]
    while pending:
        requirement, origin = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in followed:  # a package again with other extras is followed again
            continue
        followed.add((name, frozenset(requirement.extras)))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            message = f"{requirement} (from {origin}) is not installed here: run pip install -e \".[dev]\""
            raise AssertionError(message) from None
        reached.setdefault(name, origin)
        extras = [""] + sorted(requirement.extras)
        for line in distribution.requires or []:
            dependency = Requirement(line)
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append((dependency, origin))
    return reached


def imported_names(path):
    """`{top-level module: line}` of what `path` imports, lazy imports and `pytest.importorskip(NAME)` included."""
    names = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("importorskip", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found = [node.args[0].value]
        else:
            continue
        for name in found:
            names.setdefault(name.partition(".")[0], node.lineno)
    return names


def local_names():
    """Modules of this checkout: the package, test helpers and test modules (tests/ is on sys.path), scripts."""
    names = {"hinet_tf"}
    for folder in ("tests", "scripts"):
        names.update(path.stem for path in (ROOT / folder).iterdir() if path.suffix == ".py" or path.is_dir())
    return names


def test_every_imported_module_is_installed_by_the_dev_extra():
    requirements = [item for name in REQUIREMENT_FILES for item in read_requirements(ROOT / name)]
    installed = installed_closure(requirements)
    providers = importlib.metadata.packages_distributions()
    known = set(sys.stdlib_module_names) | local_names()
    outside = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name, line in imported_names(path).items():
                if name in known:
                    continue
                distributions = {canonicalize_name(item) for item in providers.get(name, ())}
                if not distributions & installed.keys():
                    where = f"here from {', '.join(sorted(distributions))}" if distributions else "not installed"
                    outside.append(f"{path.relative_to(ROOT)}:{line} imports {name} ({where}), which no "
                                   f"requirement of {' or '.join(REQUIREMENT_FILES)} installs")
    assert outside == [], "\n".join(outside)


def test_requirements_are_read_through_includes_and_extras():
    requirements = read_requirements(ROOT / "requirements-dev.txt")
    names = {canonicalize_name(requirement.name) for requirement in requirements}
    assert {"tensorflow", "keras", "pytest", "bm3d"} <= names  # tensorflow and keras come through `-r requirements.txt`
    closure = installed_closure([Requirement("pytest")])
    assert "pluggy" in closure and "hypothesis" not in closure  # pytest's `dev` extra is not followed


def test_imports_are_found_inside_functions_and_importorskip(tmp_path):
    source = tmp_path / "test_example.py"
    source.write_text(
        "import os.path\nfrom yaml import safe_load\nfrom . import sibling\n\n"
        "def test_it():\n    import bm3d\n    scipy_io = pytest.importorskip('scipy.io')\n"
    )
    assert imported_names(source) == {"os": 1, "yaml": 2, "bm3d": 6, "scipy": 7}
