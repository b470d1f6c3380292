"""The layers of the package import downwards only: no cycles, and each concern has one owner."""

import itertools

from helpers.import_graph import import_graph
from helpers.import_graph import reachable
from helpers.import_graph import subpackage


def _reaches(graph, source, target):
    """Whether some module of subpackage `source` imports, directly or not, a module of `target`."""
    return any(
        subpackage(found) == target
        for module in graph
        if subpackage(module) == source
        for found in reachable(graph, module)
    )


def test_the_graph_sees_imports_inside_functions_and_package_inits():
    graph = import_graph()
    assert "hinet_tf.training.trainer" in graph["hinet_tf.cli.train"]  # imported inside `run`
    assert "hinet_tf.export" in graph["hinet_tf.inference.litert_backend"]  # the __init__ of export.litert
    assert "hinet_tf.inference.restorer" in graph["hinet_tf.inference"]  # a name its __init__ loads on first use


def test_inference_calls_export_and_export_never_imports_inference():
    graph = import_graph()
    assert _reaches(graph, "inference", "export")
    assert not _reaches(graph, "export", "inference")


def test_metrics_do_not_import_the_losses():
    assert not _reaches(import_graph(), "metrics", "losses")  # both use hinet_tf.utils.color


def test_subpackages_import_each_other_without_cycles():
    graph = import_graph()
    names = sorted({subpackage(module) for module in graph if "." in module})
    cycles = [
        (first, second)
        for first, second in itertools.combinations(names, 2)
        if _reaches(graph, first, second) and _reaches(graph, second, first)
    ]
    assert cycles == []
