"""The HINet restoration task: any image size in, the final restored image out; owns training."""

import keras

from hinet_tf import losses as losses_lib
from hinet_tf.layers.padding import CropToMatch
from hinet_tf.layers.padding import ReflectPadToMultiple
from hinet_tf.metrics import PSNR
from hinet_tf.models.hinet.hinet_backbone import HINetBackbone
from hinet_tf.models.hinet.hinet_backbone import check_float_images
from hinet_tf.models.hinet.hinet_backbone import check_model_keywords
from hinet_tf.optimizers import TorchAdam

DEFAULT_CLIP_NORM = 0.01  # Every official HINet recipe clips the global gradient norm at 0.01.


@keras.saving.register_keras_serializable(package="hinet_tf")
class HINetImageRestorer(keras.Model):
    """Restores NHWC float images in [0, 1] of any height and width with a `HINetBackbone`.

    `__call__` and `predict` return the final stage's image only. Inside the graph, images
    are reflect-padded at the bottom and right to the backbone's size multiple and the
    result is cropped back (height and width must be more than half that multiple: at least 9 pixels for 16).
    Training sums the loss over every stage (the paper's Eq. 1) and logs `loss`, `psnr`
    (the final image) and `psnr_stage1`, `psnr_stage2`.

    Args:
        backbone: a `HINetBackbone`.

    Example:
    ```python
    restorer = HINetImageRestorer.from_preset("hinet_photo_denoise")
    restored = restorer.predict(noisy_images)              # any height and width

    restorer = HINetImageRestorer(HINetBackbone(width=16))
    restorer.compile(loss="psnr", stage_weights=(0.5, 0.5))  # TorchAdam, global_clipnorm 0.01
    restorer.fit(dataset_of_degraded_target_pairs, epochs=1)
    ```
    """

    backbone_cls = HINetBackbone

    def __init__(self, backbone, name="hinet_image_restorer", **kwargs):
        check_model_keywords(type(self).__name__, kwargs)
        if not isinstance(backbone, self.backbone_cls):
            raise ValueError(f"{type(self).__name__} takes a {self.backbone_cls.__name__}, got {backbone!r}.")
        # === Layers ===
        pad = ReflectPadToMultiple(backbone.size_multiple, dtype="float32", name="reflect_pad")
        crop = CropToMatch(dtype="float32", name="crop")

        # === Functional Model ===
        images = keras.Input((None, None, backbone.in_channels), name="images")
        restored = crop(keras.tree.flatten(backbone(pad(images)))[-1], images)
        super().__init__(inputs=images, outputs=restored, name=name, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.pad = pad
        self.crop = crop
        self.dtype_policy = backbone.dtype_policy
        self.stage_psnrs = [PSNR(name=f"psnr_stage{stage + 1}") for stage in range(backbone.num_stages)]
        self.final_psnr = PSNR(name="psnr")

    @property
    def size_multiple(self):
        """Inputs are padded to multiples of this inside the graph."""
        return self.backbone.size_multiple

    @property
    def num_stages(self):
        return self.backbone.num_stages

    def compile(self, optimizer="adam", loss="psnr", stage_weights=None, **kwargs):
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name; "adam" (the default) is the official
                recipes' PyTorch Adam, `TorchAdam(global_clipnorm=0.01)`. An optimizer's
                own `global_clipnorm` (or `clipnorm`, `clipvalue`) acts on the gradient of
                the whole batch, summed over replicas as the official step clips it.
            loss: "psnr" (minus PSNR, the paper's Eq. 1), "psnr_y", "l1", or a Keras loss or its name
                ("mse"), summed over the stages.
            stage_weights: one weight per stage; defaults to 1 for each.
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`, `jit_compile`).
        """
        if kwargs.get("loss_weights") is not None:
            raise ValueError("Use `stage_weights` for the loss weight of each stage.")
        if kwargs.get("metrics") is not None or kwargs.get("weighted_metrics") is not None:
            raise ValueError(
                "HINetImageRestorer takes no metrics: it logs the PSNR of each stage and of the final image, "
                "and its training step would never update others."
            )
        if isinstance(optimizer, str) and optimizer.lower() == "adam":
            optimizer = TorchAdam(global_clipnorm=DEFAULT_CLIP_NORM)
        stage_weights = (1.0,) * self.num_stages if stage_weights is None else stage_weights
        if not hasattr(stage_weights, "__len__") or len(stage_weights) != self.num_stages:
            raise ValueError(f"stage_weights needs {self.num_stages} values (one per stage), got {stage_weights!r}.")
        loss = losses_lib.get(loss)
        if getattr(loss, "y_channel", False) and self.backbone.in_channels != 3:
            channels = self.backbone.in_channels
            raise ValueError(f"The psnr_y loss compares the Y channel of RGB images; this model takes {channels} channels.")
        self.stage_weights = tuple(float(weight) for weight in stage_weights)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)
        if keras.config.backend() == "tensorflow":
            from hinet_tf.utils.keras_internals import take_gradients_as_reduced

            take_gradients_as_reduced(getattr(self.optimizer, "inner_optimizer", self.optimizer))

    def get_compile_config(self):
        config = super().get_compile_config()  # empty before `compile`
        return {**config, "stage_weights": list(self.stage_weights)} if config else config

    def compile_from_config(self, config):
        """Recompiles a loaded model with its saved `compile` arguments (its optimizer state follows)."""
        config = keras.saving.deserialize_keras_object(config)
        clip_norm = config.pop("clip_norm", None)  # files of hinet-tf 0.2 clipped in the task, not the optimizer
        inner = getattr(config["optimizer"], "inner_optimizer", config["optimizer"])
        if clip_norm is not None and not (inner.global_clipnorm or inner.clipnorm or inner.clipvalue):
            inner.global_clipnorm = clip_norm
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def call(self, inputs, training=None, mask=None):
        check_float_images(inputs)  # before the functional call casts them to the input's float32
        return super().call(inputs, training=training, mask=mask)

    def stage_outputs(self, images, training=None):
        """Every stage's restored image, each cropped to the input's size."""
        outputs = keras.tree.flatten(self.backbone(self.pad(images), training=training))  # one stage: one tensor
        return [self.crop(output, images) for output in outputs]

    def stage_loss(self, target, outputs, sample_weight=None):
        """The compiled loss summed over the stage outputs with `stage_weights`; updates the stage PSNRs."""
        if sample_weight is not None and not isinstance(self.loss, (losses_lib.PSNRLoss, losses_lib.L1Loss)):
            self._refuse("sample_weight weighs images: it needs a loss of one value per image (psnr, psnr_y, l1).")
        if sample_weight is not None and keras.ops.ndim(sample_weight) != 1:
            self._refuse(f"sample_weight weighs images: one value per image, got shape {sample_weight.shape}.")
        total = 0.0
        for weight, output, psnr in zip(self.stage_weights, outputs, self.stage_psnrs):
            psnr.update_state(target, output)
            total = total + weight * super().compute_loss(y=target, y_pred=output, sample_weight=sample_weight)
        return total

    def _refuse(self, message):
        """Raises ValueError(message) from a step being traced, dropping the step functions: the next `fit` or
        `evaluate` traces new ones (TensorFlow refuses to create the optimizer's variables in a second trace)."""
        self.train_function = self.test_function = None
        raise ValueError(message)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The stage loss of inputs `x` against `y`, as keras-hub's BASNet; `y_pred` (the final image) is not needed."""
        return self.stage_loss(y, self.stage_outputs(x, training=training), sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.final_psnr.update_state(y, y_pred)
        return self.get_metrics_result()

    def train_step(self, *args):  # (data), or (state, data) on JAX
        if keras.config.backend() == "tensorflow":  # one forward pass, one all-reduce (tf_train_step)
            from hinet_tf.models.hinet import tf_train_step

            return tf_train_step.train_step(self, *args)
        return super().train_step(*args)

    def get_config(self):
        # Not chained to super: a functional model's config is its graph, not these arguments.
        return {"backbone": keras.layers.serialize(self.backbone), "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """A task around `HINetBackbone.from_preset(preset, load_weights, **kwargs)` (uncompiled)."""
        return cls(cls.backbone_cls.from_preset(preset, load_weights=load_weights, **kwargs))

    def save_to_preset(self, preset_dir, overwrite=False):
        """Writes the backbone's preset (`config.json`, `model.weights.h5`, `metadata.json`) into `preset_dir`.

        An existing preset there is replaced only with `overwrite`.
        """
        self.backbone.save_to_preset(preset_dir, overwrite)


def image_restorer(model):
    """`model` as a model from images to restored images: a `HINetBackbone` is wrapped in a task.

    Tasks and single-output Keras models are returned as they are.
    """
    if isinstance(model, HINetBackbone):
        return HINetImageRestorer(model)
    if len(getattr(model, "outputs", None) or [None]) != 1:
        raise ValueError(f"{model.name} returns {len(model.outputs)} images; wrap it in a model returning one.")
    return model


def float32_restorer(model):
    """`image_restorer(model)` computing in float32: itself, or a float32 copy of a mixed-precision HINet.

    LiteRT and onnxruntime have no float16 kernels for a mixed-precision graph's casts, and
    TensorFlow runs float16 slowly on a CPU. The model itself is left as it is.
    """
    model = image_restorer(model)
    if model.dtype_policy.compute_dtype == "float32" or not isinstance(model, HINetImageRestorer):
        return model
    backbone = model.backbone
    copy = type(model)(type(backbone).from_config({**backbone.get_config(), "dtype": "float32"}))
    copy.set_weights(model.get_weights())
    return copy
