"""The 8 flips and rotations: one numbering for training augmentation and test-time augmentation."""

import numpy as np
import pytest
import tensorflow as tf

from hinet_tf.data import augment
from hinet_tf.utils import dihedral


def test_eight_distinct_maps_each_undone_by_its_inverse():
    images = tf.random.uniform((2, 5, 7, 3))
    outputs = set()
    for index in range(dihedral.NUM_TRANSFORMS):
        transformed = dihedral.transform(images, index)
        assert transformed.shape == ((2, 5, 7, 3) if index < 4 else (2, 7, 5, 3))
        np.testing.assert_array_equal(dihedral.inverse_transform(transformed, index), images)
        outputs.add(transformed.numpy().tobytes())
    assert len(outputs) == dihedral.NUM_TRANSFORMS
    assert [index for group in dihedral.SHAPE_GROUPS for index in group] == list(range(8))


def test_the_numbering_by_hand():
    image = np.arange(6).reshape(2, 3, 1)  # rows [0 1 2] and [3 4 5]
    expected = {
        0: [[0, 1, 2], [3, 4, 5]],
        1: [[3, 4, 5], [0, 1, 2]],  # up-down
        2: [[2, 1, 0], [5, 4, 3]],  # left-right
        3: [[5, 4, 3], [2, 1, 0]],  # both: a half turn
        4: [[0, 3], [1, 4], [2, 5]],  # transpose
        6: [[2, 5], [1, 4], [0, 3]],  # left-right, then transpose: a quarter turn anticlockwise
    }
    for index, values in expected.items():
        np.testing.assert_array_equal(dihedral.transform(image, index)[..., 0], values)


def test_a_tensor_index_inside_a_graph_matches_the_python_index():
    image = tf.random.uniform((6, 6, 3))
    traced = tf.function(dihedral.transform, input_signature=[tf.TensorSpec((None, None, 3)), tf.TensorSpec((), tf.int32)])
    for index in range(dihedral.NUM_TRANSFORMS):
        np.testing.assert_array_equal(traced(image, tf.constant(index)), dihedral.transform(image, index))


def test_augmentation_transform_k_is_test_time_transform_k_and_its_inverse_undoes_it():
    degraded, target = tf.random.uniform((8, 8, 3)), tf.random.uniform((8, 8, 3))
    for index in range(dihedral.NUM_TRANSFORMS):
        augmented = augment.dihedral_pair(degraded, target, tf.constant(index))
        for image, result in zip((degraded, target), augmented):
            np.testing.assert_array_equal(result, dihedral.transform(image[None], index)[0])  # TTA's batched call
            np.testing.assert_array_equal(dihedral.inverse_transform(result[None], index)[0], image)


def test_random_augmentation_draws_every_transform_identically_for_both_images():
    degraded = tf.reshape(tf.range(16 * 3, dtype=tf.float32), (4, 4, 3))
    transforms = [dihedral.transform(degraded, index).numpy().tobytes() for index in range(8)]
    drawn = set()
    for _ in range(80):
        augmented, target = augment.random_dihedral_pair(degraded, degraded + 1)
        np.testing.assert_array_equal(target, augmented + 1)
        drawn.add(transforms.index(augmented.numpy().tobytes()))
    assert drawn == set(range(8))  # 80 draws miss one of 8 with probability 8 * (7/8)^80 < 1e-4


def test_an_index_out_of_range_is_refused():
    with pytest.raises(ValueError, match="0..7, got 8"):
        dihedral.transform(tf.zeros((2, 2, 1)), 8)
