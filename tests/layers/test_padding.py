"""Reflect-padding to the size multiple and cropping back, eagerly and in a graph of dynamic shape."""

import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.layers.padding import CropToMatch
from hinet_tf.layers.padding import ReflectPadToMultiple


def test_padding_is_numpy_reflect_padding_eagerly_and_in_a_dynamic_graph():
    images = np.random.default_rng(0).random((2, 21, 35, 3)).astype("float32")
    expected = np.pad(images, ((0, 0), (0, 11), (0, 13), (0, 0)), mode="reflect")
    pad = ReflectPadToMultiple(16)
    np.testing.assert_array_equal(pad(images), expected)
    graph = tf.function(pad, input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    np.testing.assert_array_equal(graph(tf.constant(images)).numpy(), expected)
    np.testing.assert_array_equal(pad(expected), expected)  # multiples pass unchanged


def test_an_image_too_small_to_mirror_is_refused_in_one_line():
    pad = ReflectPadToMultiple(16)
    np.testing.assert_array_equal(pad(np.ones((1, 9, 16, 3), "float32")).shape, (1, 16, 16, 3))  # the smallest
    with pytest.raises(ValueError, match="more than 8 pixels high and wide to be reflect-padded to multiples of 16; got height 8"):
        pad(np.ones((1, 8, 16, 3), "float32"))


def test_crop_takes_the_reference_height_and_width():
    images = np.arange(2 * 32 * 48 * 3, dtype="float32").reshape(2, 32, 48, 3)
    cropped = CropToMatch()(images, np.zeros((2, 21, 35, 1), "float32"))
    np.testing.assert_array_equal(cropped, images[:, :21, :35])


def test_sizes_known_to_be_multiples_add_no_padding_ops():
    pad = ReflectPadToMultiple(16)
    graph = tf.function(pad, input_signature=[tf.TensorSpec((1, 32, 48, 3), tf.float32)]).get_concrete_function()
    assert "ConcatV2" not in {operation.type for operation in graph.graph.get_operations()}
    half = tf.function(pad, input_signature=[tf.TensorSpec((1, 32, None, 3), tf.float32)]).get_concrete_function()
    assert [operation.type for operation in half.graph.get_operations()].count("ConcatV2") == 1
