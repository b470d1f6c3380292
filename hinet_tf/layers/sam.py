"""Supervised attention module (SAM) between the two stages."""

import keras
from keras import ops

from hinet_tf.layers.conv import conv2d


@keras.saving.register_keras_serializable(package="hinet_tf")
class SupervisedAttention(keras.layers.Layer):
    """Turns stage 1's features into an image and attention-weighted features.

    Called on `[features, degraded_image]`, it returns `(features_out, image)` with
    `image = conv2(features) + degraded_image` (stage 1's restored image) and
    `features_out = conv1(features) * sigmoid(conv3(image)) + features`.

    Args:
        filters: channels of the features.
        image_channels: channels of the image.
    """

    def __init__(self, filters, image_channels=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.image_channels = image_channels
        self.conv1 = conv2d(filters, 3, name="conv1", dtype=self.dtype_policy)
        self.conv2 = conv2d(image_channels, 3, name="conv2", dtype=self.dtype_policy)
        self.conv3 = conv2d(filters, 3, name="conv3", dtype=self.dtype_policy)

    def build(self, input_shape):
        feature_shape, image_shape = input_shape
        self.conv1.build(feature_shape)
        self.conv2.build(feature_shape)
        self.conv3.build(image_shape)

    def call(self, inputs):
        features, degraded = inputs
        image = self.conv2(features) + ops.cast(degraded, self.compute_dtype)
        attention = ops.sigmoid(self.conv3(image))
        return self.conv1(features) * attention + features, image

    def compute_output_shape(self, input_shape):
        feature_shape, image_shape = input_shape
        return tuple(feature_shape), tuple(image_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "image_channels": self.image_channels}
