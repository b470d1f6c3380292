"""The building blocks: HIN statistics, CSFF, PyTorch initialisation, reuse in user models (the harness: test_every_layer)."""

import numpy as np
import pytest

import keras

from hinet_tf import layers
from hinet_tf.models import HINetBackbone

def test_encoder_block_returns_downsampled_and_skip():
    block = layers.EncoderBlock(6, downsample=True)
    down, skip = block(np.random.rand(1, 16, 24, 3).astype("float32"))
    assert down.shape == (1, 8, 12, 6)
    assert skip.shape == (1, 16, 24, 6)
    assert block.downsample.use_bias is False


def test_encoder_block_with_csff_adds_both_stage1_features():
    block = layers.EncoderBlock(4, downsample=True, use_csff=True)
    x, encoder_feature, decoder_feature = (np.random.rand(1, 8, 8, 4).astype("float32") for _ in range(3))
    _, with_features = block(x, encoder_feature, decoder_feature)
    _, with_zeros = block(x, np.zeros_like(encoder_feature), np.zeros_like(decoder_feature))
    expected = block.csff(encoder_feature, decoder_feature) - block.csff(encoder_feature * 0, decoder_feature * 0)
    np.testing.assert_allclose(with_features - with_zeros, expected, atol=1e-5)
    with pytest.raises(ValueError, match="CSFF"):
        layers.EncoderBlock(4, use_csff=True)


def test_half_instance_norm_normalises_only_the_first_half():
    layer = layers.HalfInstanceNormalization()
    rng = np.random.default_rng(0)
    images = (rng.normal(3.0, 5.0, size=(2, 16, 16, 8)) * rng.uniform(0.5, 2.0, size=(2, 1, 1, 8))).astype("float32")
    output = np.asarray(layer(images))
    first, second = output[..., :4], output[..., 4:]
    # Per sample and channel, over height and width, with the biased variance and eps 1e-5.
    np.testing.assert_allclose(first.mean(axis=(1, 2)), 0.0, atol=1e-4)
    variance = images[..., :4].var(axis=(1, 2))
    np.testing.assert_allclose(first.std(axis=(1, 2)), np.sqrt(variance / (variance + 1e-5)), rtol=1e-4)
    np.testing.assert_array_equal(second, images[..., 4:])
    assert [tuple(w.shape) for w in layer.weights] == [(4,), (4,)]
    # The affine parameters act on the normalised half only.
    layer.instance_norm.gamma.assign(np.full(4, 2.0, "float32"))
    layer.instance_norm.beta.assign(np.full(4, -1.0, "float32"))
    shifted = np.asarray(layer(images))
    np.testing.assert_allclose(shifted[..., :4], 2.0 * first - 1.0, atol=1e-4)
    np.testing.assert_array_equal(shifted[..., 4:], images[..., 4:])


def test_half_instance_norm_equals_instance_norm_on_the_first_half_and_passes_gradients_through_the_second():
    import tensorflow as tf

    layer = layers.HalfInstanceNormalization()
    rng = np.random.default_rng(1)
    images = tf.constant(rng.normal(0.5, 3.0, size=(2, 12, 10, 8)).astype("float32"))
    layer.build(images.shape)
    layer.instance_norm.gamma.assign(rng.normal(1.0, 0.5, 4).astype("float32"))
    layer.instance_norm.beta.assign(rng.normal(0.0, 0.5, 4).astype("float32"))
    upstream = tf.constant(rng.normal(size=images.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(images)
        output = layer(images)
        loss = tf.reduce_sum(output * upstream)
    gradient = tape.gradient(loss, images).numpy()
    # The instance norm of the sliced half, up to the reduction order of the moments.
    np.testing.assert_allclose(output[..., :4], layer.instance_norm(images[..., :4]), rtol=0, atol=1e-6)
    # The kept half is the identity: its gradient is the upstream gradient, unchanged.
    np.testing.assert_array_equal(gradient[..., 4:], upstream.numpy()[..., 4:])


def test_half_instance_norm_uses_the_same_statistics_in_training_and_inference():
    layer = layers.HalfInstanceNormalization()
    images = np.random.rand(2, 8, 8, 4).astype("float32") * 7
    np.testing.assert_allclose(layer(images, training=True), layer(images, training=False), atol=1e-6)
    assert not layer.non_trainable_weights


def test_half_instance_norm_rejects_odd_channels():
    with pytest.raises(ValueError, match="even"):
        layers.HalfInstanceNormalization()(np.zeros((1, 4, 4, 3), "float32"))


def test_user_functional_model_from_the_layers_trains_one_step():
    inputs = keras.Input((None, None, 3))
    features = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    down, skip = layers.EncoderBlock(8, downsample=True)(features)
    bottom = layers.EncoderBlock(16)(down)
    decoded = layers.DecoderBlock(8)(bottom, skip)
    attended, image = layers.SupervisedAttention(8)(decoded, inputs)
    outputs = keras.layers.Conv2D(3, 3, padding="same")(attended) + image
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    x = np.random.rand(4, 16, 16, 3).astype("float32")
    history = model.fit(x, x, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_biases_start_as_pytorch_initialises_them():
    """Conv2d and ConvTranspose2d biases: uniform on +-1/sqrt(fan_in), fan_in as PyTorch computes it."""
    torch = pytest.importorskip("torch")
    from hinet_tf.convert import to_pytorch_state_dict
    from hinet_tf.convert.official_torch import HINet as OfficialHINet

    keras.utils.set_random_seed(0)
    ours = to_pytorch_state_dict(HINetBackbone(width=8, hin_levels=(0, 1, 2, 3, 4)))
    official = OfficialHINet(8, 5, (0, 1, 2, 3, 4)).state_dict()
    biases = [key for key in official if key.endswith(".bias") and ".norm." not in key]
    assert len(biases) > 50
    for key in biases:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(official[key.replace(".bias", ".weight")])
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(ours[key]).max() <= bound, key
        if ours[key].size >= 32:  # spread over the whole interval, not a narrower one
            assert np.abs(ours[key]).max() > 0.8 * bound, key
            assert np.std(ours[key]) == pytest.approx(bound / np.sqrt(3), rel=0.35), key
