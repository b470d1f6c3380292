"""The real-noise recipe (configs/photo_denoise_camera.yaml): its data rules and its starting weights."""

import numpy as np

from hinet_tf.models import HINetBackbone
from hinet_tf.training import config as config_lib
from hinet_tf.training.trainer import load_initial_weights

RECIPE = "configs/photo_denoise_camera.yaml"


def test_camera_recipe_trains_on_camera_noise_and_validates_on_held_out_photos():
    config = config_lib.load_config(RECIPE)
    assert (config.data.layout, config.data.val_split, config.data.root) == ("photos", "holdout", None)
    assert [spec["type"] for spec in config.data.degradations] == ["camera"]
    assert 0 < config.data.degradations[0]["gaussian_probability"] < 0.5  # mostly camera noise


def test_camera_recipe_starts_from_the_shipped_preset_it_fits():
    config = config_lib.load_config(RECIPE)
    backbone = HINetBackbone(**config.model.to_dict())
    load_initial_weights(backbone, config.train.init_weights)  # raises if the architecture differs
    shipped = HINetBackbone.from_preset("hinet_photo_denoise")
    for loaded, expected in zip(backbone.get_weights(), shipped.get_weights()):
        np.testing.assert_array_equal(loaded, expected)
