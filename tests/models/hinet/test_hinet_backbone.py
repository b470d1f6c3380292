"""HINetBackbone: sizes, outputs, options, dtype policies and serialisation."""

import json

import numpy as np
import pytest

import keras

from helpers import layer_harness
from hinet_tf.models import HINetBackbone
from hinet_tf.models import HINetImageRestorer

OUTPUT_LAYERS = ("stage1_image", "stage2_image")  # the input image is added back in float32


def _images(batch=1, height=32, width=32, seed=0):
    return np.random.default_rng(seed).random((batch, height, width, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"width": 64, "hin_levels": (0, 1, 2, 3, 4)}, 88_669_702),
        ({"width": 64, "hin_levels": (3, 4)}, 88_668_806),
        ({"width": 32, "hin_levels": (0, 1, 2, 3, 4)}, 22_176_518),
    ],
)
def test_parameter_counts_equal_the_official_model(kwargs, expected):
    backbone = HINetBackbone(**kwargs)
    assert backbone.count_params() == expected
    assert len(backbone.weights) == (198 if kwargs["hin_levels"] == (0, 1, 2, 3, 4) else 186)


def test_outputs_have_the_input_shape_and_float32():
    outputs = HINetBackbone(width=4)(_images(2, 32, 48))
    assert [tuple(output.shape) for output in outputs] == [(2, 32, 48, 3)] * 2
    assert all(output.dtype == "float32" for output in outputs)


def test_both_outputs_include_the_input_image():
    backbone = HINetBackbone(width=4)
    for variable in backbone.weights:
        variable.assign(np.zeros(variable.shape, "float32"))
    images = _images()
    stage1, stage2 = backbone(images)
    np.testing.assert_array_equal(stage1, images)  # every weight zero: only the input skip remains
    np.testing.assert_array_equal(stage2, images)


def test_inputs_not_a_multiple_of_16_fail_with_the_rule():
    with pytest.raises(ValueError, match="multiples of 16; got 40 x 32"):
        HINetBackbone(width=4)(np.zeros((1, 40, 32, 3), "float32"))
    shallow = HINetBackbone(width=4, depth=3)
    assert shallow.size_multiple == 4
    assert shallow(np.zeros((1, 12, 20, 3), "float32"))[1].shape == (1, 12, 20, 3)


def test_integer_images_are_refused_with_the_conversion():
    with pytest.raises(ValueError, match="float images in \\[0, 1\\], got uint8: convert them with `images / 255`"):
        HINetBackbone(width=4, depth=3)(np.zeros((1, 16, 16, 3), "uint8"))


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown norm"):
        HINetBackbone(width=4, norm="weird")
    with pytest.raises(ValueError, match="hin_levels"):
        HINetBackbone(width=4, hin_levels=(5,))
    with pytest.raises(ValueError, match="num_stages"):
        HINetBackbone(width=4, num_stages=3)
    for arguments, message in (
        ({"width": 0}, "width must be an integer of at least 1, got 0"),
        ({"width": "4"}, "width must be an integer of at least 1, got '4'"),
        ({"width": 4, "in_channels": 0}, "in_channels must be an integer of at least 1, got 0"),
        ({"width": 4, "num_extra_blocks": -1}, "num_extra_blocks must be an integer of at least 0"),
        ({"width": 4, "hin_levels": 3}, "hin_levels must be a list of levels or None, got 3"),
        ({"width": 5, "depth": 3}, "width must be even with norm 'half_instance'"),
    ):
        with pytest.raises(ValueError, match=message):
            HINetBackbone(**arguments)
    assert HINetBackbone(width=5, depth=3, hin_levels=(1, 2)).count_params() > 0  # halves of 10 and 20 channels
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to HINetBackbone: widht"):
        HINetBackbone(widht=4, depth=3)  # keras.Model would drop it and build the default width
    with pytest.raises(ValueError, match="skip_connections must be True or False, got 'no'"):
        HINetBackbone(width=4, depth=3, skip_connections="no")
    swept = HINetBackbone(width=np.int64(4), depth=np.int64(3), num_stages=np.int64(2), skip_connections=np.bool_(1))
    assert json.loads(json.dumps(swept.get_config()))["width"] == 4  # a numpy sweep's sizes, stored as JSON types
    with pytest.raises(ValueError, match="num_stages must be 1 or 2, got True"):
        HINetBackbone(width=4, depth=3, num_stages=True)
    with pytest.raises(ValueError, match="relu_slope must be a number, got 'x'"):
        HINetBackbone(width=4, depth=3, relu_slope="x")
    with pytest.raises(ValueError, match="dtype must be a floating-point type or policy, got 'int32'"):
        HINetBackbone(width=4, depth=3, dtype="int32")
    assert swept.count_params() == HINetBackbone(width=4, depth=3).count_params()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to HINetImageRestorer: foo"):
        HINetImageRestorer(HINetBackbone(width=4, depth=3), foo=3)
    with pytest.raises(ValueError, match="HINetImageRestorer takes a HINetBackbone, got None"):
        HINetImageRestorer(None)


@pytest.mark.parametrize("norm", ["half_instance", "instance", "batch", "sync_batch", "layer", "group", "ibn", "none"])
def test_every_ablation_normalisation_builds_and_runs(norm):
    backbone = HINetBackbone(width=4, norm=norm)
    output = backbone(_images(2), training=True)[-1]
    assert output.shape == (2, 32, 32, 3)
    assert np.isfinite(output).all()
    if norm == "none":
        assert not any("norm" in variable.path for variable in backbone.weights)


def test_hin_normalisation_weights_sit_only_at_hin_levels():
    backbone = HINetBackbone(width=4, hin_levels=(3, 4))
    normed = sorted({variable.path.split("/")[0] for variable in backbone.weights if "/norm/" in variable.path})
    assert normed == ["down_path_1_3", "down_path_1_4", "down_path_2_3", "down_path_2_4"]


def test_hinet_simple_has_one_stage_and_no_skips():
    backbone = HINetBackbone.from_preset("hinet_simple", load_weights=False, width=4)
    assert backbone(_images(batch=2)).shape == (2, 32, 32, 3)  # the one stage's image, not a list
    names = [layer.name for layer in backbone.layers]
    assert not any(name.startswith(("skip_conv", "down_path_2")) for name in names)


def test_deeper_and_wider_variants_add_parameters():
    base = HINetBackbone(width=4).count_params()
    deeper = HINetBackbone(width=4, num_extra_blocks=2)
    assert deeper.count_params() > base
    assert deeper(_images())[1].shape == (1, 32, 32, 3)
    assert HINetBackbone(width=8).count_params() > base


def test_layer_names_follow_the_official_state_dict():
    names = {layer.name for layer in HINetBackbone(width=4).layers}
    assert {"conv_01", "conv_02", "sam12", "cat12", "last", "down_path_1_0", "up_path_2_3", "skip_conv_1_0"} <= names


def test_backbone_passes_the_layer_harness(tmp_path):
    images = _images()
    backbone = HINetBackbone(width=4, depth=3, hin_levels=(1, 2), num_extra_blocks=1)
    backbone(images)
    layer_harness.run_serialization_test(backbone, images)
    layer_harness.run_saving_test(backbone, images, tmp_path / "backbone.keras")
    layer_harness.run_precision_test(HINetBackbone, {"width": 4, "depth": 3}, images, float32_layers=OUTPUT_LAYERS)


def test_mixed_float16_stays_the_policy_after_config_and_file_round_trips(tmp_path):
    """Problem 2 of issue 14: the model's policy and config said float32, and reloads built float32 layers."""
    backbone = HINetBackbone(width=8, dtype="mixed_float16")
    assert backbone.dtype_policy.name == "mixed_float16"
    assert backbone.get_config()["dtype"]["config"]["name"] == "mixed_float16"
    backbone.save(tmp_path / "mixed.keras")
    for revived in (HINetBackbone.from_config(backbone.get_config()), keras.saving.load_model(tmp_path / "mixed.keras")):
        assert revived.dtype_policy.name == "mixed_float16"
        policies = {layer.name: layer.dtype_policy.name for layer in revived._flatten_layers() if layer is not revived}
        policies = {name: policy for name, policy in policies.items() if name not in ("degraded", *OUTPUT_LAYERS)}
        assert set(policies.values()) == {"mixed_float16"}, policies
        assert revived.get_layer("down_path_1_0").conv_1.compute_dtype == "float16"
