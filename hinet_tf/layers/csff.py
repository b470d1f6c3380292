"""Cross-stage feature fusion (CSFF)."""

import keras

from hinet_tf.layers.conv import conv2d


@keras.saving.register_keras_serializable(package="hinet_tf")
class CrossStageFeatureFusion(keras.layers.Layer):
    """Fuses stage 1's encoder and decoder features into stage 2's encoder.

    Called on `[encoder_feature, decoder_feature]` (both with `filters` channels at
    the same level), it returns `csff_enc(encoder_feature) + csff_dec(decoder_feature)`,
    two 3x3 convolutions with bias, to be added to stage 2's encoder feature.

    Args:
        filters: channels of the fused features.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.csff_enc = conv2d(filters, 3, name="csff_enc", dtype=self.dtype_policy)
        self.csff_dec = conv2d(filters, 3, name="csff_dec", dtype=self.dtype_policy)

    def build(self, input_shape):
        encoder_shape, decoder_shape = input_shape
        self.csff_enc.build(encoder_shape)
        self.csff_dec.build(decoder_shape)

    def call(self, inputs):
        encoder_feature, decoder_feature = inputs
        return self.csff_enc(encoder_feature) + self.csff_dec(decoder_feature)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}
