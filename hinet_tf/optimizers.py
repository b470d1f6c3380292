"""Adam with PyTorch's update rule, the optimizer of every official HINet recipe."""

import keras
from keras import ops

from hinet_tf.utils.keras_internals import adam_moments


@keras.saving.register_keras_serializable(package="hinet_tf")
class TorchAdam(keras.optimizers.Adam):
    """Adam exactly as `torch.optim.Adam` (with `weight_decay=0`) computes it.

    PyTorch adds `epsilon` to the bias-corrected `sqrt(v_hat)`:
    `p -= lr * m_hat / (sqrt(v_hat) + epsilon)`, with `m_hat = m / (1 - beta_1^t)` and
    `v_hat = v / (1 - beta_2^t)`. Keras' `Adam` adds its epsilon to `sqrt(v)` before the bias
    correction and defaults to 1e-7. The two agree for large gradients only: after the
    official recipes clip the global gradient norm to 0.01, most gradients of the full model
    are below 1e-8, epsilon dominates the denominator and Keras' steps are about 10 times
    smaller. With `amsgrad`, the running maximum of `v` is used as PyTorch does.

    Args:
        learning_rate: a float or a `LearningRateSchedule`.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment (0.999 for SIDD, 0.99 for the other recipes).
        epsilon: added to `sqrt(v_hat)`; PyTorch's default is 1e-8.
        amsgrad: use the maximum of past second moments.
        **kwargs: other `keras.optimizers.Optimizer` arguments. `weight_decay` is refused:
            PyTorch's Adam adds it to the gradient (L2), Keras decouples it (AdamW).
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False, name="torch_adam", **kwargs
    ):
        if kwargs.get("weight_decay"):
            raise ValueError(
                "TorchAdam does not take weight_decay (every official recipe uses 0); for decoupled "
                "weight decay use keras.optimizers.AdamW."
            )
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            **kwargs,
        )

    def update_step(self, gradient, variable, learning_rate):
        """One PyTorch Adam update of `variable`."""
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        first_correction = 1 - ops.power(ops.cast(self.beta_1, variable.dtype), step)
        second_correction = 1 - ops.power(ops.cast(self.beta_2, variable.dtype), step)
        m, v, v_max = adam_moments(self, variable)

        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        if self.amsgrad:
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max
        denominator = ops.add(ops.divide(ops.sqrt(v), ops.sqrt(second_correction)), self.epsilon)
        self.assign_sub(variable, ops.divide(ops.multiply(m, learning_rate / first_correction), denominator))
