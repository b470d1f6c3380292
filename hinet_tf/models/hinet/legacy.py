"""`HINet`, the model class of hinet-tf 0.x: deprecated, kept one release so that its files load and train."""

import warnings

import keras

from hinet_tf.models.hinet.hinet_backbone import HINetBackbone
from hinet_tf.models.hinet.stage_loss_training import StageLossTraining


@keras.saving.register_keras_serializable(package="hinet_tf")
class HINet(StageLossTraining, HINetBackbone):
    """Deprecated: the backbone and its training in one model; use `HINetImageRestorer(HINetBackbone(...))`.

    Takes the arguments of `HINetBackbone` and returns both stage images, as before; its
    layers, weights and saved files are those of hinet-tf 0.x. `to_backbone()` gives the
    equivalent `HINetBackbone` with the same weights.
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(
            "hinet_tf.HINet is deprecated and will be removed in the next release; use "
            "HINetImageRestorer(HINetBackbone(...)) (or HINetBackbone for both stage images).",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)

    def stage_outputs(self, images, training=None):
        return self(images, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        final = y_pred[-1] if isinstance(y_pred, (list, tuple)) else y_pred  # the TF step passes the final image
        return super().compute_metrics(x, y, final, sample_weight)

    def to_backbone(self):
        """The equivalent `HINetBackbone`, holding a copy of the weights."""
        config = self.get_config()
        config["name"] = "hinet_backbone"
        backbone = HINetBackbone.from_config(config)
        backbone.set_weights(self.get_weights())
        return backbone
