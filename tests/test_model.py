"""HINet architecture: sizes, outputs, options and serialisation."""

import numpy as np
import pytest

import keras

from hinet_tf import HINet
from hinet_tf.models.presets import PRESETS


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"width": 64, "hin_levels": (0, 1, 2, 3, 4)}, 88_669_702),
        ({"width": 64, "hin_levels": (3, 4)}, 88_668_806),
        ({"width": 32, "hin_levels": (0, 1, 2, 3, 4)}, 22_176_518),
    ],
)
def test_parameter_counts_equal_the_official_model(kwargs, expected):
    model = HINet(**kwargs)
    assert model.count_params() == expected
    assert len(model.weights) == (198 if kwargs["hin_levels"] == (0, 1, 2, 3, 4) else 186)


def test_outputs_have_the_input_shape_and_float32():
    model = HINet(width=4)
    images = np.random.rand(2, 32, 48, 3).astype("float32")
    outputs = model(images)
    assert len(outputs) == 2
    for output in outputs:
        assert output.shape == images.shape
        assert output.dtype == "float32"


def test_both_outputs_include_the_input_image():
    model = HINet(width=4)
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, "float32"))
    images = np.random.rand(1, 32, 32, 3).astype("float32")
    stage1, stage2 = model(images)
    # With every weight zero the networks add nothing: what remains is the input skip.
    np.testing.assert_array_equal(stage1, images)
    np.testing.assert_array_equal(stage2, images)


def test_inputs_not_a_multiple_of_16_fail_with_the_rule():
    model = HINet(width=4)
    with pytest.raises(ValueError, match="multiples of 16; got 40 x 32"):
        model(np.zeros((1, 40, 32, 3), "float32"))
    shallow = HINet(width=4, depth=3)
    assert shallow.size_multiple == 4
    assert shallow(np.zeros((1, 12, 20, 3), "float32"))[1].shape == (1, 12, 20, 3)


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="Unknown norm"):
        HINet(width=4, norm="weird")
    with pytest.raises(ValueError, match="hin_levels"):
        HINet(width=4, hin_levels=(5,))
    with pytest.raises(ValueError, match="Unknown preset"):
        HINet.from_preset("hinet_3x")


@pytest.mark.parametrize("norm", ["half_instance", "instance", "batch", "sync_batch", "layer", "group", "ibn", "none"])
def test_every_ablation_normalisation_builds_and_runs(norm):
    model = HINet(width=4, norm=norm)
    output = model(np.random.rand(2, 32, 32, 3).astype("float32"), training=True)[-1]
    assert output.shape == (2, 32, 32, 3)
    assert np.isfinite(output).all()
    if norm == "none":
        assert not any("norm" in variable.path for variable in model.weights)


def test_hin_normalisation_weights_sit_only_at_hin_levels():
    model = HINet(width=4, hin_levels=(3, 4))
    normed = sorted({variable.path.split("/")[0] for variable in model.weights if "/norm/" in variable.path})
    assert normed == ["down_path_1_3", "down_path_1_4", "down_path_2_3", "down_path_2_4"]


def test_hinet_simple_has_one_stage_and_no_skips():
    model = HINet.from_preset("hinet_simple", width=4)
    outputs = model(np.random.rand(1, 32, 32, 3).astype("float32"))
    assert len(outputs) == 1
    names = [layer.name for layer in model.layers]
    assert not any(name.startswith("skip_conv") or name.startswith("down_path_2") for name in names)


def test_deeper_and_wider_variants_add_parameters():
    base = HINet(width=4).count_params()
    deeper = HINet(width=4, num_extra_blocks=2)
    assert deeper.count_params() > base
    assert deeper(np.random.rand(1, 32, 32, 3).astype("float32"))[1].shape == (1, 32, 32, 3)
    assert HINet(width=8).count_params() > base


def test_presets_hold_the_official_layouts():
    assert set(PRESETS) >= {
        "hinet_1x", "hinet_0.5x", "hinet_gopro", "hinet_reds", "hinet_rain13k", "hinet_sidd_1x", "hinet_sidd_0.5x",
    }
    assert PRESETS["hinet_gopro"]["config"]["hin_levels"] == (3, 4)
    assert PRESETS["hinet_sidd_0.5x"]["config"]["width"] == 32
    model = HINet.from_preset("hinet_reds", width=4)
    assert model.width == 4 and model.hin_levels == (3, 4)


def test_keras_file_round_trip_is_exact(tmp_path):
    model = HINet(width=4, hin_levels=(1, 2), num_extra_blocks=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="psnr", stage_weights=(0.5, 0.5))
    batch = np.random.rand(2, 32, 32, 3).astype("float32")
    model.train_on_batch(batch, batch)
    path = tmp_path / "hinet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is HINet
    assert loaded.get_config() == model.get_config()
    assert loaded.stage_weights == (0.5, 0.5)
    assert int(loaded.optimizer.iterations) == 1  # the optimizer state comes back too
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(saved, restored)
    images = np.random.rand(1, 32, 48, 3).astype("float32")
    for expected, actual in zip(model(images), loaded(images)):
        np.testing.assert_array_equal(expected, actual)
