"""The HINet restoration task: any image size in, the final restored image out; owns training."""

import keras

from hinet_tf.layers.padding import CropToMatch
from hinet_tf.layers.padding import ReflectPadToMultiple
from hinet_tf.models.hinet.hinet_backbone import HINetBackbone
from hinet_tf.models.hinet.legacy import HINet
from hinet_tf.models.hinet.stage_loss_training import StageLossTraining


@keras.saving.register_keras_serializable(package="hinet_tf")
class HINetImageRestorer(StageLossTraining, keras.Model):
    """Restores NHWC float images in [0, 1] of any height and width with a `HINetBackbone`.

    `__call__` and `predict` return the final stage's image only. Inside the graph, images
    are reflect-padded at the bottom and right to the backbone's size multiple and the
    result is cropped back (height and width must be at least that multiple, 16).
    Training (`compile`, `fit`) sums the loss over every stage (`StageLossTraining`).

    Args:
        backbone: a `HINetBackbone`.

    Example:
    ```python
    restorer = HINetImageRestorer.from_preset("hinet_photo_denoise")
    restored = restorer.predict(noisy_images)              # any height and width

    restorer = HINetImageRestorer(HINetBackbone(width=16))
    restorer.compile(loss="psnr", stage_weights=(0.5, 0.5))  # TorchAdam, clip 0.01
    restorer.fit(dataset_of_degraded_target_pairs, epochs=1)
    ```
    """

    backbone_cls = HINetBackbone

    def __init__(self, backbone, name="hinet_image_restorer", **kwargs):
        # === Layers ===
        pad = ReflectPadToMultiple(backbone.size_multiple, dtype="float32", name="reflect_pad")
        crop = CropToMatch(dtype="float32", name="crop")

        # === Functional Model ===
        images = keras.Input((None, None, backbone.in_channels), name="images")
        restored = crop(backbone(pad(images))[-1], images)
        super().__init__(inputs=images, outputs=restored, name=name, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.pad = pad
        self.crop = crop
        self.dtype_policy = backbone.dtype_policy

    @property
    def size_multiple(self):
        """Inputs are padded to multiples of this inside the graph."""
        return self.backbone.size_multiple

    @property
    def num_stages(self):
        return self.backbone.num_stages

    def stage_outputs(self, images, training=None):
        """Every stage's restored image, each cropped to the input's size."""
        return [self.crop(output, images) for output in self.backbone(self.pad(images), training=training)]

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

    def save_to_preset(self, preset_dir):
        """Writes the backbone's preset (`config.json`, `model.weights.h5`, `metadata.json`) into `preset_dir`."""
        self.backbone.save_to_preset(preset_dir)


def image_restorer(model):
    """`model` as a model from images to restored images: a `HINetBackbone` is wrapped in a task.

    A deprecated `HINet` becomes a task around its backbone; tasks and single-output
    Keras models are returned as they are.
    """
    if isinstance(model, HINet):
        model = model.to_backbone()
    if isinstance(model, HINetBackbone):
        return HINetImageRestorer(model)
    if len(getattr(model, "outputs", None) or [None]) != 1:
        raise ValueError(f"{model.name} returns {len(model.outputs)} images; wrap it in a model returning one.")
    return model
