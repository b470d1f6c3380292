"""Where hinet-tf depends on Keras internals, written against Keras 3.15: nowhere else.

1. Keras' TensorFlow optimizers sum the gradients over the replicas inside their update
(`_all_reduce_sum_gradients`), after `apply` has clipped them: `global_clipnorm` would act
on each replica's share. The official step clips the gradient of the whole batch, so the
task's TensorFlow step sums the gradients once itself, and the optimizer, which then clips
the sum with its own `global_clipnorm`, must not sum them again.
2. Keras' TensorFlow `fit` hands `MultiWorkerMirroredStrategy.reduce` values it refuses
(`MultiWorkerStrategy`).
3. Keras' `Adam` keeps its moments in lists indexed by `_get_variable_index`, with no public
accessor; `TorchAdam`, an `Adam` with PyTorch's update rule, reads them (`adam_moments`).
tests/utils/test_keras_internals.py fails, naming the Keras version, the day this changes.
"""

import keras
import tensorflow as tf

WRITTEN_FOR = "3.15"
REDUCTION = "_all_reduce_sum_gradients"


def take_gradients_as_reduced(optimizer):
    """Makes a TensorFlow Keras `optimizer` apply its gradients without summing them over the replicas."""
    if not callable(getattr(optimizer, REDUCTION, None)):
        raise RuntimeError(
            f"Keras {keras.__version__} optimizers have no `{REDUCTION}` (hinet-tf was written for Keras "
            f"{WRITTEN_FOR}); multi-replica training needs hinet_tf/utils/keras_internals.py updated"
        )
    object.__setattr__(optimizer, REDUCTION, list)  # the (gradient, variable) pairs, unchanged


ADAM_SLOTS = ("_get_variable_index", "_momentums", "_velocities")


def adam_moments(optimizer, variable):
    """`(m, v, v_max)` of `variable` in a built Keras `Adam`: first and second moments, and the running maximum of v
    (None without `amsgrad`)."""
    slots = (*ADAM_SLOTS, "_velocity_hats") if getattr(optimizer, "amsgrad", False) else ADAM_SLOTS
    if not all(hasattr(optimizer, name) for name in slots):
        raise RuntimeError(
            f"Keras {keras.__version__} Adam optimizers have no {', '.join(slots)} (hinet-tf was written for "
            f"Keras {WRITTEN_FOR}); TorchAdam needs hinet_tf/utils/keras_internals.py updated"
        )
    index = optimizer._get_variable_index(variable)
    v_max = optimizer._velocity_hats[index] if optimizer.amsgrad else None
    return optimizer._momentums[index], optimizer._velocities[index], v_max


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`MultiWorkerMirroredStrategy` whose `reduce` takes what Keras' `fit` gives it.

    `fit` reduces its first `(degraded, target)` batch (a nested value, which only
    `MirroredStrategy.reduce` accepts) and the scalar metrics with `axis=0` (which
    needs a batch axis); here each value is reduced alone, scalars across replicas.
    """

    def reduce(self, reduce_op, value, axis):
        parent = super()

        def reduce_one(item):
            rank = self.experimental_local_results(item)[0].shape.rank
            return parent.reduce(reduce_op, item, axis if rank else None)

        return tf.nest.map_structure(reduce_one, value)
