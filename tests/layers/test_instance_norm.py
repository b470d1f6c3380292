"""InstanceNormalization against Keras' GroupNormalization with one channel per group, and PyTorch's InstanceNorm2d."""

import keras
import numpy as np
import pytest

from hinet_tf.layers import InstanceNormalization


def _pair(dtype="float32"):
    rng = np.random.default_rng(0)
    images = (rng.normal(2.0, 3.0, (2, 7, 9, 6))).astype("float32")
    ours = InstanceNormalization(dtype=dtype)
    keras_norm = keras.layers.GroupNormalization(groups=6, epsilon=1e-5, dtype=dtype)
    ours.build(images.shape)
    keras_norm.build(images.shape)
    weights = [rng.normal(size=6).astype("float32") for _ in range(2)]
    ours.set_weights(weights)
    keras_norm.set_weights(weights)
    return ours, keras_norm, images


@pytest.mark.parametrize("dtype", ["float32", "mixed_float16"])
def test_it_equals_group_normalization_with_one_channel_per_group(dtype):
    ours, keras_norm, images = _pair(dtype)
    expected = keras.ops.convert_to_numpy(keras_norm(images))
    restored = keras.ops.convert_to_numpy(ours(images))
    assert restored.dtype == expected.dtype == (np.float16 if dtype == "mixed_float16" else np.float32)
    np.testing.assert_allclose(restored.astype("float32"), expected.astype("float32"), atol=1e-6)


def test_it_equals_torch_instance_norm():
    torch = pytest.importorskip("torch")
    ours, _, images = _pair()
    norm = torch.nn.InstanceNorm2d(6, affine=True)
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(ours.get_weights()[0]))
        norm.bias.copy_(torch.from_numpy(ours.get_weights()[1]))
        expected = norm(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(images)), expected, atol=1e-5)


def test_its_config_has_no_groups_to_get_wrong():
    config = InstanceNormalization(epsilon=1e-4).get_config()
    assert "groups" not in config and "axis" not in config and config["epsilon"] == 1e-4
    assert InstanceNormalization.from_config(config).get_config() == config
    with pytest.raises(TypeError, match="groups"):  # one group per channel, always
        InstanceNormalization(groups=3)
