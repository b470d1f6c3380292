"""Where hinet-tf depends on Keras internals (hinet_tf/utils/keras_internals.py): fails, naming the Keras version, when they change."""

import ast
import importlib
import inspect
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from hinet_tf.optimizers import TorchAdam
from hinet_tf.utils import keras_internals

PACKAGE = Path(keras_internals.__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="the TensorFlow optimizers' reduction")


def test_the_tensorflow_optimizer_still_sums_gradients_where_hinet_tf_expects():
    optimizer = TorchAdam()
    update = inspect.getsource(type(optimizer)._backend_update_step)
    assert callable(getattr(optimizer, keras_internals.REDUCTION, None)) and keras_internals.REDUCTION in update, (
        f"Keras {keras.__version__} no longer sums gradients over replicas in `{keras_internals.REDUCTION}` "
        f"(written for {keras_internals.WRITTEN_FOR}): update hinet_tf/utils/keras_internals.py"
    )


def test_the_optimizer_then_takes_the_gradients_as_they_are():
    optimizer = TorchAdam()
    keras_internals.take_gradients_as_reduced(optimizer)
    pairs = [("gradient", "variable")]
    assert getattr(optimizer, keras_internals.REDUCTION)(pairs) == pairs


def test_a_missing_attribute_fails_loudly_with_the_keras_version():
    with pytest.raises(RuntimeError, match=f"Keras {keras.__version__} optimizers have no `_all_reduce_sum_gradients`"):
        keras_internals.take_gradients_as_reduced(object())


def test_keras_fit_still_reduces_as_the_multi_worker_strategy_expects():
    from keras.src.backend.tensorflow import trainer

    source = inspect.getsource(trainer)
    assert 'strategy.reduce("MEAN", v, axis=0)' in source and "self.distribute_strategy.reduce(" in source, (
        f"Keras {keras.__version__} `fit` reduces its metrics or first batch differently "
        f"(written for {keras_internals.WRITTEN_FOR}): check hinet_tf/utils/keras_internals.MultiWorkerStrategy"
    )


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_moments_are_the_optimizer_s_own_slots_of_that_variable(amsgrad):
    optimizer = TorchAdam(amsgrad=amsgrad)
    first, second = keras.Variable(np.zeros((2, 3), "float32")), keras.Variable(np.zeros(4, "float32"))
    optimizer.build([first, second])
    m, v, v_max = keras_internals.adam_moments(optimizer, second)
    assert (m.shape, v.shape) == ((4,), (4,)) and (v_max is not None) == amsgrad
    names = {id(slot): slot.path for slot in optimizer.variables}
    assert "momentum" in names[id(m)] and "velocity" in names[id(v)], (
        f"Keras {keras.__version__} Adam keeps its moments differently (written for "
        f"{keras_internals.WRITTEN_FOR}): update hinet_tf/utils/keras_internals.adam_moments"
    )


def test_a_missing_adam_slot_fails_loudly_with_the_keras_version():
    with pytest.raises(RuntimeError, match=f"Keras {keras.__version__} Adam optimizers have no _get_variable_index"):
        keras_internals.adam_moments(keras.optimizers.SGD(), keras.Variable(np.zeros(1, "float32")))


def _keras_bases(cls):
    return [base for base in cls.__mro__ if base.__module__.split(".")[0] in ("keras", "tensorflow")]


def test_no_module_but_keras_internals_touches_a_private_keras_attribute():
    """`obj._name` on anything but self or cls, or a subclass's `self._name` / `def _name` that a Keras base defines."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "keras_internals.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            private = isinstance(node, ast.Attribute) and re.match(r"_[a-z]", node.attr)
            if private and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
        module_name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in (node for node in tree.body if isinstance(node, ast.ClassDef) and node.bases):
            try:
                bases = _keras_bases(getattr(importlib.import_module(module_name), node.name))
            except ImportError:  # an optional runtime (torch, onnx) that is not installed
                continue
            names = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
            names |= {item.attr for item in ast.walk(node) if isinstance(item, ast.Attribute)}
            for name in (name for name in names if re.match(r"_[a-z]", name)):
                owners = [base.__name__ for base in bases if re.search(rf"(self\.|def ){name}\b", _source(base))]
                found += [f"{path.name}:{node.name} uses {name} of Keras' {owners[0]}"] if owners else []
    assert found == [], f"private Keras attributes outside hinet_tf/utils/keras_internals.py: {found}"


def _source(cls):
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""
