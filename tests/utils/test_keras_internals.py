"""Where hinet-tf depends on Keras internals (hinet_tf/utils/keras_internals.py): fails, naming the Keras version, when they change."""

import inspect

import keras
import pytest

from hinet_tf.optimizers import TorchAdam
from hinet_tf.utils import keras_internals

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
