"""The package's import graph, read from the source: nothing is imported to draw it."""

import ast
from pathlib import Path

PACKAGE = "hinet_tf"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / PACKAGE


def modules():
    """`{dotted name: file}` of every module of the package (a package is its `__init__.py`)."""
    found = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph():
    """`{module: modules it imports}`, lazy imports inside functions included.

    Importing `a.b.c` also runs the `__init__` of `a.b`, so that is an edge too, as are the
    modules a package's `__init__` loads on first use (its `_PUBLIC` dict). The root
    package (`hinet_tf` itself) is left out: it is the public entry, not a layer.
    """
    known = modules()
    graph = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
            elif _lazy_names(node):
                targets.update(value.value for value in node.value.values)
        edges = set()
        for target in targets:
            parts = target.split(".")
            edges.update(".".join(parts[:end]) for end in range(2, len(parts) + 1) if ".".join(parts[:end]) in known)
        graph[name] = edges - {name}
    return graph


def _lazy_names(node):
    """Whether `node` is `_PUBLIC = {name: module}`, the names a package loads on first use."""
    return (
        isinstance(node, ast.Assign)
        and [getattr(target, "id", None) for target in node.targets] == ["_PUBLIC"]
        and isinstance(node.value, ast.Dict)
    )


def reachable(graph, start):
    """Every module that importing `start` imports, directly or not."""
    seen, stack = set(), [start]
    while stack:
        for target in graph.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def subpackage(module):
    """`hinet_tf.inference.tiling` -> `inference`; a top-level module is its own name."""
    return module.split(".")[1] if "." in module else module
