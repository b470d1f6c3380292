"""Training logic shared by multi-output restoration models: the summed stage loss, done right."""

import keras
import tensorflow as tf

from hinet_tf import losses as losses_lib
from hinet_tf.metrics import PSNR
from hinet_tf.optimizers import TorchAdam

DEFAULT_CLIP_NORM = 0.01  # Every official HINet recipe clips the global gradient norm at 0.01.


class RestorationTrainer:
    """Mixin for a `keras.Model` whose outputs are successive restorations of one target.

    The loss is `sum_s stage_weights[s] * loss(target, outputs[s])`. Under a
    `tf.distribute` strategy each replica divides its loss by
    `num_replicas_in_sync`, the gradients are summed over replicas once and the
    global-norm clipping acts on that sum, so a step on N replicas equals a step
    on one device with the same global batch. Mixed precision (`mixed_float16`)
    uses the loss scale of the optimizer that `compile` wraps.
    """

    def compile(self, optimizer="adam", loss="psnr", stage_weights=None, clip_norm=DEFAULT_CLIP_NORM, **kwargs):
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name; "adam" (the default) is `TorchAdam`,
                the official recipes' PyTorch Adam. Leave the optimizer's own `clipnorm`
                and `global_clipnorm` unset: Keras would clip per replica, before the sum.
            loss: "psnr" (minus PSNR, the paper's Eq. 1), "psnr_y", "l1", or a Keras loss.
            stage_weights: one weight per model output; defaults to 1 for each.
            clip_norm: global gradient norm limit, or None for no clipping.
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`, `jit_compile`).
        """
        if kwargs.get("metrics") or kwargs.get("weighted_metrics") or kwargs.get("loss_weights"):
            raise ValueError("Use `stage_weights` for the loss weights; stage PSNRs are logged already.")
        if isinstance(optimizer, str) and optimizer.lower() == "adam":
            optimizer = TorchAdam()
        super().compile(optimizer=optimizer, **kwargs)
        _take_gradients_as_reduced(self.optimizer)
        optimizer = getattr(self.optimizer, "inner_optimizer", self.optimizer)
        if optimizer.clipnorm or optimizer.global_clipnorm or optimizer.clipvalue:
            raise ValueError(
                "Set gradient clipping with `compile(clip_norm=...)`, not on the optimizer: the "
                "optimizer clips each replica's gradient before they are summed."
            )
        num_outputs = len(self.outputs)
        stage_weights = tuple(stage_weights) if stage_weights is not None else (1.0,) * num_outputs
        if len(stage_weights) != num_outputs:
            raise ValueError(f"stage_weights needs {num_outputs} values (one per output), got {stage_weights}.")
        self.restoration_loss = losses_lib.get(loss)
        self.stage_weights = stage_weights
        self.clip_norm = clip_norm
        self._compile_config.config.update(loss=loss, stage_weights=stage_weights, clip_norm=clip_norm)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.stage_psnrs = [PSNR(name=f"psnr_stage{stage + 1}") for stage in range(num_outputs)]
        self.final_psnr = PSNR(name="psnr")

    def compile_from_config(self, config):
        """Recompiles a loaded model with its saved `compile` arguments (optimizer state follows)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        trackers = getattr(self, "stage_psnrs", None)
        if trackers is None:
            return []
        return [self.loss_tracker, *trackers, self.final_psnr]

    def _stage_loss(self, target, output):
        """The loss's mean over this replica's batch.

        A Keras loss's own reduction would also divide by the replica count under
        `tf.distribute`; its unreduced values are taken instead, and `train_step`
        divides once.
        """
        if isinstance(self.restoration_loss, keras.losses.Loss):
            return tf.reduce_mean(self.restoration_loss.call(target, output))
        return tf.reduce_mean(self.restoration_loss(target, output))

    def _restoration_loss(self, target, outputs):
        return tf.add_n([weight * self._stage_loss(target, output) for weight, output in zip(self.stage_weights, outputs)])

    def _update_metrics(self, loss, target, outputs):
        self.loss_tracker.update_state(loss)
        for tracker, output in zip(self.stage_psnrs, outputs):
            tracker.update_state(target, output)
        self.final_psnr.update_state(target, outputs[-1])
        return {metric.name: metric.result() for metric in self.metrics}

    def _reduce_and_clip(self, gradients):
        """Sums the gradients of all replicas once and clips their global norm.

        The gradients carry the loss scale: the limit is scaled with it, and a
        non-finite gradient stays non-finite so that the loss scale optimizer skips it.
        """
        if self.distribute_strategy.num_replicas_in_sync > 1:
            gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        if self.clip_norm is None:
            return gradients
        loss_scale = tf.cast(self.optimizer.scale_loss(1.0), tf.float32)
        gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm * loss_scale)
        return gradients

    def train_step(self, data):
        degraded, target = data[0], data[1]
        with tf.GradientTape() as tape:
            outputs = self(degraded, training=True)
            loss = self._restoration_loss(target, outputs)
            replica_loss = loss / self.distribute_strategy.num_replicas_in_sync
            scaled_loss = self.optimizer.scale_loss(replica_loss)
        variables = self.trainable_variables
        gradients = self._reduce_and_clip(tape.gradient(scaled_loss, variables))
        self.optimizer.apply(gradients, variables)
        return self._update_metrics(loss, target, outputs)

    def test_step(self, data):
        degraded, target = data[0], data[1]
        outputs = self(degraded, training=False)
        return self._update_metrics(self._restoration_loss(target, outputs), target, outputs)


def _take_gradients_as_reduced(optimizer):
    """Stops a TensorFlow Keras optimizer from summing the gradients over replicas a second time.

    Keras' TensorFlow optimizers all-reduce the gradients (`_all_reduce_sum_gradients`)
    before they update the weights. `RestorationTrainer.train_step` has summed and clipped
    them already, so the optimizer it was compiled with (or the one inside a
    `LossScaleOptimizer`) takes them as they are: one all-reduce per step instead of two.
    """
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if hasattr(inner, "_all_reduce_sum_gradients"):  # other backends have no tf.distribute
        object.__setattr__(inner, "_all_reduce_sum_gradients", list)  # the (gradient, variable) pairs, unchanged
