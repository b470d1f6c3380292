"""Shared checks for every layer and model, after keras-hub's `TestCase`.

- `run_layer_test`: builds, calls eagerly and symbolically, and checks shapes and weights;
- `run_serialization_test`: `get_config` / `from_config` and `serialize_keras_object`
  round trips give the same config and, with the same weights, the same outputs;
- `run_saving_test`: a `.keras` round trip gives the same class, config and outputs;
- `run_precision_test`: under mixed precision every sublayer, weight and output has the
  policy's dtypes, also after a config round trip.
"""

import json

import keras
import numpy as np

MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


def _numpy(tensors):
    return [keras.ops.convert_to_numpy(tensor) for tensor in keras.tree.flatten(tensors)]


def call_layer(layer, inputs):
    """Calls `layer` on one array, or on a list of arrays as positional arguments (multi-input layers)."""
    return layer(*inputs) if isinstance(inputs, list) else layer(inputs)


def _symbolic(inputs):
    return keras.tree.map_structure(lambda array: keras.KerasTensor(array.shape, "float32"), inputs)


def run_layer_test(cls, init_kwargs, inputs, expected_output_shape, expected_num_weights):
    """Builds `cls(**init_kwargs)` on `inputs` and checks the output shapes, eagerly and symbolically."""
    layer = cls(**init_kwargs)
    outputs = call_layer(layer, inputs)
    assert layer.built
    shapes = [tuple(output.shape) for output in keras.tree.flatten(outputs)]
    expected = _shapes(expected_output_shape)
    assert shapes == expected, (shapes, expected)
    symbolic = keras.tree.flatten(call_layer(layer.compute_output_spec, _symbolic(inputs)))
    assert [tuple(spec.shape) for spec in symbolic] == expected
    assert len(layer.weights) == expected_num_weights, [weight.path for weight in layer.weights]
    assert all(np.isfinite(array).all() for array in _numpy(outputs))
    return layer


def run_serialization_test(instance, inputs):
    """Config and object round trips of a built `instance` give an equal config and, with its weights, its outputs."""
    config = instance.get_config()
    config_json = json.dumps(config, sort_keys=True)
    revived = type(instance).from_config(config)
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(instance)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is type(instance)
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json
    call_layer(revived, inputs)
    revived.set_weights(instance.get_weights())
    for expected, actual in zip(_numpy(call_layer(instance, inputs)), _numpy(call_layer(revived, inputs))):
        np.testing.assert_allclose(actual, expected, atol=1e-6)


def run_saving_test(model, inputs, path):
    """A `.keras` round trip of `model` gives the same class, config and outputs."""
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    for expected, actual in zip(_numpy(model(inputs)), _numpy(loaded(inputs))):
        np.testing.assert_array_equal(actual, expected)
    return loaded


def run_precision_test(cls, init_kwargs, inputs, float32_layers=()):
    """Under each mixed policy, every sublayer, weight and output follows it (also after `from_config`).

    `float32_layers` names the sublayers that compute in float32 on purpose (their outputs
    are float32 too).
    """
    for name in MIXED_POLICIES:
        policy = keras.dtype_policies.get(name)
        layer = cls(**init_kwargs, dtype=policy)
        outputs = call_layer(layer, inputs)
        for candidate in (layer, type(layer).from_config(layer.get_config())):
            call_layer(candidate, inputs)
            assert candidate.dtype_policy.name == name
            assert candidate.get_config()["dtype"]["config"]["name"] == name
            for sublayer in candidate._flatten_layers():
                if isinstance(sublayer, keras.layers.InputLayer):
                    continue
                expected = "float32" if sublayer.name in float32_layers else name
                assert sublayer.dtype_policy.name == expected, (sublayer.path, sublayer.dtype_policy.name)
            for weight in candidate.weights:
                assert weight.dtype == policy.variable_dtype, weight.path
        output_dtype = "float32" if float32_layers else policy.compute_dtype
        for output in keras.tree.flatten(outputs):
            assert keras.backend.standardize_dtype(output.dtype) == output_dtype


def _shapes(expected):
    if isinstance(expected, tuple) and all(isinstance(size, (int, type(None))) for size in expected):
        return [expected]
    return [tuple(shape) for shape in expected]
