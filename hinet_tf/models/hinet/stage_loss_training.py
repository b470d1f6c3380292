"""Training on every stage output (the paper's Eq. 1): the loss, clipping and metrics of a HINet task."""

import keras
from keras import ops

from hinet_tf import losses as losses_lib
from hinet_tf.metrics import PSNR
from hinet_tf.optimizers import TorchAdam

DEFAULT_CLIP_NORM = 0.01  # Every official HINet recipe clips the global gradient norm at 0.01.


class StageLossTraining:
    """Training for a `keras.Model` whose `stage_outputs(images, training)` are successive restorations.

    The loss is `sum_s stage_weights[s] * loss(target, stage_outputs[s])`; `compute_loss`
    runs the stages on the inputs, as keras-hub's BASNet task does, so `fit` works on
    every backend. On TensorFlow, `train_step` is the step of `tf_train_step` instead: one
    forward pass, the gradients summed over replicas once and clipped after the sum, so a
    `tf.distribute` step on N replicas equals a step on one device with the same global
    batch. Logs `loss`, `psnr` (the final image) and `psnr_stage1`, `psnr_stage2`.
    """

    def compile(self, optimizer="adam", loss="psnr", stage_weights=None, clip_norm=DEFAULT_CLIP_NORM, **kwargs):
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name; "adam" (the default) is `TorchAdam`,
                the official recipes' PyTorch Adam. Leave the optimizer's own `clipnorm`
                and `global_clipnorm` unset: on TensorFlow they would clip per replica,
                before the sum.
            loss: "psnr" (minus PSNR, the paper's Eq. 1), "psnr_y", "l1", or a Keras loss.
            stage_weights: one weight per stage; defaults to 1 for each.
            clip_norm: global gradient norm limit, or None for no clipping.
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`, `jit_compile`).
        """
        if kwargs.get("metrics") or kwargs.get("weighted_metrics") or kwargs.get("loss_weights"):
            raise ValueError("Use `stage_weights` for the loss weights; the stage PSNRs are logged already.")
        if isinstance(optimizer, str) and optimizer.lower() == "adam":
            optimizer = TorchAdam()
        num_stages = self.num_stages
        stage_weights = tuple(stage_weights) if stage_weights is not None else (1.0,) * num_stages
        if len(stage_weights) != num_stages:
            raise ValueError(f"stage_weights needs {num_stages} values (one per stage), got {stage_weights}.")
        super().compile(optimizer=optimizer, **kwargs)
        inner = getattr(self.optimizer, "inner_optimizer", self.optimizer)
        if inner.clipnorm or inner.global_clipnorm or inner.clipvalue:
            raise ValueError(
                "Set gradient clipping with `compile(clip_norm=...)`, not on the optimizer: the "
                "optimizer clips each replica's gradient before they are summed."
            )
        if keras.config.backend() == "tensorflow":
            from hinet_tf.models.hinet import tf_train_step

            tf_train_step.take_gradients_as_reduced(inner)
        elif clip_norm is not None:
            object.__setattr__(inner, "global_clipnorm", clip_norm)  # one device: the optimizer clips the step
        self.restoration_loss = losses_lib.get(loss)
        self.stage_weights = stage_weights
        self.clip_norm = clip_norm
        self._compile_config.config.update(loss=loss, stage_weights=stage_weights, clip_norm=clip_norm)
        self.stage_psnrs = [PSNR(name=f"psnr_stage{stage + 1}") for stage in range(num_stages)]
        self.final_psnr = PSNR(name="psnr")

    def compile_from_config(self, config):
        """Recompiles a loaded model with its saved `compile` arguments (its optimizer state follows)."""
        config = keras.saving.deserialize_keras_object(config)
        inner = getattr(config["optimizer"], "inner_optimizer", config["optimizer"])
        if inner.global_clipnorm == config.get("clip_norm"):
            inner.global_clipnorm = None  # set by `compile` itself off TensorFlow (a file saved there loads anywhere)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        if getattr(self, "stage_psnrs", None) is None:
            return []
        return [self._loss_tracker, *self.stage_psnrs, self.final_psnr]

    def stage_loss(self, target, outputs):
        """The weighted sum of the loss over the stage outputs, averaged over this replica's batch.

        A Keras loss's own reduction would also divide by the replica count under
        `tf.distribute`; its unreduced values are averaged here instead. Updates the stage PSNRs.
        """
        loss = self.restoration_loss
        total = 0.0
        for weight, output, tracker in zip(self.stage_weights, outputs, self.stage_psnrs):
            values = loss.call(target, output) if isinstance(loss, keras.losses.Loss) else loss(target, output)
            total = total + weight * ops.mean(values)
            tracker.update_state(target, output)
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The summed stage loss of inputs `x` against `y`; `y_pred` (the final image) is not needed."""
        return self.stage_loss(y, self.stage_outputs(x, training=training))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.final_psnr.update_state(y, y_pred)
        return self.get_metrics_result()

    def train_step(self, *args):
        if keras.config.backend() == "tensorflow":
            from hinet_tf.models.hinet import tf_train_step

            return tf_train_step.train_step(self, *args)
        return super().train_step(*args)
