"""The transposed convolution: a 1x1 convolution and depth_to_space when stride equals kernel."""

import numpy as np
import pytest
import tensorflow as tf

import keras

from hinet_tf.layers import conv


def _pair(kernel_size, strides, padding):
    """Our layer and Keras' own, built with the same random weights."""
    ours = conv.Conv2DTranspose(5, kernel_size, strides=strides, padding=padding)
    reference = keras.layers.Conv2DTranspose(5, kernel_size, strides=strides, padding=padding)
    for layer in (ours, reference):
        layer.build((None, None, None, 6))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in reference.weights]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


@pytest.mark.parametrize("kernel_size", [2, 3])
def test_stride_equal_to_the_kernel_runs_as_depth_to_space_with_keras_results_and_gradients(kernel_size):
    ours, reference = _pair(kernel_size, kernel_size, "valid")
    assert ours.as_depth_to_space
    images = tf.constant(np.random.default_rng(1).normal(size=(2, 5, 7, 6)).astype("float32"))
    upstream = tf.constant(np.random.default_rng(2).normal(size=(2, 5 * kernel_size, 7 * kernel_size, 5)).astype("float32"))
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(layer(images) * upstream)
        results.append([layer(images), *tape.gradient(loss, [images, *layer.trainable_weights])])
    for ours_value, reference_value in zip(*results):
        np.testing.assert_allclose(ours_value, reference_value, rtol=1e-5, atol=1e-5)


def test_other_strides_keep_the_transposed_convolution():
    ours, reference = _pair(3, 2, "same")
    assert not ours.as_depth_to_space
    images = np.random.default_rng(1).normal(size=(1, 4, 6, 6)).astype("float32")
    np.testing.assert_array_equal(ours(images), reference(images))
